// Before the workload runs: apply the kernel settings the knobs ask for
// (NUMA balancing, THP) and prove the guest can exercise the race at all.
// A guest that cannot (one node, THP off, no THP migration, no uffd-wp when
// asked for) is a configuration error: the host must mark the run an error,
// never "survived".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/knobs.h"
#include "workload/topology.h"

namespace numasoak::guest {

// What the guest looks like after the settings were applied (for `started`).
struct KernelState {
  std::string release;       // uname -r
  std::string thp_enabled;   // transparent_hugepage/enabled, selected
  std::string thp_defrag;
  std::int64_t numa_balancing = -1;  // -1 = not available
  std::int64_t scan_delay_ms = -1, scan_period_min_ms = -1, scan_period_max_ms = -1, scan_size_mb = -1;
  std::int64_t race_widen_us = -1, race_widen_uffd_us = -1;  // the amplifier, from the command line
};

// The value of `name=` on the kernel command line ("" when absent).
std::string cmdline_value(std::string_view cmdline, std::string_view name);

// Applies THP and NUMA-balancing settings. Returns "" or the reason the guest
// is misconfigured (one line).
std::string apply_kernel_settings(const nsw::Settings& s, std::string_view cmdline, KernelState& state);

// Checks nodes, THP migration (a real move_pages of one THP) and, when asked
// for, userfaultfd write-protect. Returns "" or the reason.
std::string check_guest(const nsw::Settings& s, const GuestTopology& topo);

}  // namespace numasoak::guest
