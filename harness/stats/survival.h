// How long a build must survive for "it passed" to mean something, when the
// bug is probabilistic: the sizing behind `numasoak run --bisect`.
//
// Model: a bad build fails as a Poisson process at rate >= `bad_rate` while
// the workload runs (the rate seen on the bad end of the bisection). A bad
// build then survives `t` of workload with probability exp(-bad_rate * t) or
// less, so requiring a survival of
//
//   t = -ln(1 - confidence) / bad_rate
//
// makes P(a bad build passes) <= 1 - confidence: 95% at 1000/h is 10.8 s,
// at 100/h 1.8 min. (A good build passes whatever t is; a longer t only
// costs time.)
#pragma once

#include <string>

#include "common/duration.h"

namespace numasoak::stats {

/// How long a build must survive to pass, given the bad build's failure rate and the confidence asked for.
struct SurvivalRequirement {
  double bad_rate_per_hour = 0.0;  // the failure rate a bad build has at least
  double confidence = 0.95;        // P(a bad build fails within `needed`) >= this
  Duration needed{0};              // workload time a build must survive to pass
  // P(a build failing at exactly bad_rate survives `needed`): <= 1 - confidence.
  double miss_probability = 0.0;
};

// Throws std::invalid_argument for a rate that is not finite and > 0, or a
// confidence outside (0, 1). `needed` is rounded up to a whole second.
SurvivalRequirement survival_needed(double bad_rate_per_hour, double confidence);

// One line saying why: "a build failing at >= 1000/h survives 11s without
// failing with probability 4.9% (<= 5%): passing needs 11s".
std::string explain(const SurvivalRequirement& r);

}  // namespace numasoak::stats
