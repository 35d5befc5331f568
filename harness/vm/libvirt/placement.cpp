#include "vm/libvirt/placement.h"

namespace numasoak::vm::libvirt {

int choose_host(const std::vector<HostLoad>& hosts, int vcpus, const std::string& kernel) {
  int best = -1;
  long long best_started = 0, best_cap = 1, best_free = 0, best_free_cap = 1;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const HostLoad& h = hosts[i];
    if (!h.up || h.capacity <= 0 || h.busy + vcpus > h.capacity) continue;
    auto it = h.started_by_kernel.find(kernel);
    const long long started = it == h.started_by_kernel.end() ? 0 : it->second;
    const long long cap = h.capacity;
    const long long free = h.capacity - h.busy;
    if (best >= 0) {
      // started/cap < best_started/best_cap, compared without division.
      const long long lhs = started * best_cap, rhs = best_started * cap;
      if (lhs > rhs) continue;
      if (lhs == rhs && free * best_free_cap <= best_free * cap) continue;
    }
    best = static_cast<int>(i);
    best_started = started;
    best_cap = cap;
    best_free = free;
    best_free_cap = cap;
  }
  return best;
}

int free_slots(const std::vector<HostLoad>& hosts, int vcpus) {
  if (vcpus <= 0) return 0;
  int n = 0;
  for (const auto& h : hosts) {
    if (h.up && h.capacity > h.busy) n += (h.capacity - h.busy) / vcpus;
  }
  return n;
}

int total_slots(const std::vector<HostLoad>& hosts, int vcpus) {
  if (vcpus <= 0) return 0;
  int n = 0;
  for (const auto& h : hosts) {
    if (h.up && h.capacity > 0) n += h.capacity / vcpus;
  }
  return n;
}

}  // namespace numasoak::vm::libvirt
