// The agent protocol's names, shared by numasoak-workload (which sends) and
// the host's telemetry parser (which reads): message types, counter names,
// limits. guest/PROTOCOL.md describes the messages. Pure: no OS headers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace numasoak::nsw::protocol {

inline constexpr int kVersion = 1;

// The guest never sends a longer line (newline included); the host drops
// longer ones unparsed.
inline constexpr std::size_t kMaxLine = 4096;

namespace type {
inline constexpr std::string_view kStarted = "started";
inline constexpr std::string_view kHeartbeat = "heartbeat";
inline constexpr std::string_view kIntegrityError = "integrity_error";
inline constexpr std::string_view kConfigError = "config_error";
inline constexpr std::string_view kWarning = "warning";
inline constexpr std::string_view kFinished = "finished";
}  // namespace type

// Heartbeat "vmstat" object: deltas of these /proc/vmstat counters (only
// those the kernel exports).
inline constexpr std::array<std::string_view, 12> kVmstatCounters = {
    "numa_pte_updates",    "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local",
    "numa_pages_migrated", "pgmigrate_success",     "pgmigrate_fail",   "thp_migration_success",
    "thp_migration_fail",  "thp_migration_split",   "thp_fault_alloc",  "thp_split_pmd",
};

// Heartbeat "ops" object: deltas of what the workload's stressors did.
#define NUMASOAK_NSW_OPS(X)                                                                        \
  X(touch_passes)        /* toucher passes over a whole region */                                 \
  X(touch_writes)        /* toucher writes (one per stride) */                                    \
  X(mp_calls)            /* move_pages(2) calls */                                                \
  X(mp_moved)            /* 2 MiB blocks move_pages reported on the target node */                 \
  X(mp_failed)           /* blocks move_pages could not move (negative status) */                  \
  X(mbind_calls)         /* mbind(MPOL_MF_MOVE) rounds */                                         \
  X(migrate_pages_calls) /* migrate_pages(2) rounds */                                             \
  X(migrate_errors)      /* failed move_pages/mbind/migrate_pages syscalls */                      \
  X(uffd_wp_ioctls)      /* UFFDIO_WRITEPROTECT calls (protect + unprotect) */                     \
  X(uffd_wp_faults)      /* write-protect faults resolved by the handler */                       \
  X(uffd_errors)         /* failed userfaultfd ioctls */                                          \
  X(mprotect_calls)      /* mprotect flips */                                                     \
  X(splits)              /* THPs split by a 4 KiB mprotect */                                     \
  X(collapses)           /* successful MADV_COLLAPSE */                                           \
  X(collapse_errors)     /* failed MADV_COLLAPSE */                                               \
  X(pages_checked)       /* pages verified by the integrity checker */                            \
  X(verify_passes)       /* full verification passes */                                           \
  X(integrity_events)    /* bad ranges found */                                                   \
  X(integrity_pages)     /* pages in those ranges */                                              \
  X(worker_restarts)     /* workers that died and were started again */

inline constexpr std::array kOpCounters = {
#define NUMASOAK_NSW_OP_NAME(name) std::string_view(#name),
    NUMASOAK_NSW_OPS(NUMASOAK_NSW_OP_NAME)
#undef NUMASOAK_NSW_OP_NAME
};

// Heartbeat "kernel" object: deltas of the numasoak kernel's own counters,
// present only on kernels with the race-window amplifier
// (/sys/module/numasoak/parameters/race_widen_hits).
inline constexpr std::array<std::string_view, 1> kKernelCounters = {"race_widen_hits"};

// finished.status values.
namespace status {
inline constexpr std::string_view kOk = "ok";                           // ran the whole duration, memory intact
inline constexpr std::string_view kIntegrityErrors = "integrity_errors";  // ran, found lost/corrupt memory
inline constexpr std::string_view kConfigError = "config_error";          // could not run: see config_error
inline constexpr std::string_view kError = "error";                       // the workload itself broke
}  // namespace status

}  // namespace numasoak::nsw::protocol
