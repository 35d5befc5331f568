#include "stats/format.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace numasoak::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Rounds to two significant digits.
double round2(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  const double scale = std::pow(10.0, 1.0 - std::floor(std::log10(std::fabs(x))));
  return std::round(x * scale) / scale;
}

// Two significant digits, whole numbers from 10 up, scientific below 1e-4.
std::string number(double x) {
  if (std::isnan(x)) return "?";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0.0) return "0";
  const double r = round2(x);
  if (std::fabs(r) >= 10.0) return fmt::format("{:.0f}", x);
  if (std::fabs(r) < 1e-4) return fmt::format("{:.1e}", r);
  const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(std::fabs(r)))));
  return fmt::format("{:.{}f}", r, decimals);
}

std::string percent(double confidence) { return fmt::format("{:.10g}%", confidence * 100.0); }

bool is_95(double confidence) { return std::fabs(confidence - 0.95) < 1e-12; }

}  // namespace

std::string format_rate(const RateEstimate& r) {
  if (!r.has_exposure()) return "no exposure";
  const char* short_unit = "/h";
  const char* long_unit = " failures/hour";
  switch (r.unit) {
    case RateUnit::kPerSecond:
      short_unit = "/s";
      long_unit = " failures/second";
      break;
    case RateUnit::kPerHour:
      break;
    case RateUnit::kPerMillionEvents:
      short_unit = " per 1M events";
      long_unit = " failures per 1M events";
      break;
  }
  if (r.upper_bound_only) return fmt::format("< {}{} ({})", number(r.upper), long_unit, percent(r.confidence));
  std::string text = fmt::format("{}{} [{}, {}]", number(r.rate), short_unit, number(r.lower), number(r.upper));
  if (!is_95(r.confidence)) text += fmt::format(" ({})", percent(r.confidence));
  return text;
}

std::string format_p_value(double p) {
  if (std::isnan(p)) return "p = ?";
  if (p < 1e-9) return "p < 1e-9";
  const double r = round2(p);
  if (r >= 1.0) return "p = 1";
  return "p = " + number(p);
}

std::string format_rate_ratio(const RateComparison& c) {
  if (!c.informative) {
    const bool ran = c.a.exposure > 0.0 && c.b.exposure > 0.0;
    return ran ? "A/B = ? (no failures)" : "A/B = ? (no exposure)";
  }
  std::string text = fmt::format("A/B = {} [{}, {}]", number(c.ratio.value_or(kNaN)),
                                 number(c.ratio_lower), number(c.ratio_upper));
  if (!is_95(c.confidence)) text += fmt::format(" ({})", percent(c.confidence));
  return text;
}

}  // namespace numasoak::stats
