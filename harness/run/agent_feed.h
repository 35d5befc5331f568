// AgentFeed: the agent channel (ttyS1) as the run sees it.
//
// Bytes in; out come the few things a run acts on (the workload started,
// memory was lost, the guest refused its setup, the workload finished) and
// the telemetry totals and rates for the result. Parsing and the counters
// themselves live in telemetry/; this only adapts them to the run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/line_assembler.h"
#include "result/run_result.h"
#include "telemetry/telemetry.h"

namespace numasoak {

/// The agent channel's bytes, parsed into telemetry and guest events.
class AgentFeed {
 public:
  /// What the agent said that the Run acts on.
  struct Events {
    bool started = false;
    // What the agent itself saw fail, one per event: lost or corrupted
    // memory (kinds::kIntegrity), a protection that did not hold
    // (kinds::kProtection).
    std::vector<FailureRecord> integrity;
    std::optional<std::string> config_error;
    std::optional<int> finished_status;
    std::vector<std::string> warnings;
  };

  // `host_s`: seconds since workload start (negative before it).
  Events feed(std::string_view bytes, double host_s);

  std::map<std::string, double> totals() const;
  std::map<std::string, double> rates() const;
  // Race-relevant events (huge-pmd NUMA updates, THP migrations, uffd-wp
  // ops): per second over the last heartbeat, and in total.
  double race_events_per_s() const;
  double race_events_total() const;
  bool saw_heartbeat() const;
  // The walker x transition matrix totals, keyed "walker.transition.memory";
  // empty when the guest did not run the transitions worker.
  std::map<std::string, double> matrix() const;

 private:
  console::LineAssembler lines_{16384};
  telemetry::Telemetry telemetry_;
};

}  // namespace numasoak
