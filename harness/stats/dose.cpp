// The math behind dose.h. The fit works on the profile likelihood in b:
// for fixed b the maximum over log a is closed-form, so the 2-parameter
// Newton-Raphson reduces to a 1-D Newton on a concave function (with a
// bisection fallback), which cannot diverge the way a naive 2-D Newton can
// on small counts.
#include "stats/dose.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <stdexcept>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>

namespace numasoak::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// One width in the fit: x = ln(width), exposure T (hours), failures k.
struct FitPoint {
  double x = 0;
  double exposure = 0;
  double failures = 0;
};

/// ln sum_i T_i exp(b x_i), the log of the profile's normaliser, computed
/// without overflow for large |b|.
double log_weight_sum(const std::vector<FitPoint>& pts, double b) {
  double top = -kInf;
  for (const auto& p : pts) top = std::max(top, std::log(p.exposure) + b * p.x);
  double sum = 0;
  for (const auto& p : pts) sum += std::exp(std::log(p.exposure) + b * p.x - top);
  return top + std::log(sum);
}

/// The weighted mean and variance of x with weights T_i exp(b x_i): the
/// fitted failures' mean log width, and the curvature of the profile.
std::pair<double, double> weighted_moments(const std::vector<FitPoint>& pts, double b) {
  const double lse = log_weight_sum(pts, b);
  double m = 0, m2 = 0;
  for (const auto& p : pts) {
    const double w = std::exp(std::log(p.exposure) + b * p.x - lse);
    m += w * p.x;
    m2 += w * p.x * p.x;
  }
  return {m, std::max(0.0, m2 - m * m)};
}

/// Profile log-likelihood l(b) = max over log a, up to a constant.
double profile_loglik(const std::vector<FitPoint>& pts, double total_failures, double b) {
  double sum_kx = 0;
  for (const auto& p : pts) sum_kx += p.failures * p.x;
  return b * sum_kx - total_failures * log_weight_sum(pts, b);
}

/// Where the profile drops by `drop` from its maximum at `b_hat`, on the
/// side `direction` (+1 / -1); +-inf when it never does within reach.
double profile_limit(const std::vector<FitPoint>& pts, double total, double b_hat, double drop, int direction) {
  const double top = profile_loglik(pts, total, b_hat);
  auto below = [&](double b) { return top - profile_loglik(pts, total, b) > drop; };
  double step = 0.25;
  double inside = b_hat, outside = b_hat + direction * step;
  while (!below(outside)) {
    inside = outside;
    step *= 2;
    outside = b_hat + direction * step;
    if (step > 1e4) return direction * kInf;
  }
  for (int i = 0; i < 200 && std::abs(outside - inside) > 1e-12; ++i) {
    const double mid = (inside + outside) / 2;
    (below(mid) ? outside : inside) = mid;
  }
  return (inside + outside) / 2;
}

}  // namespace

double PowerLawFit::rate_at(double width_us) const { return a * std::pow(width_us, b); }

std::optional<PowerLawFit> fit_power_law(std::span<const DoseObservation> observations, double confidence,
                                         double natural_width_us, std::string* why) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument(fmt::format("confidence must be in (0, 1), got {}", confidence));
  if (!(natural_width_us > 0.0)) throw std::invalid_argument("the natural width must be > 0");
  std::string ignored;
  std::string& reason = why ? *why : ignored;
  std::uint64_t all_failures = 0;
  std::vector<FitPoint> pts;
  std::vector<int> widths;
  for (const auto& o : observations) {
    if (o.width_us < 0) throw std::invalid_argument(fmt::format("width must be >= 0, got {}", o.width_us));
    if (!(o.exposure_h >= 0.0) || std::isinf(o.exposure_h))
      throw std::invalid_argument(fmt::format("exposure must be finite and >= 0, got {}", o.exposure_h));
    all_failures += o.failures;
    // Width 0 has no place on log-log axes; a width never run says nothing.
    if (o.width_us == 0 || o.exposure_h == 0.0) continue;
    pts.push_back({std::log(static_cast<double>(o.width_us)), o.exposure_h, static_cast<double>(o.failures)});
    widths.push_back(o.width_us);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  if (all_failures == 0) {
    reason = "no failures at any width: nothing to fit (each width has only an upper bound)";
    return std::nullopt;
  }
  if (widths.size() < 2) {
    reason = widths.empty() ? "no width above 0 has exposure: a slope needs two widths"
                            : fmt::format("only one width above 0 ({} us) has exposure: a slope needs two", widths[0]);
    return std::nullopt;
  }
  double total = 0, sum_kx = 0;
  for (const auto& p : pts) {
    total += p.failures;
    sum_kx += p.failures * p.x;
  }
  if (total == 0) {
    reason = "no failures at any width above 0: nothing to fit";
    return std::nullopt;
  }
  // The MLE solves "weighted mean log width = failures' mean log width";
  // the weighted mean spans (x_min, x_max) as b runs over the reals, so a
  // finite b exists iff the failures' mean lies strictly inside.
  const double target = sum_kx / total;
  const double x_min = std::log(static_cast<double>(widths.front()));
  const double x_max = std::log(static_cast<double>(widths.back()));
  constexpr double kEdge = 1e-12;
  if (target <= x_min + kEdge) {
    reason = fmt::format("every failure was at the narrowest width ({} us): no finite slope fits", widths.front());
    return std::nullopt;
  }
  if (target >= x_max - kEdge) {
    reason = fmt::format("every failure was at the widest width ({} us): no finite slope fits", widths.back());
    return std::nullopt;
  }

  // Newton on the concave profile, kept inside a bracket [lo, hi] of the
  // root of m(b) - target (m increases with b).
  double lo = -1.0, hi = 1.0;
  for (int i = 0; i < 60 && weighted_moments(pts, lo).first > target; ++i) lo *= 2;
  for (int i = 0; i < 60 && weighted_moments(pts, hi).first < target; ++i) hi *= 2;
  double b = 1.0;
  int it = 0;
  for (; it < 100; ++it) {
    const auto [m, var] = weighted_moments(pts, b);
    const double g = m - target;
    if (std::abs(g) < 1e-13) break;
    (g > 0 ? hi : lo) = b;
    double next = var > 0 ? b - g / var : (lo + hi) / 2;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (std::abs(next - b) < 1e-14) {
      b = next;
      break;
    }
    b = next;
  }
  PowerLawFit f;
  f.iterations = it + 1;
  f.b = b;
  const double log_a = std::log(total) - log_weight_sum(pts, b);
  f.a = std::exp(log_a);
  f.widths_used = widths;

  // Observed information of (log a, b) at the MLE, and its inverse.
  double i_aa = 0, i_ab = 0, i_bb = 0;
  for (const auto& p : pts) {
    const double mu = p.exposure * std::exp(log_a + b * p.x);
    i_aa += mu;
    i_ab += mu * p.x;
    i_bb += mu * p.x * p.x;
  }
  const double det = i_aa * i_bb - i_ab * i_ab;
  f.log_a_variance = i_bb / det;
  f.covariance = -i_ab / det;
  f.b_variance = i_aa / det;

  const double drop = boost::math::quantile(boost::math::chi_squared_distribution<double>(1.0), confidence) / 2.0;
  f.b_lower = profile_limit(pts, total, b, drop, -1);
  f.b_upper = profile_limit(pts, total, b, drop, +1);

  f.natural_width_us = natural_width_us;
  const double x0 = std::log(natural_width_us);
  const double log_r0 = log_a + b * x0;
  const double var0 = f.log_a_variance + 2 * x0 * f.covariance + x0 * x0 * f.b_variance;
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(0.0, 1.0), 0.5 + confidence / 2.0);
  const double se0 = std::sqrt(std::max(0.0, var0));
  f.natural_rate_per_h = std::exp(log_r0);
  f.natural_lower_per_h = std::exp(log_r0 - z * se0);
  f.natural_upper_per_h = std::exp(log_r0 + z * se0);
  return f;
}

DoseResponse dose_response(std::span<const DoseObservation> observations, double confidence,
                           double natural_width_us) {
  DoseResponse d;
  d.confidence = confidence;
  for (const auto& o : observations) {
    DoseRow row;
    row.observed = o;
    row.per_hour = poisson_rate(o.failures, o.exposure_h, RateUnit::kPerHour, confidence);
    if (o.race_events) row.per_million_events = failures_per_million_events(o.failures, *o.race_events, confidence);
    d.rows.push_back(row);
  }
  d.fit = fit_power_law(observations, confidence, natural_width_us, &d.no_fit_reason);
  return d;
}

}  // namespace numasoak::stats
