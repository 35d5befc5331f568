// Co-location: how often a change_protection() walk and a THP migration hit
// the very same PMD. The race (a PMD migration entry installed between
// change_pmd_range()'s two reads of the PMD) needs both on one PMD at once,
// so for a window of w seconds the expected number of coincidences per
// second is
//
//     w * sum over PMDs p of  walks_p/s * migrations_p/s
//
// and that sum (unit s^-2: "co-located walk x migration pairs per second,
// per second of window") is the figure a workload aimed at the window must
// raise. Over one heartbeat interval of dt seconds the agent computes, per
// tracked PMD (2 MiB block of a worker's region),
//
//     walks_p      = own_walks_p + scan_passes(mm of p)
//     pairs        = sum_p walks_p * migrations_p           (observed)
//     hint_pairs   = sum_p walks_p * hint_migrations / N    (inferred)
//
// and sends pairs and hint_pairs (x1000, integers) as heartbeat ops; the
// host divides each interval's pairs by its dt and averages over the run
// (telemetry::colocation_per_s2), so pairs/dt = sum_p (W_p/dt)(M_p/dt)*dt.
//
// What is observed and what is inferred:
// - own_walks_p (observed): the workload's UFFDIO_WRITEPROTECT calls whose
//   range covered block p and that succeeded (the protector's protect and
//   unprotect, the fault handler's per-block resolve): each runs
//   change_pmd_range() over p once.
// - scan_passes (observed per mm): the delta of mm->numa_scan_seq from
//   /proc/<worker>/sched (CONFIG_SCHED_DEBUG). task_numa_work() bumps it
//   once per completed pass over the mm's address space, and every pass
//   visits every PMD of the region (change_pmd_range() does its two reads on
//   every PMD, updated or not), so each pass counts one walk of each of the
//   worker's PMDs. With scan_focus and a region no bigger than scan_size_mb
//   a pass is one task_numa_work(). When the file cannot be read the scan
//   walks count 0 (the figure is then a lower bound).
// - migrations_p (observed): migrations of block p the workload saw land:
//   move_pages() reporting the block on its target node, an mbind(MOVE)
//   after which the block's node changed, a migrate_pages() after which it
//   did.
// - hint_migrations (inferred): /proc/vmstat thp_migration_success minus the
//   observed migrations, clamped at 0: NUMA hint-fault migrations (and any
//   other THP migration). The kernel does not say which PMD moved, so they
//   are spread evenly over the N tracked PMDs.
// Blocks past kColoBlocks in a worker, and workers past kColoWorkers, are
// not tracked (the figure is then a lower bound).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace numasoak::guest {

inline constexpr std::size_t kColoWorkers = 64;
inline constexpr std::size_t kColoBlocks = 256;

// Per-block counters the workers write, in the agent's MAP_SHARED mapping.
struct ColocationCounters {
  std::array<std::atomic<std::uint64_t>, kColoWorkers * kColoBlocks> walks{};
  std::array<std::atomic<std::uint64_t>, kColoWorkers * kColoBlocks> migrations{};

  static bool tracked(int worker, std::size_t block) {
    return worker >= 0 && static_cast<std::size_t>(worker) < kColoWorkers && block < kColoBlocks;
  }
  static std::size_t slot(int worker, std::size_t block) {
    return static_cast<std::size_t>(worker) * kColoBlocks + block;
  }
  void walk(int worker, std::size_t block, std::uint64_t n = 1) {
    if (tracked(worker, block)) walks[slot(worker, block)].fetch_add(n, std::memory_order_relaxed);
  }
  void migrated(int worker, std::size_t block, std::uint64_t n = 1) {
    if (tracked(worker, block)) migrations[slot(worker, block)].fetch_add(n, std::memory_order_relaxed);
  }
};

// One heartbeat interval of one tracked PMD.
struct PmdInterval {
  std::uint64_t own_walks = 0;    // observed UFFDIO_WRITEPROTECT walks of it
  std::uint64_t scan_passes = 0;  // NUMA scan passes over its mm
  std::uint64_t migrations = 0;   // observed migrations of it
};

// What the agent adds to the heartbeat ops for one interval.
struct ColocationDelta {
  std::uint64_t walks = 0;            // sum_p (own_walks_p + scan_passes_p)
  std::uint64_t scan_walks = 0;       // sum_p scan_passes_p
  std::uint64_t migrations = 0;       // sum_p migrations_p
  std::uint64_t hint_migrations = 0;  // max(0, thp_migration_success - migrations)
  std::uint64_t mpairs = 0;           // 1000 * sum_p walks_p * migrations_p
  std::uint64_t hint_mpairs = 0;      // 1000 * sum_p walks_p * hint_migrations / N
};

// The arithmetic above over one interval; `thp_migration_success` is the
// /proc/vmstat delta of the interval.
ColocationDelta colocate(const std::vector<PmdInterval>& pmds, std::uint64_t thp_migration_success);

// mm->numa_scan_seq out of /proc/<pid>/sched text; nullopt when absent.
std::optional<std::uint64_t> parse_numa_scan_seq(std::string_view sched_text);
// ... read from /proc/<pid>/sched.
std::optional<std::uint64_t> read_numa_scan_seq(int pid);

}  // namespace numasoak::guest
