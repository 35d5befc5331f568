// The /proc/vmstat counters that show whether the race is being exercised:
// NUMA hinting (PTE and huge-PMD updates, faults), migrations (base pages
// and THPs) and THP allocation/splitting.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "spec/protocol.h"

namespace numasoak::guest {

inline constexpr const auto& kVmstatKeys = nsw::protocol::kVmstatCounters;

// In the order of kVmstatKeys.
enum class Vm : std::size_t {
  numa_pte_updates, numa_huge_pte_updates, numa_hint_faults, numa_hint_faults_local,
  numa_pages_migrated, pgmigrate_success, pgmigrate_fail, thp_migration_success,
  thp_migration_fail, thp_migration_split, thp_fault_alloc, thp_split_pmd,
};

struct VmstatSample {
  std::array<std::uint64_t, kVmstatKeys.size()> value{};
  std::array<bool, kVmstatKeys.size()> present{};  // the kernel exports it

  std::uint64_t get(Vm k) const { return value[static_cast<std::size_t>(k)]; }
};

// Picks the known counters out of /proc/vmstat text ("name value\n" lines).
VmstatSample parse_vmstat(std::string_view text);
// Reads /proc/vmstat; an empty sample when it cannot.
VmstatSample read_vmstat();

}  // namespace numasoak::guest
