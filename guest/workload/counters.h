// OpCounters: what the stressors did, counted by every worker process into
// one block of shared memory the agent reads for its heartbeats.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace numasoak::guest {

#define NUMASOAK_GUEST_OPS(X)                                                                       \
  X(touch_passes)        /* toucher passes over a whole region */                                  \
  X(touch_writes)        /* toucher writes (one per stride) */                                     \
  X(mp_calls)            /* move_pages(2) calls that moved something */                            \
  X(mp_moved)            /* 2 MiB blocks move_pages reported on the target node */                  \
  X(mp_failed)           /* blocks move_pages could not move (negative status) */                   \
  X(mbind_calls)         /* mbind(MPOL_MF_MOVE) rounds */                                          \
  X(migrate_pages_calls) /* migrate_pages(2) rounds */                                              \
  X(migrate_errors)      /* failed move_pages/mbind/migrate_pages syscalls */                       \
  X(uffd_wp_ioctls)      /* UFFDIO_WRITEPROTECT calls (protect + unprotect) */                      \
  X(uffd_wp_faults)      /* write-protect faults resolved by the handler */                        \
  X(uffd_errors)         /* failed userfaultfd ioctls */                                           \
  X(mprotect_calls)      /* mprotect flips */                                                      \
  X(splits)              /* THPs split by a 4 KiB mprotect */                                      \
  X(collapses)           /* successful MADV_COLLAPSE */                                            \
  X(collapse_errors)     /* failed MADV_COLLAPSE (EINVAL on kernels without it) */                 \
  X(pages_checked)       /* pages verified by the integrity checker */                             \
  X(verify_passes)       /* full verification passes */                                            \
  X(integrity_events)    /* bad ranges found */                                                    \
  X(integrity_pages)     /* pages in those ranges */                                               \
  X(worker_restarts)     /* workers that died and were started again */

enum class Op : std::size_t {
#define NUMASOAK_GUEST_OP_ENUM(name) name,
  NUMASOAK_GUEST_OPS(NUMASOAK_GUEST_OP_ENUM)
#undef NUMASOAK_GUEST_OP_ENUM
};

inline constexpr std::array kOpNames = {
#define NUMASOAK_GUEST_OP_NAME(name) std::string_view(#name),
    NUMASOAK_GUEST_OPS(NUMASOAK_GUEST_OP_NAME)
#undef NUMASOAK_GUEST_OP_NAME
};

inline constexpr std::size_t kOpCount = kOpNames.size();

// Lives in MAP_SHARED memory created before the workers fork; lock-free
// atomics work across processes.
struct OpCounters {
  std::array<std::atomic<std::uint64_t>, kOpCount> value{};

  void add(Op op, std::uint64_t n = 1) { value[static_cast<std::size_t>(op)].fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t get(Op op) const { return value[static_cast<std::size_t>(op)].load(std::memory_order_relaxed); }
  std::array<std::uint64_t, kOpCount> snapshot() const {
    std::array<std::uint64_t, kOpCount> out{};
    for (std::size_t i = 0; i < kOpCount; ++i) out[i] = value[i].load(std::memory_order_relaxed);
    return out;
  }
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "cross-process counters need lock-free atomics");

}  // namespace numasoak::guest
