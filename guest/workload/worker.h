// A worker process: one private, 2 MiB-aligned, THP-backed region and the
// stressor threads that work on it (touchers, migrator, uffd-wp, churn) plus
// the integrity verifier. Workers are separate processes because NUMA
// balancing scans each mm on its own and NUMA-fault THP migration refuses
// THPs mapped by more than one process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "spec/knobs.h"
#include "workload/colocation.h"
#include "workload/counters.h"
#include "workload/topology.h"

namespace numasoak::guest {

// One event on its way from a worker to the agent (lost memory, or a
// protection that did not hold): fixed size, so a pipe write of it is atomic
// (< PIPE_BUF).
struct EventRecord {
  enum Type : std::uint32_t { kIntegrity = 0, kProtection = 1 };
  // Protection events: what was checked.
  enum How : std::uint32_t { kUffdWp = 0, kProtRead = 1 };
  // ... and the state of the block when it was protected.
  enum Scenario : std::uint32_t { kMappedHuge = 0, kPmdNone = 1, kPartial = 2, kReadOnly = 3 };
  std::int32_t worker = 0;
  std::int32_t node = -1;
  std::uint64_t addr = 0;
  std::uint64_t pages = 0;
  std::uint64_t expected = 0;
  std::uint64_t actual = 0;
  std::int64_t uptime_ms = 0;
  std::uint32_t zero = 0;
  std::uint32_t type = kIntegrity;
  std::uint32_t how = kUffdWp;
  std::uint32_t memory = 0;  // index into nsw::protocol::kMemory
  std::uint32_t scenario = kMappedHuge;
  std::uint32_t pad = 0;
};

// What every stressor thread of a worker shares.
struct WorkerContext {
  int index = 0;
  const nsw::Settings* settings = nullptr;
  const GuestTopology* topo = nullptr;
  OpCounters* ops = nullptr;
  ColocationCounters* colo = nullptr;  // per-block walks and migrations, or null
  std::byte* region = nullptr;  // 2 MiB aligned
  std::size_t bytes = 0;        // multiple of 2 MiB
  std::vector<int> mem_nodes;   // migration targets
  int uffd = -1;                // registered in write-protect mode, or -1
  int event_fd = -1;            // write end of the event pipe
  std::vector<int> helper_cpus;  // CPUs for the verifier, uffd and churn threads
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_handler{false};  // the uffd handler stops last

  std::size_t blocks() const { return bytes / (std::size_t{2} << 20); }
  std::int64_t knob(nsw::Knob k) const { return settings->get(k); }
  // Co-location counts (workload/colocation.h) of block `b`.
  void walked(std::size_t b, std::uint64_t n = 1) const {
    if (colo) colo->walk(index, b, n);
  }
  void migrated(std::size_t b, std::uint64_t n = 1) const {
    if (colo) colo->migrated(index, b, n);
  }
};

// Runs worker `index` until SIGTERM; never returns (exits the process).
// `colo` (shared with the agent) gets the per-block co-location counts.
[[noreturn]] void run_worker(int index, const nsw::Settings& settings, const GuestTopology& topo, OpCounters& ops,
                             int event_fd, ColocationCounters* colo = nullptr);

// Stressor threads (stressors.cpp); each runs until ctx.stop.
// Pins the calling helper thread to ctx.helper_cpus (if any).
void pin_helper(const WorkerContext& ctx);
void run_toucher(WorkerContext& ctx, int cpu, int slot, std::int64_t pause_us);
// Moves the region's THPs between nodes with move_pages(pid) (and every Nth
// round migrate_pages(pid)); pid 0 = this process. Runs until ctx.stop.
void run_mover(WorkerContext& ctx, int pid, int cpu);
// mbind(MPOL_MF_MOVE) + reset of one block every mbind_interval_ms.
void run_mbinder(WorkerContext& ctx);
// Spins in user mode on ctx.helper_cpus. NUMA balancing scans an mm from the
// timer tick of its busy threads; this one's runtime makes scans of this mm
// run on the CPUs away from the mover, where they can meet its migrations.
void run_scan_driver(WorkerContext& ctx);
void run_uffd_protector(WorkerContext& ctx);
void run_uffd_handler(WorkerContext& ctx);
void run_mprotect_churn(WorkerContext& ctx);
void run_split_collapse(WorkerContext& ctx);

// userfaultfd: opens one with the write-protect feature and registers
// [addr, addr+len) in WP mode. Returns the fd, or -1 with `why` set.
int uffd_open_wp(void* addr, std::size_t len, std::string* why);
// UFFDIO_WRITEPROTECT of a range: protect (wp=true) or resolve (and wake).
bool uffd_writeprotect(int uffd, void* addr, std::size_t len, bool wp);

}  // namespace numasoak::guest
