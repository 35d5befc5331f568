#include "telemetry/messages.h"

namespace numasoak::telemetry {

namespace {

struct GroupRange {
  CounterGroup group;
  std::size_t first;
  std::size_t count;
};

constexpr GroupRange kGroups[] = {
    {CounterGroup::kVmstat, 0, kVmstatCount},
    {CounterGroup::kOps, kVmstatCount, kOpCount},
    {CounterGroup::kKernel, kVmstatCount + kOpCount, kKernelCount},
};

std::string_view name_in_group(CounterGroup g, std::size_t i) {
  switch (g) {
    case CounterGroup::kVmstat: return proto::kVmstatCounters[i];
    case CounterGroup::kOps: return proto::kOpCounters[i];
    case CounterGroup::kKernel: return proto::kKernelCounters[i];
  }
  return {};
}

Counter must(std::string_view name) {
  // The names below are the protocol's; a rename there fails the unit tests.
  return find_counter(name).value_or(Counter{0});
}

}  // namespace

std::string_view counter_name(Counter c) {
  for (const auto& g : kGroups)
    if (c.index >= g.first && c.index < g.first + g.count) return name_in_group(g.group, c.index - g.first);
  return {};
}

CounterGroup counter_group(Counter c) {
  for (const auto& g : kGroups)
    if (c.index >= g.first && c.index < g.first + g.count) return g.group;
  return CounterGroup::kVmstat;
}

std::optional<Counter> find_counter(CounterGroup group, std::string_view name) {
  for (const auto& g : kGroups) {
    if (g.group != group) continue;
    for (std::size_t i = 0; i < g.count; ++i)
      if (name_in_group(g.group, i) == name) return Counter{g.first + i};
  }
  return std::nullopt;
}

std::optional<Counter> find_counter(std::string_view name) {
  for (const auto& g : kGroups)
    if (auto c = find_counter(g.group, name)) return c;
  return std::nullopt;
}

namespace counters {
Counter numa_huge_pte_updates() {
  static const Counter c = must("numa_huge_pte_updates");
  return c;
}
Counter numa_hint_faults() {
  static const Counter c = must("numa_hint_faults");
  return c;
}
Counter thp_migration_success() {
  static const Counter c = must("thp_migration_success");
  return c;
}
Counter uffd_wp_ioctls() {
  static const Counter c = must("uffd_wp_ioctls");
  return c;
}
Counter mp_moved() {
  static const Counter c = must("mp_moved");
  return c;
}
Counter race_widen_hits() {
  static const Counter c = must("race_widen_hits");
  return c;
}
Counter colo_mpairs() {
  static const Counter c = must("colo_mpairs");
  return c;
}
Counter colo_hint_mpairs() {
  static const Counter c = must("colo_hint_mpairs");
  return c;
}
}  // namespace counters

}  // namespace numasoak::telemetry
