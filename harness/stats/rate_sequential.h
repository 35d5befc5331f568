// An anytime-valid sequential test on failure *rates* over exposure, for
// stopping a comparison as soon as "A fails at >= X/h, B survived T" says
// enough, instead of waiting for one coin per pair of runs (stats.h,
// sequential_decision needs >= 8 pairs at 95%).
//
// Model: each kernel fails as a Poisson process at its own rate while its
// workload runs (the model of poisson_rate), exposure counted in hours of
// workload (or millions of race events: any unit, the same for both).
//
// Confidence sequence per kernel (Robbins 1970's mixture method): with k
// failures in exposure E and a Gamma(shape a, rate b) mixture over the
// alternative rate, for the true rate lambda
//
//   M_E(lambda) = b^a / Gamma(a) * Gamma(a + k) / (b + E)^(a + k) * lambda^-k * exp(lambda E)
//
// is a nonnegative martingale with mean 1 in the exposure clock (it is the
// mixture likelihood ratio against lambda), so by Ville's inequality
// P(ever M >= 2/alpha) <= alpha/2 however often one looks and whenever one
// stops. {lambda : M_E(lambda) < 2/alpha} is therefore an interval that holds
// the true rate at every look at once with probability >= 1 - alpha/2.
//
// Decision "A fails more" when A's interval lies wholly above B's (and the
// other way). Guarantee: P(ever deciding a direction that is wrong) <=
// alpha, for any rates, any exposures chosen on the fly (interleaved or
// parallel runs, runs of any length, stopping at a failure), any number of
// looks: with probability >= 1 - alpha both intervals cover their rates
// throughout, and then disjoint intervals order the rates correctly. It does
// not need equal durations or pairs; unlike the paired test it assumes a
// constant rate per kernel (a hazard that grows over a run, e.g. a warm-up,
// breaks it; the paired test stays exact there).
#pragma once

#include <cstdint>

#include "stats/stats.h"

namespace numasoak::stats {

/// The rate test's settings: its error level and the mixture that tunes its power.
struct RateSequentialRule {
  double alpha = 0.05;           // P(ever a wrong direction), over all looks
  // The mixture: a weak Gamma(1/2, b) (Jeffreys-like shape) whose mean a/b
  // = 5000/h puts weight on the fast failures an amplified race gives (TTF
  // of seconds); it only tunes power, never the guarantee. b is in the
  // exposure unit (hours: 0.36 s).
  double prior_shape = 0.5;
  double prior_exposure = 1e-4;
};

/// The time-uniform interval for one kernel's rate at level 1 - alpha_each.
struct RateInterval {
  double lower = 0.0;
  double upper = 0.0;  // +inf without exposure
};
RateInterval rate_confidence_sequence(std::uint64_t failures, double exposure, double alpha_each,
                                      const RateSequentialRule& rule = {});

/// The rate test at one look: decided or not, which build fails more, both intervals.
struct RateSequentialDecision {
  SequentialOutcome outcome = SequentialOutcome::kKeepGoing;  // kDifferent or kKeepGoing
  Direction direction = Direction::kNone;
  RateInterval a;  // each at 1 - alpha/2
  RateInterval b;
  bool decided() const { return outcome != SequentialOutcome::kKeepGoing; }
};

// `a`, `b`: failures and exposure so far (Tally; exposure in hours for the
// default prior). Pure: call again after every finished run.
RateSequentialDecision rate_sequential_decision(Tally a, Tally b, const RateSequentialRule& rule = {});

}  // namespace numasoak::stats
