#include "workload/topology.h"

#include <dirent.h>
#include <algorithm>
#include <cstdlib>

#include "workload/sys.h"

namespace numasoak::guest {

std::vector<int> GuestTopology::memory_nodes() const {
  std::vector<int> out;
  for (const auto& n : nodes)
    if (n.mem_kb > 0) out.push_back(n.id);
  return out;
}

int GuestTopology::node_of_cpu(int cpu) const {
  for (const auto& n : nodes)
    if (std::find(n.cpus.begin(), n.cpus.end(), cpu) != n.cpus.end()) return n.id;
  return -1;
}

std::string GuestTopology::cpus_json() const {
  std::string out = "[";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i) out += ",";
    out += "[";
    for (std::size_t j = 0; j < nodes[i].cpus.size(); ++j) {
      if (j) out += ",";
      out += std::to_string(nodes[i].cpus[j]);
    }
    out += "]";
  }
  return out + "]";
}

std::uint64_t parse_node_memtotal_kb(const std::string& meminfo) {
  const auto at = meminfo.find("MemTotal:");
  if (at == std::string::npos) return 0;
  return std::strtoull(meminfo.c_str() + at + 9, nullptr, 10);
}

GuestTopology read_topology() {
  GuestTopology t;
  if (auto online = read_text("/sys/devices/system/cpu/online")) t.cpus = parse_cpulist(*online);
  std::vector<int> ids;
  if (auto online = read_text("/sys/devices/system/node/online")) {
    ids = parse_cpulist(*online);
  } else if (DIR* d = ::opendir("/sys/devices/system/node")) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.rfind("node", 0) == 0 && name.size() > 4 && name[4] >= '0' && name[4] <= '9')
        ids.push_back(std::atoi(name.c_str() + 4));
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
  }
  for (int id : ids) {
    GuestNode n;
    n.id = id;
    const std::string base = "/sys/devices/system/node/node" + std::to_string(id);
    if (auto l = read_text(base + "/cpulist")) n.cpus = parse_cpulist(*l);
    if (auto m = read_text(base + "/meminfo")) n.mem_kb = parse_node_memtotal_kb(*m);
    t.nodes.push_back(std::move(n));
  }
  return t;
}

}  // namespace numasoak::guest
