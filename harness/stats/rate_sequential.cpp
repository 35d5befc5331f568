#include "stats/rate_sequential.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace numasoak::stats {

namespace {

// log M_E(lambda) for lambda > 0.
double log_mixture(std::uint64_t k, double e, double lambda, const RateSequentialRule& r) {
  const double a = r.prior_shape, b = r.prior_exposure, kk = static_cast<double>(k);
  return a * std::log(b) - std::lgamma(a) + std::lgamma(a + kk) - (a + kk) * std::log(b + e) - kk * std::log(lambda) + lambda * e;
}

}  // namespace

RateInterval rate_confidence_sequence(std::uint64_t k, double e, double alpha_each, const RateSequentialRule& r) {
  if (!(alpha_each > 0 && alpha_each < 1)) throw std::invalid_argument("rate_confidence_sequence: alpha outside (0, 1)");
  if (!(e >= 0) || !(r.prior_shape > 0) || !(r.prior_exposure > 0)) throw std::invalid_argument("rate_confidence_sequence: bad exposure or prior");
  RateInterval out;
  if (e == 0) {
    out.upper = std::numeric_limits<double>::infinity();
    return out;
  }
  const double level = std::log(1.0 / alpha_each);
  // log M is convex in lambda with its minimum (<= 0) at k / E; the interval
  // is where it stays below `level`: bisect on each side.
  const double mle = static_cast<double>(k) / e;
  auto f = [&](double lam) { return log_mixture(k, e, lam, r) - level; };
  double hi_lo = std::max(mle, 1e-300), hi_hi = std::max(2 * mle, 1.0 / e);
  while (f(hi_hi) < 0) hi_hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (hi_lo + hi_hi);
    (f(mid) < 0 ? hi_lo : hi_hi) = mid;
  }
  out.upper = hi_hi;
  if (k == 0) return out;  // M decreases toward lambda -> 0: no lower bound
  double lo_lo = mle / 2, lo_hi = mle;
  while (lo_lo > 1e-300 && f(lo_lo) < 0) lo_lo /= 2;
  if (f(lo_lo) < 0) return out;  // lower bound 0
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo_lo + lo_hi);
    (f(mid) < 0 ? lo_hi : lo_lo) = mid;
  }
  out.lower = lo_lo;
  return out;
}

RateSequentialDecision rate_sequential_decision(Tally a, Tally b, const RateSequentialRule& rule) {
  if (!(rule.alpha > 0 && rule.alpha < 1)) throw std::invalid_argument("rate_sequential_decision: alpha outside (0, 1)");
  RateSequentialDecision d;
  d.a = rate_confidence_sequence(a.failures, a.exposure, rule.alpha / 2, rule);
  d.b = rate_confidence_sequence(b.failures, b.exposure, rule.alpha / 2, rule);
  if (d.a.lower > d.b.upper) {
    d.outcome = SequentialOutcome::kDifferent;
    d.direction = Direction::kAFailsMore;
  } else if (d.b.lower > d.a.upper) {
    d.outcome = SequentialOutcome::kDifferent;
    d.direction = Direction::kAFailsLess;
  }
  return d;
}

}  // namespace numasoak::stats
