// The transitions worker: every change_protection() walker of 6.1 against
// every PMD transition a walker can meet between its read of a pmd and its
// lock, on private anonymous and on shmem THPs, plus the protection oracle.
//
// Why: a backport can be right about the NUMA-balancing race and wrong
// elsewhere. The first 6.1.y backport of 670ddd8cdcbd (6.1.160) crashed when
// a huge pmd became none (a shmem THP split or zapped) under a uffd-wp
// resolve walk; another wrong version can skip a range and leave pages
// writable. The bad-pmd workload never makes those transitions: it uses
// private anonymous memory in whole, aligned 2 MiB chunks. This worker does,
// on a few blocks, all the time:
//
//   walkers      uffd-wp set, uffd-wp resolve (also the fault handler's 4 KiB
//                resolves), UFFDIO_UNREGISTER + re-register, mprotect; whole
//                blocks and 4 KiB inside them (a split). NUMA balancing scans
//                the anonymous region by itself.
//   transitions  migrate (move_pages), zap (MADV_DONTNEED; MADV_REMOVE on
//                shmem), split (a 4 KiB MADV_DONTNEED), collapse
//                (MADV_COLLAPSE), fault (a write that faults the block back)
//
// and counts each (walker, transition, memory) pair that overlapped in time
// on the same block (spec/protocol.h, the matrix). The oracle owns the last
// block of each region: it write-protects (or PROT_READs) it, writes, and
// reports a `protection_error` when the write went through.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "spec/knobs.h"
#include "spec/protocol.h"
#include "workload/counters.h"
#include "workload/topology.h"

namespace numasoak::guest {

// The matrix and the per-kind transition counts, in the same shared memory
// as OpCounters (the agent reads them for its `matrix` messages).
struct MatrixCounters {
  static constexpr std::size_t kTransitionKinds =
      nsw::protocol::kTransitions.size() * nsw::protocol::kMemory.size();
  std::array<std::atomic<std::uint64_t>, nsw::protocol::kMatrixCells> cell{};
  // Transitions done, by (transition, memory): the agent's NUMA row.
  std::array<std::atomic<std::uint64_t>, kTransitionKinds> transitions_done{};

  void add_cell(std::size_t walker, std::size_t transition, std::size_t memory) {
    add_cell_n(walker, transition, memory, 1);
  }
  void add_cell_n(std::size_t walker, std::size_t transition, std::size_t memory, std::uint64_t n) {
    cell[nsw::protocol::matrix_cell(walker, transition, memory)].fetch_add(n, std::memory_order_relaxed);
  }
};

// Runs the transitions worker until SIGTERM; never returns. `event_fd` takes
// EventRecords of kind protection (worker.h).
[[noreturn]] void run_transitions(int index, const nsw::Settings& settings, const GuestTopology& topo,
                                  OpCounters& ops, MatrixCounters& matrix, int event_fd);

}  // namespace numasoak::guest
