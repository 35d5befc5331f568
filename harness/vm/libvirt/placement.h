// Placement: which libvirt host takes the next guest (pure; unit-tested).
//
// The campaign hands out runs in interleaved kernel order (A, B, A, B ...);
// placement keeps that balance per host too, so a slow or noisy host
// affects every kernel alike: among the hosts that are up and have room for
// the guest's vCPUs, take the one that has started the fewest runs of this
// kernel relative to its capacity; ties go to the host with the most free
// capacity (share), then to the earlier host in the campaign file.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace numasoak::vm::libvirt {

/// One host as placement sees it: up, capacity and busy vCPUs, guests per kernel.
struct HostLoad {
  bool up = false;
  int capacity = 0;  // vCPUs
  int busy = 0;      // vCPUs of guests running there
  std::map<std::string, int> started_by_kernel;
};

// Index into `hosts`, or -1 when no host that is up has room.
int choose_host(const std::vector<HostLoad>& hosts, int vcpus, const std::string& kernel);

// How many guests of `vcpus` fit on the hosts that are up, now (free) or
// when idle (total).
int free_slots(const std::vector<HostLoad>& hosts, int vcpus);
int total_slots(const std::vector<HostLoad>& hosts, int vcpus);

}  // namespace numasoak::vm::libvirt
