#include "stats/outcome.h"

#include <algorithm>
#include <cmath>

namespace numasoak::stats {

double outcome_seconds(const RunResult& r) {
  return r.verdict == Verdict::kFailed ? r.time_to_failure_s.value_or(r.exposure_s) : r.exposure_s;
}

std::optional<RunOutcome> outcome_of(const RunResult& r) {
  if (r.verdict != Verdict::kFailed && r.verdict != Verdict::kSurvived) return std::nullopt;
  const double t = std::max(0.0, outcome_seconds(r));
  return RunOutcome{Duration(static_cast<Duration::rep>(std::llround(t * 1000))), r.verdict == Verdict::kFailed};
}

}  // namespace numasoak::stats
