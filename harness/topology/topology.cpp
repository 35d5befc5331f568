#include "topology/topology.h"

#include <fmt/format.h>

namespace numasoak {

int Topology::total_cpus() const {
  int n = 0;
  for (const auto& node : nodes) n += node.cpus;
  return n;
}

Bytes Topology::total_memory() const {
  Bytes b;
  for (const auto& node : nodes) b.value += node.memory.value;
  return b;
}

int Topology::distance(int from, int to) const {
  if (!distances.empty()) return distances.at(from).at(to);
  return from == to ? 10 : 20;
}

int Topology::first_cpu(int node) const {
  int cpu = 0;
  for (int i = 0; i < node; ++i) cpu += nodes.at(i).cpus;
  return cpu;
}

std::vector<std::string> Topology::problems(Bytes min_node_memory) const {
  std::vector<std::string> out;
  const int n = static_cast<int>(nodes.size());
  if (n == 0) {
    out.push_back("the guest needs at least 1 NUMA node");
    return out;
  }
  if (n > kMaxNodes) out.push_back(fmt::format("{} nodes is more than the {} numasoak supports", n, kMaxNodes));
  for (int i = 0; i < n; ++i) {
    if (nodes[i].cpus < 1) out.push_back(fmt::format("node {} has {} CPUs; every node needs at least 1", i, nodes[i].cpus));
    if (nodes[i].memory < min_node_memory) {
      out.push_back(fmt::format("node {} has {} of memory; the workload needs at least {} per node", i,
                                format_bytes(nodes[i].memory), format_bytes(min_node_memory)));
    }
    if (nodes[i].memory.value % (MiB(2).value) != 0) {
      out.push_back(fmt::format("node {} memory {} is not a multiple of 2M (one huge page)", i, format_bytes(nodes[i].memory)));
    }
  }
  if (total_cpus() > kMaxGuestCpus) {
    out.push_back(fmt::format("{} vCPUs is more than the {} a guest may have", total_cpus(), kMaxGuestCpus));
  }
  if (!distances.empty()) {
    if (static_cast<int>(distances.size()) != n) {
      out.push_back(fmt::format("distances has {} rows for {} nodes", distances.size(), n));
      return out;
    }
    for (int i = 0; i < n; ++i) {
      if (static_cast<int>(distances[i].size()) != n) {
        out.push_back(fmt::format("distances row {} has {} entries for {} nodes", i, distances[i].size(), n));
        continue;
      }
      for (int j = 0; j < n; ++j) {
        const int d = distances[i][j];
        if (i == j && d != 10) out.push_back(fmt::format("distance from node {} to itself must be 10, not {}", i, d));
        if (i != j && (d <= 10 || d > 254)) {
          out.push_back(fmt::format("distance from node {} to node {} must be 11..254, not {}", i, j, d));
        }
      }
    }
  }
  return out;
}

std::vector<std::string> Topology::qemu_args() const {
  std::vector<std::string> args;
  args.push_back("-m");
  args.push_back(fmt::format("{}M", total_memory().mib()));
  args.push_back("-smp");
  args.push_back(fmt::format("{},sockets={},cores=1,threads=1", total_cpus(), total_cpus()));
  for (size_t i = 0; i < nodes.size(); ++i) {
    args.push_back("-object");
    args.push_back(fmt::format("memory-backend-ram,id=mem{},size={}M", i, nodes[i].memory.mib()));
    const int first = first_cpu(static_cast<int>(i));
    const int last = first + nodes[i].cpus - 1;
    args.push_back("-numa");
    args.push_back(first == last ? fmt::format("node,nodeid={},cpus={},memdev=mem{}", i, first, i)
                                 : fmt::format("node,nodeid={},cpus={}-{},memdev=mem{}", i, first, last, i));
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (i == j) continue;
      args.push_back("-numa");
      args.push_back(fmt::format("dist,src={},dst={},val={}", i, j, distance(static_cast<int>(i), static_cast<int>(j))));
    }
  }
  return args;
}

std::string Topology::describe() const {
  if (nodes.empty()) return "no nodes";
  bool uniform = true;
  for (const auto& n : nodes) uniform = uniform && n.cpus == nodes[0].cpus && n.memory == nodes[0].memory;
  if (uniform) {
    return fmt::format("{} node{} x {} CPU{} x {}", nodes.size(), nodes.size() == 1 ? "" : "s", nodes[0].cpus,
                       nodes[0].cpus == 1 ? "" : "s", format_bytes(nodes[0].memory));
  }
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i) out += ", ";
    out += fmt::format("node{}: {} CPU x {}", i, nodes[i].cpus, format_bytes(nodes[i].memory));
  }
  return out;
}

}  // namespace numasoak
