// The math behind stats.h. Each function cites its method there; comments
// here explain the computational choices.
#include "stats/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <fmt/format.h>

namespace numasoak::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// S(t) computed as a product of fractions can land a hair above an exact 0.5
// (e.g. 0.5000000000000001); "S <= 0.5" must still hold there.
constexpr double kHalf = 0.5 + 1e-12;

void check_confidence(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument(fmt::format("confidence must be in (0, 1), got {}", confidence));
}

void check_exposure(double exposure) {
  if (!(exposure >= 0.0) || std::isinf(exposure))
    throw std::invalid_argument(fmt::format("exposure must be finite and >= 0, got {}", exposure));
}

double chi2_quantile(double dof, double probability) {
  return boost::math::quantile(boost::math::chi_squared_distribution<double>(dof), probability);
}

// z such that P(|Z| <= z) = confidence.
double two_sided_z(double confidence) {
  return boost::math::quantile(boost::math::normal_distribution<double>(0.0, 1.0),
                               0.5 + confidence / 2.0);
}

double as_double(std::size_t n) { return static_cast<double>(n); }

// Binomial(n, p) tails through the regularized incomplete beta function,
// which stays accurate far into the tails (p-values like 1e-30).
double binomial_upper_tail(std::uint64_t k, std::uint64_t n, double p) {  // P(X >= k)
  if (k == 0) return 1.0;
  if (k > n) return 0.0;
  return boost::math::ibeta(static_cast<double>(k), static_cast<double>(n - k + 1), p);
}
double binomial_lower_tail(std::uint64_t k, std::uint64_t n, double p) {  // P(X <= k)
  if (k >= n) return 1.0;
  return boost::math::ibetac(static_cast<double>(k + 1), static_cast<double>(n - k), p);
}


}  // namespace

// ---------------------------------------------------------------------------
// Runs

Tally tally_seconds(std::span<const RunOutcome> runs) {
  Tally t;
  Duration total{0};
  for (const RunOutcome& r : runs) {
    if (r.failed) ++t.failures;
    total += r.time;
  }
  t.exposure = seconds(total);
  return t;
}

// ---------------------------------------------------------------------------
// 1. Poisson rates

CountInterval garwood_interval(std::uint64_t events, double confidence) {
  check_confidence(confidence);
  const double alpha = 1.0 - confidence;
  const double k = static_cast<double>(events);
  CountInterval ci;
  // chi2 with 2k degrees of freedom, halved, is the Gamma(k) distribution:
  // the waiting "time" (in mean units) for the k-th event of a Poisson process.
  ci.lower = events == 0 ? 0.0 : chi2_quantile(2.0 * k, alpha / 2.0) / 2.0;
  ci.upper = chi2_quantile(2.0 * k + 2.0, 1.0 - alpha / 2.0) / 2.0;
  return ci;
}

double poisson_upper_bound(std::uint64_t events, double confidence) {
  check_confidence(confidence);
  return chi2_quantile(2.0 * static_cast<double>(events) + 2.0, confidence) / 2.0;
}

RateEstimate poisson_rate(std::uint64_t failures, double exposure, RateUnit unit, double confidence) {
  check_confidence(confidence);
  check_exposure(exposure);
  RateEstimate r;
  r.failures = failures;
  r.exposure = exposure;
  r.unit = unit;
  r.confidence = confidence;
  r.upper_bound_only = failures == 0;
  if (exposure == 0.0) {  // nothing observed: no information at all
    r.rate = failures > 0 ? kInf : kNaN;
    r.lower = 0.0;
    r.upper = kInf;
    return r;
  }
  r.rate = static_cast<double>(failures) / exposure;
  if (failures == 0) {
    r.lower = 0.0;
    r.upper = poisson_upper_bound(0, confidence) / exposure;
  } else {
    const CountInterval ci = garwood_interval(failures, confidence);
    r.lower = ci.lower / exposure;
    r.upper = ci.upper / exposure;
  }
  return r;
}

RateEstimate failures_per_hour(std::uint64_t failures, Duration exposure, double confidence) {
  if (exposure.count() < 0) throw std::invalid_argument("exposure must be >= 0");
  return poisson_rate(failures, seconds(exposure) / 3600.0, RateUnit::kPerHour, confidence);
}

RateEstimate failures_per_million_events(std::uint64_t failures, double events, double confidence) {
  check_exposure(events);
  return poisson_rate(failures, events / 1e6, RateUnit::kPerMillionEvents, confidence);
}

// ---------------------------------------------------------------------------
// 2. Kaplan-Meier

KaplanMeier kaplan_meier(std::span<const RunOutcome> runs, double confidence) {
  check_confidence(confidence);
  KaplanMeier km;
  km.confidence = confidence;
  km.runs = runs.size();

  std::vector<RunOutcome> sorted(runs.begin(), runs.end());
  for (const RunOutcome& r : sorted) {
    if (r.time.count() < 0) throw std::invalid_argument("run time must be >= 0");
    if (r.failed) ++km.failures;
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const RunOutcome& x, const RunOutcome& y) { return x.time < y.time; });

  const double z = two_sided_z(confidence);
  double survival = 1.0;
  double greenwood = 0.0;  // sum d / (n (n - d)): variance of ln S
  std::size_t at_risk = sorted.size();
  for (std::size_t i = 0; i < sorted.size();) {
    KmStep step;
    step.time = sorted[i].time;
    step.at_risk = at_risk;
    for (; i < sorted.size() && sorted[i].time == step.time; ++i) {
      if (sorted[i].failed) ++step.events;
      else ++step.censored;
    }
    if (step.events > 0) {
      const double n = as_double(step.at_risk);
      const double d = as_double(step.events);
      survival *= 1.0 - d / n;
      greenwood = step.events < step.at_risk ? greenwood + d / (n * (n - d)) : kInf;
    }
    step.survival = survival;
    if (survival <= 0.0) {
      step.survival = 0.0;
      step.std_error = kNaN;
      step.lower = step.upper = 0.0;
    } else if (survival >= 1.0) {  // before any failure: no uncertainty about S = 1
      step.std_error = 0.0;
      step.lower = step.upper = 1.0;
    } else {
      step.std_error = survival * std::sqrt(greenwood);
      // Delta method on ln(-ln S): se = sqrt(v) / |ln S|. The band
      // exp(-exp(ln(-ln S) +- z se)) is S raised to exp(+-z se).
      const double se = std::sqrt(greenwood) / std::fabs(std::log(survival));
      step.lower = std::pow(survival, std::exp(z * se));
      step.upper = std::pow(survival, std::exp(-z * se));
    }
    at_risk -= step.events + step.censored;
    km.steps.push_back(step);
  }

  // The curve (and its bands) only move at failure times, so the first step
  // whose value is <= 0.5 is where each crosses one half.
  for (const KmStep& s : km.steps) {
    if (s.events == 0) continue;
    if (!km.median && s.survival <= kHalf) km.median = s.time;
    if (!km.median_lower && s.lower <= kHalf) km.median_lower = s.time;
    if (!km.median_upper && s.upper <= kHalf) km.median_upper = s.time;
  }
  return km;
}

double KaplanMeier::survival_at(Duration t) const {
  double s = 1.0;
  for (const KmStep& step : steps) {
    if (step.time > t) break;
    s = step.survival;
  }
  return s;
}

// ---------------------------------------------------------------------------
// 3. Comparing two kernels

RateComparison compare_rates(Tally a, Tally b, double confidence) {
  check_confidence(confidence);
  check_exposure(a.exposure);
  check_exposure(b.exposure);
  RateComparison c;
  c.a = a;
  c.b = b;
  c.confidence = confidence;
  c.ratio_lower = 0.0;
  c.ratio_upper = kInf;

  const std::uint64_t n = a.failures + b.failures;
  if (a.exposure <= 0.0 || b.exposure <= 0.0) return c;  // one side never ran: cannot tell
  c.expected_share_a = a.exposure / (a.exposure + b.exposure);
  // Cross-multiplied to avoid dividing by a zero count.
  const double lhs = static_cast<double>(a.failures) * b.exposure;
  const double rhs = static_cast<double>(b.failures) * a.exposure;
  c.direction = lhs > rhs ? Direction::kAFailsMore : lhs < rhs ? Direction::kAFailsLess : Direction::kNone;
  if (n == 0) return c;  // no failures: p = 1, ratio 0/0, interval [0, inf]

  c.informative = true;
  c.ratio = a.failures == 0 ? 0.0 : b.failures == 0 ? kInf : lhs / rhs;

  const double p0 = c.expected_share_a;
  c.p_a_fails_more = binomial_upper_tail(a.failures, n, p0);
  c.p_a_fails_less = binomial_lower_tail(a.failures, n, p0);
  c.p_two_sided = std::min(1.0, 2.0 * std::min(c.p_a_fails_more, c.p_a_fails_less));

  // Clopper-Pearson for p = share of failures that are A's, then
  // ratio = p/(1-p) * E_B/E_A (monotone in p, so the ends map to the ends).
  const double alpha = 1.0 - confidence;
  const double ka = static_cast<double>(a.failures);
  const double kb = static_cast<double>(b.failures);
  const double p_lo = a.failures == 0 ? 0.0 : boost::math::ibeta_inv(ka, kb + 1.0, alpha / 2.0);
  const double p_hi = b.failures == 0 ? 1.0 : boost::math::ibeta_inv(ka + 1.0, kb, 1.0 - alpha / 2.0);
  const double exposure_ratio = b.exposure / a.exposure;
  c.ratio_lower = p_lo / (1.0 - p_lo) * exposure_ratio;
  c.ratio_upper = p_hi >= 1.0 ? kInf : p_hi / (1.0 - p_hi) * exposure_ratio;
  return c;
}

LogRankTest log_rank_test(std::span<const RunOutcome> a, std::span<const RunOutcome> b) {
  struct Item {
    Duration time;
    bool failed;
    bool is_a;
  };
  std::vector<Item> all;
  all.reserve(a.size() + b.size());
  for (const RunOutcome& r : a) all.push_back({r.time, r.failed, true});
  for (const RunOutcome& r : b) all.push_back({r.time, r.failed, false});
  std::sort(all.begin(), all.end(), [](const Item& x, const Item& y) { return x.time < y.time; });

  LogRankTest t;
  double at_risk_a = as_double(a.size());
  double at_risk = as_double(all.size());
  for (std::size_t i = 0; i < all.size();) {
    const Duration time = all[i].time;
    double d = 0.0, d_a = 0.0, leaving = 0.0, leaving_a = 0.0;
    for (; i < all.size() && all[i].time == time; ++i) {
      leaving += 1.0;
      if (all[i].is_a) leaving_a += 1.0;
      if (all[i].failed) {
        d += 1.0;
        if (all[i].is_a) d_a += 1.0;
      }
    }
    if (d > 0.0) {
      const double share = at_risk_a / at_risk;
      t.observed_a += d_a;
      t.expected_a += d * share;
      if (at_risk > 1.0) t.variance += d * share * (1.0 - share) * (at_risk - d) / (at_risk - 1.0);
    }
    at_risk -= leaving;
    at_risk_a -= leaving_a;
  }
  const double diff = t.observed_a - t.expected_a;
  if (t.variance > 0.0) {
    t.chi_square = diff * diff / t.variance;
    t.p_value = boost::math::cdf(
        boost::math::complement(boost::math::chi_squared_distribution<double>(1.0), t.chi_square));
  }
  if (diff > 1e-12) t.direction = Direction::kAFailsMore;
  else if (diff < -1e-12) t.direction = Direction::kAFailsLess;
  return t;
}

// ---------------------------------------------------------------------------
// 4. Sequential stopping rule

SequentialDecision sequential_decision(std::span<const RunOutcome> a, std::span<const RunOutcome> b,
                                       const SequentialRule& rule) {
  if (!(rule.alpha > 0.0 && rule.alpha < 1.0) || !(rule.beta > 0.0 && rule.beta < 1.0))
    throw std::invalid_argument("sequential rule: alpha and beta must be in (0, 1)");
  if (!(rule.effect > 1.0) || std::isinf(rule.effect))
    throw std::invalid_argument("sequential rule: effect must be a finite ratio > 1");

  SequentialDecision d;
  d.threshold = 1.0 / rule.alpha;
  d.futility_threshold = 1.0 / rule.beta;
  d.pairs = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < d.pairs; ++i) {
    const RunOutcome& x = a[i];
    const RunOutcome& y = b[i];
    // Gehan's rule: a failure counts as "first" only if the other run was
    // certainly still going then (failed later, or stopped no earlier).
    const bool a_first = x.failed && (y.failed ? x.time < y.time : x.time <= y.time);
    const bool b_first = y.failed && (x.failed ? y.time < x.time : y.time <= x.time);
    if (a_first) ++d.a_failed_first;
    else if (b_first) ++d.b_failed_first;
  }

  // Log likelihood ratios against the fair coin of equal kernels.
  const double p1 = rule.effect / (1.0 + rule.effect);
  const double up = std::log(2.0 * p1);           // > 0
  const double down = std::log(2.0 * (1.0 - p1));  // < 0
  const double na = as_double(d.a_failed_first);
  const double nb = as_double(d.b_failed_first);
  const double log_lr_a_more = na * up + nb * down;
  const double log_lr_a_less = na * down + nb * up;

  // log((e^x + e^y) / 2) without overflow; e-values are capped at ~1e300
  // only for printing, decisions use the logs.
  const double hi = std::max(log_lr_a_more, log_lr_a_less);
  const double lo = std::min(log_lr_a_more, log_lr_a_less);
  const double log_e = hi + std::log1p(std::exp(lo - hi)) - std::log(2.0);
  const double log_futility = -hi;  // min(1/LR+, 1/LR-)
  constexpr double kMaxLog = 690.0;
  d.statistic = std::exp(std::min(log_e, kMaxLog));
  d.futility_statistic = std::exp(std::min(log_futility, kMaxLog));

  if (log_e >= std::log(d.threshold)) {
    d.outcome = SequentialOutcome::kDifferent;
    d.direction = log_lr_a_more >= log_lr_a_less ? Direction::kAFailsMore : Direction::kAFailsLess;
  } else if (log_futility >= std::log(d.futility_threshold)) {
    d.outcome = SequentialOutcome::kNoLargeDifference;
  }
  return d;
}

std::size_t sequential_min_pairs(const SequentialRule& rule) {
  // The same decision as sequential_decision() with n pairs where A failed
  // first and none where B did, grown until it says "different".
  std::vector<RunOutcome> a, b;
  for (std::size_t n = 1;; ++n) {
    a.push_back({Duration(1), true});
    b.push_back({Duration(2), false});
    if (sequential_decision(a, b, rule).outcome == SequentialOutcome::kDifferent) return n;
  }
}

// ---------------------------------------------------------------------------
// 5. Intensity parity

double median(std::span<const double> values) {
  if (values.empty()) return kNaN;
  std::vector<double> v(values.begin(), values.end());
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2.0;
}

IntensityParity compare_intensity(std::span<const double> a, std::span<const double> b, double max_ratio) {
  if (!(max_ratio >= 1.0)) throw std::invalid_argument("intensity parity: max_ratio must be >= 1");
  IntensityParity p;
  p.max_ratio = max_ratio;
  if (a.empty() || b.empty()) return p;
  p.comparable = true;
  p.median_a = median(a);
  p.median_b = median(b);
  const double high = std::max(p.median_a, p.median_b);
  const double low = std::min(p.median_a, p.median_b);
  if (high <= 0.0) return p;  // both zero: equal (and the workload is idle, another check's business)
  p.higher = p.median_a > p.median_b   ? IntensityParity::Higher::kA
             : p.median_b > p.median_a ? IntensityParity::Higher::kB
                                       : IntensityParity::Higher::kNeither;
  p.ratio = low > 0.0 ? high / low : kInf;
  p.flagged = p.ratio > max_ratio;
  return p;
}

// ---------------------------------------------------------------------------
// 6. Summaries and formatting

OutcomeSummary summarize_runs(std::span<const RunOutcome> runs, double confidence,
                              std::optional<double> race_events) {
  OutcomeSummary s;
  s.runs = runs.size();
  for (const RunOutcome& r : runs) {
    if (r.failed) ++s.failures;
    s.exposure += r.time;
  }
  s.rate = failures_per_hour(s.failures, s.exposure, confidence);
  if (race_events) s.rate_per_million_events = failures_per_million_events(s.failures, *race_events, confidence);
  const KaplanMeier km = kaplan_meier(runs, confidence);
  s.median = km.median;
  s.median_lower = km.median_lower;
  s.median_upper = km.median_upper;
  return s;
}

}  // namespace numasoak::stats
