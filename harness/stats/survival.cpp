#include "stats/survival.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace numasoak::stats {

SurvivalRequirement survival_needed(double bad_rate_per_hour, double confidence) {
  if (!std::isfinite(bad_rate_per_hour) || bad_rate_per_hour <= 0.0) {
    throw std::invalid_argument("survival_needed: the bad rate must be finite and > 0");
  }
  if (!(confidence > 0.0 && confidence < 1.0)) throw std::invalid_argument("survival_needed: confidence outside (0, 1)");
  SurvivalRequirement r;
  r.bad_rate_per_hour = bad_rate_per_hour;
  r.confidence = confidence;
  const double seconds = std::ceil(-std::log1p(-confidence) / bad_rate_per_hour * 3600.0);
  r.needed = std::chrono::duration_cast<Duration>(std::chrono::seconds(static_cast<long long>(std::max(1.0, seconds))));
  r.miss_probability = std::exp(-bad_rate_per_hour * std::chrono::duration<double>(r.needed).count() / 3600.0);
  return r;
}

std::string explain(const SurvivalRequirement& r) {
  const double secs = std::chrono::duration<double>(r.needed).count();
  const std::string t = secs < 120 ? fmt::format("{:.0f}s", secs) : fmt::format("{:.1f} min", secs / 60);
  const std::string rate = r.bad_rate_per_hour >= 10 ? fmt::format("{:.0f}/h", r.bad_rate_per_hour)
                                                     : fmt::format("{:.2g}/h", r.bad_rate_per_hour);
  return fmt::format("a build failing at >= {} survives {} of workload with probability {:.2g}% (<= {:.2g}%): passing needs {} without a failure",
                     rate, t, r.miss_probability * 100, (1 - r.confidence) * 100, t);
}

}  // namespace numasoak::stats
