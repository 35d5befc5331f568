// outcome_of: the one conversion of a run's result into what the statistics
// count (campaign/runner's sequential rule, report/summary, bench/summary).
#pragma once

#include <optional>

#include "result/run_result.h"
#include "stats/stats.h"

namespace numasoak::stats {

/// A failed run is a failure at its time to failure; a survived one is
/// censored at its exposure (the workload time it ran). A failed run with no
/// time to failure (an old record) failed within its exposure, which ends at
/// the first failure: its exposure is the time, never 0 (that would claim it
/// failed at once). Errors and interrupted runs are no evidence: nullopt.
std::optional<RunOutcome> outcome_of(const RunResult& r);

/// The time a run counts for in the statistics, in seconds: its time to
/// failure when it failed, else its exposure.
double outcome_seconds(const RunResult& r);

}  // namespace numasoak::stats
