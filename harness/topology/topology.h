// Topology: the guest's NUMA layout, in one place.
//
// Nodes, the CPUs and memory of each, and the distance matrix. Campaign files
// describe it; each backend renders it (QEMU arguments here, libvirt domain
// XML in vm/libvirt). CPUs are numbered node by node: node 0 owns CPUs
// 0..cpus-1, node 1 the next ones, and so on.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"

namespace numasoak {

/// One guest NUMA node: its CPU count and its memory.
struct NumaNode {
  int cpus = 1;
  Bytes memory = MiB(1024);
};

/// The guest's NUMA layout: its nodes and the distances between them.
struct Topology {
  std::vector<NumaNode> nodes;
  // distances[i][j]: SLIT distance from node i to node j; 10 on the diagonal.
  // Empty means the default: 10 local, 20 remote.
  std::vector<std::vector<int>> distances;

  int total_cpus() const;
  Bytes total_memory() const;
  int distance(int from, int to) const;
  // First CPU of a node (CPUs are numbered node by node).
  int first_cpu(int node) const;

  // Problems with this layout, each a sentence; empty when it is valid.
  // `min_node_memory` is what the workload needs on every node.
  std::vector<std::string> problems(Bytes min_node_memory = MiB(256)) const;

  // The QEMU arguments that build this layout: -m, -smp, one
  // memory-backend-ram and -numa node per node, -numa dist for each pair.
  std::vector<std::string> qemu_args() const;

  // "2 nodes x 1 CPU x 1G" (or a list when nodes differ).
  std::string describe() const;
};

// The most vCPUs a guest may have: more than this is a config mistake, not a
// stress test (QEMU's TCG gets slower, not racier).
inline constexpr int kMaxGuestCpus = 64;
inline constexpr int kMaxNodes = 16;

}  // namespace numasoak
