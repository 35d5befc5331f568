// Agent messages: what numasoak-workload sends over the agent channel
// (guest/PROTOCOL.md), as types. The counter names come from the guest's own
// protocol header (guest/spec/protocol.h), so both ends agree by construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/duration.h"
#include "spec/protocol.h"

namespace numasoak::telemetry {

namespace proto = nsw::protocol;

// Every counter a heartbeat can carry: /proc/vmstat deltas, then the
// workload's op deltas, then the numasoak kernel's own counters.
inline constexpr std::size_t kVmstatCount = proto::kVmstatCounters.size();
inline constexpr std::size_t kOpCount = proto::kOpCounters.size();
inline constexpr std::size_t kKernelCount = proto::kKernelCounters.size();
inline constexpr std::size_t kCounterCount = kVmstatCount + kOpCount + kKernelCount;

/// Where a counter comes from: /proc/vmstat, the workload's own ops, the kernel's amplifier.
enum class CounterGroup { kVmstat, kOps, kKernel };

/// A counter by index into CounterSet; use counter("name") to find one.
struct Counter {
  std::size_t index = 0;
  friend bool operator==(Counter, Counter) = default;
};

// The counter's name as the protocol spells it ("thp_migration_success").
std::string_view counter_name(Counter c);
CounterGroup counter_group(Counter c);
// Looks a counter up by name; nullopt when the protocol has none.
std::optional<Counter> find_counter(CounterGroup group, std::string_view name);
std::optional<Counter> find_counter(std::string_view name);  // any group

// The counters that show the race is exercised (reports show these first).
namespace counters {
Counter numa_huge_pte_updates();
Counter numa_hint_faults();
Counter thp_migration_success();
Counter uffd_wp_ioctls();
Counter mp_moved();  // 2 MiB blocks moved by move_pages
Counter race_widen_hits();
Counter colo_mpairs();       // 1000 x walk x observed-migration pairs on one PMD (guest workload/colocation.h)
Counter colo_hint_mpairs();  // the same with the inferred hint-fault migrations
}  // namespace counters

using CounterSet = std::array<std::uint64_t, kCounterCount>;
using CounterMask = std::array<bool, kCounterCount>;

/// The agent's first message: the workload started, with what the guest is and runs.
struct Started {
  int protocol = 0;
  Duration uptime{0};             // guest uptime when the workload started
  std::string kernel;             // uname -r
  int nodes = 0;                  // NUMA nodes with memory
  int cpus = 0;
  std::string thp;                // transparent_hugepage/enabled
  std::string profile;
  int numa_balancing = -1;
  int race_widen_us = -1;         // amplifier from the kernel command line, -1 = none
  int race_widen_uffd_us = -1;
  std::map<std::string, std::string> settings;  // knob -> value, as sent
};

/// Counter deltas over one heartbeat interval.
struct Heartbeat {
  std::uint64_t seq = 0;
  Duration uptime{0};
  Duration interval{0};  // time the deltas cover
  CounterSet delta{};
  CounterMask present{};  // which counters the guest sent
};

/// Memory the workload wrote that read back wrong: zero (a lost mapping) or corrupt.
struct IntegrityError {
  int worker = -1;
  std::uint64_t addr = 0;
  std::uint64_t pages = 0;
  int node = -1;
  bool zero = false;  // "zero": the pages read zero (a lost mapping); else "corrupt"
  Duration uptime{0};
};

/// A protection the guest set did not hold: a write to a uffd-write-protected
/// page that did not trap, or to a PROT_READ page that did not fault.
struct ProtectionError {
  int worker = -1;
  std::uint64_t addr = 0;
  std::string how;       // proto::protection: "uffd-wp" | "prot-read"
  std::string memory;    // "anon" | "shmem"
  std::string scenario;  // the block's state when protected: mapped-huge | pmd-none | partial | read-only
  int node = -1;
  Duration uptime{0};
};

/// Deltas of the walker x transition matrix (proto::kMatrixCells, indexed by
/// proto::matrix_cell) since the last one; cells the guest did not send are 0.
struct Matrix {
  std::uint64_t seq = 0;
  Duration uptime{0};
  std::array<std::uint64_t, proto::kMatrixCells> delta{};
};

/// The guest refused its settings (a knob out of range, a missing kernel feature).
struct ConfigError {
  std::string reason;
  Duration uptime{0};
};

/// Something the guest wants said that is not a failure.
struct Warning {
  std::string reason;
  Duration uptime{0};
};

/// The agent's last message: how the workload ended.
struct Finished {
  std::string status;  // ok | integrity_errors | config_error | error
  int exit_code = -1;
  std::uint64_t integrity_events = 0;
  std::uint64_t integrity_pages = 0;
  Duration uptime{0};
};

using Message = std::variant<Started, Heartbeat, IntegrityError, ProtectionError, Matrix, ConfigError, Warning, Finished>;

}  // namespace numasoak::telemetry
