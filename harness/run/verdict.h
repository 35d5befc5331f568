// decide_verdict: how a run ended, decided once, by a pure function.
//
// A Run collects facts while its guest runs (failures the detector, the
// agent and the watchdogs found; errors the harness met; whether the
// workload started and ran its duration; how the guest exited) and, when it
// ends, asks decide_verdict() what they mean: failed / survived / error /
// interrupted, with the headline kind and title and the time to failure.
// No clock, no process, no I/O: every way a run ends is a unit test
// (tests/unit/run/verdict_test.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "result/run_result.h"
#include "run/plan.h"
#include "vm/backend.h"

namespace numasoak {

/// An error the harness itself found during a run (boot watchdog, a guest
/// that refused its setup, a log it cannot write): kind and one line.
struct RunError {
  std::string kind;     // kinds::kBootFailure, kinds::kConfig, kinds::kInfrastructure
  std::string message;
};

/// Everything the verdict depends on, gathered by a Run.
struct RunFacts {
  std::vector<FailureRecord> failures;  // in any order (reports complete out of order)
  Duration report_window{5000};         // a console report this close to lost memory explains it
  std::string profile;                  // the workload profile ("quiet" exercises nothing on purpose)
  bool workload_started = false;
  bool duration_reached = false;        // the workload ran its planned duration with no failure
  bool interrupted = false;             // the harness stopped the run (Ctrl-C, campaign end)
  std::string stop_reason;              // why it was stopped, for an interrupted run
  std::optional<RunError> error;        // the first harness-side error, if any
  std::optional<RunError> artifacts_error;  // result files could not be written (outranks all but a failure)
  bool saw_heartbeat = false;           // the agent reported telemetry at least once
  double race_events_total = 0;         // race-relevant events the agent counted
  std::optional<vm::ExitInfo> exit;     // how the guest ended (nullopt: it never started)
  std::string last_console_line;        // for boot failures ("" = none)
  RequeuePolicy requeue;                // which runs without evidence are queued again
};

/// The verdict part of a RunResult.
struct RunVerdict {
  Verdict verdict = Verdict::kError;
  std::string kind;
  std::string title;
  std::optional<double> time_to_failure_s;  // failed runs only: the first failure's host time
  std::optional<double> uptime_s;           // failed runs only
  std::vector<FailureRecord> failures;      // in the order they happened
  std::optional<RequeuedError> requeued;    // interrupted for want of evidence: the error it was
};

/// The one place a run's verdict is decided.
RunVerdict decide_verdict(RunFacts facts);

}  // namespace numasoak
