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
inline constexpr std::string_view kProtectionError = "protection_error";
inline constexpr std::string_view kMatrix = "matrix";
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
  X(worker_restarts)     /* workers that died and were started again */                          \
  X(walker_ops)          /* transitions worker: change_protection() walks it issued */             \
  X(transition_ops)      /* transitions worker: PMD transitions it caused */                       \
  X(oracle_checks)       /* protection oracle: writes that must trap (uffd-wp) or fault (PROT_READ) */ \
  X(protection_events)   /* ... that went through: protection lost */ \
  X(colo_walks)          /* co-location (workload/colocation.h): walks of tracked PMDs (own uffd-wp + NUMA scan passes) */ \
  X(colo_scan_walks)     /* ... of which NUMA scan passes x PMDs of the scanned mm */ \
  X(colo_migrations)     /* migrations of tracked PMDs the workload saw land (move_pages, mbind, migrate_pages) */ \
  X(colo_hint_migrations) /* thp_migration_success minus colo_migrations: hint-fault migrations (inferred) */ \
  X(colo_mpairs)         /* 1000 x sum over PMDs of walks x observed migrations in the interval */ \
  X(colo_hint_mpairs)    /* 1000 x sum over PMDs of walks x hint migrations spread evenly (inferred) */

inline constexpr std::array kOpCounters = {
#define NUMASOAK_NSW_OP_NAME(name) std::string_view(#name),
    NUMASOAK_NSW_OPS(NUMASOAK_NSW_OP_NAME)
#undef NUMASOAK_NSW_OP_NAME
};

// Heartbeat "kernel" object: deltas of the race-window amplifier's counters,
// present only when one is there. race_widen_hits: delays taken, by the
// source patch (/sys/module/numasoak/parameters/race_widen_hits) or by the
// outside amplifier (/sys/module/numasoak_widen/parameters/hits); the outside
// amplifier's proof counters: widen_irqs_off, delays taken with interrupts off
// (they do not widen this window: the kprobe was not optimized), and
// widen_landed, PMD migration entries installed on the very pmd a walker was
// delayed on, during its delay.
inline constexpr std::array<std::string_view, 3> kKernelCounters = {"race_widen_hits", "widen_irqs_off",
                                                                     "widen_landed"};

// The walker x transition matrix (the transitions worker, guest/README.md).
// A cell counts the walks of one kind issued on a 2 MiB block while a
// transition of one kind was in flight on the same block of one kind of
// memory; the NUMA row counts the transitions done in heartbeat intervals in
// which NUMA balancing updated page table entries (the scanner cannot be
// asked which block it walks). Sent as a "matrix" message of non-zero cell
// deltas, keyed "<walker>.<transition>.<memory>".
#define NUMASOAK_NSW_WALKERS(X) X(numa) X(wp_set) X(wp_resolve) X(unregister) X(mprotect)
#define NUMASOAK_NSW_TRANSITIONS(X) X(migrate) X(zap) X(split) X(collapse) X(fault)
#define NUMASOAK_NSW_MEMORY(X) X(anon) X(shmem)

#define NUMASOAK_NSW_NAME(name) std::string_view(#name),
inline constexpr std::array kWalkers = {NUMASOAK_NSW_WALKERS(NUMASOAK_NSW_NAME)};
inline constexpr std::array kTransitions = {NUMASOAK_NSW_TRANSITIONS(NUMASOAK_NSW_NAME)};
inline constexpr std::array kMemory = {NUMASOAK_NSW_MEMORY(NUMASOAK_NSW_NAME)};
#undef NUMASOAK_NSW_NAME
inline constexpr std::size_t kMatrixCells = kWalkers.size() * kTransitions.size() * kMemory.size();

// Cell index of (walker, transition, memory).
inline constexpr std::size_t matrix_cell(std::size_t walker, std::size_t transition, std::size_t memory) {
  return (walker * kTransitions.size() + transition) * kMemory.size() + memory;
}

// Cells the kernel cannot exercise, and why (shown instead of "0").
inline constexpr std::string_view matrix_impossible(std::size_t walker, std::size_t /*transition*/,
                                                    std::size_t memory) {
  if (kWalkers[walker] == "numa" && kMemory[memory] == "shmem")
    return "NUMA balancing skips shmem VMAs without a MPOL_F_MOF shared policy (vma_policy_mof), and mbind cannot set one";
  return {};
}

// protection_error.how values.
namespace protection {
inline constexpr std::string_view kUffdWp = "uffd-wp";      // a write to a uffd-write-protected page did not trap
inline constexpr std::string_view kProtRead = "prot-read";  // a write to a PROT_READ page did not fault
}  // namespace protection

// finished.status values.
namespace status {
inline constexpr std::string_view kOk = "ok";                           // ran the whole duration, memory intact
inline constexpr std::string_view kIntegrityErrors = "integrity_errors";  // ran, found lost/corrupt memory
inline constexpr std::string_view kConfigError = "config_error";          // could not run: see config_error
inline constexpr std::string_view kError = "error";                       // the workload itself broke
}  // namespace status

}  // namespace numasoak::nsw::protocol
