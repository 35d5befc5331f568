// The guest's NUMA layout as the kernel sees it (/sys/devices/system/node):
// which nodes have memory and which CPUs belong to which node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace numasoak::guest {

struct GuestNode {
  int id = 0;
  std::vector<int> cpus;
  std::uint64_t mem_kb = 0;  // MemTotal of the node
};

struct GuestTopology {
  std::vector<GuestNode> nodes;  // every online node, by id
  std::vector<int> cpus;         // online CPUs

  // Nodes with memory: THP migration targets.
  std::vector<int> memory_nodes() const;
  // The node of a CPU, -1 when unknown.
  int node_of_cpu(int cpu) const;
  // "[[0],[1]]": CPUs per node, JSON.
  std::string cpus_json() const;
};

// Reads /sys/devices/system/node and /sys/devices/system/cpu/online.
GuestTopology read_topology();

// MemTotal in kB from a node's meminfo text ("Node 0 MemTotal:  1048576 kB").
std::uint64_t parse_node_memtotal_kb(const std::string& meminfo);

}  // namespace numasoak::guest
