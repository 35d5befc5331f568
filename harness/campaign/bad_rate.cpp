#include "campaign/bad_rate.h"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <vector>

#include "common/duration.h"
#include "common/error.h"
#include "stats/format.h"
#include "stats/outcome.h"
#include "stats/stats.h"
#include "store/store.h"

namespace numasoak {

// "1000/h", "0.3/s", "20/min", "2/d" -> failures per hour.
double parse_rate_per_hour(const std::string& text) {
  const auto bad = [&] {
    return usage_error(fmt::format("--bad-rate: \"{}\" is not a failure rate", text), "e.g. 1000/h, 0.5/s, 20/min, 3/d");
  };
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0) throw bad();
  double n = 0;
  try {
    size_t used = 0;
    n = std::stod(text.substr(0, slash), &used);
    if (used != slash) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  const std::string unit = text.substr(slash + 1);
  double per_hour = 0;
  if (unit == "h" || unit == "hour") per_hour = 1;
  else if (unit == "s" || unit == "sec") per_hour = 3600;
  else if (unit == "m" || unit == "min") per_hour = 60;
  else if (unit == "d" || unit == "day") per_hour = 1.0 / 24;
  else throw bad();
  if (!std::isfinite(n) || n <= 0) throw bad();
  return n * per_hour;
}

// The bad end's failure rate from an earlier campaign: the named kernel's
// (or the one failing most), at the lower end of its exact interval at
// `confidence`, so the survival asked for is long enough even if the rate
// was overestimated. Returns the rate and a line saying where it came from.
BadRate rate_from_campaign(const std::string& where, const std::string& kernel, double confidence) {
  std::filesystem::path dir = where;
  if (dir.filename() == kStoreFileName) dir = dir.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / kStoreFileName, ec)) {
    throw usage_error(fmt::format("--bad-rate-from: {} has no {}", dir.string(), kStoreFileName),
                      "give a campaign's output folder (numasoak-out/NAME)");
  }
  const Store store = Store::open_read_only(dir);
  std::map<std::string, std::vector<stats::RunOutcome>> by_kernel;
  for (const RunResult& r : store.finished_runs()) {
    if (auto o = stats::outcome_of(r)) by_kernel[r.kernel].push_back(*o);
  }
  std::optional<stats::RateEstimate> best;
  std::string best_kernel;
  for (const auto& [name, runs] : by_kernel) {
    if (!kernel.empty() && name != kernel) continue;
    const stats::Tally t = stats::tally_seconds(runs);
    const auto est = stats::failures_per_hour(t.failures, std::chrono::milliseconds(static_cast<long long>(t.exposure * 1000)), confidence);
    if (est.failures == 0) continue;
    if (!best || est.lower > best->lower) {
      best = est;
      best_kernel = name;
    }
  }
  if (!best) {
    throw usage_error(fmt::format("--bad-rate-from: no {}failed run in {}", kernel.empty() ? "" : "kernel " + kernel + " ", (dir / kStoreFileName).string()),
                      "the bad end must have failed there; or give --bad-rate");
  }
  return {best->lower, fmt::format("{} in {}: {} failure(s) in {}, {} (using the lower end)", best_kernel, dir.string(), best->failures,
                                   format_duration(std::chrono::milliseconds(static_cast<long long>(best->exposure * 3600 * 1000))),
                                   stats::format_rate(*best))};
}

BadRate resolve_bad_rate(const std::string& rate_text, const std::string& from_campaign, const std::string& kernel,
                         double confidence) {
  if (rate_text.empty() == from_campaign.empty()) {
    throw usage_error("the bad end's failure rate is needed", "give --bad-rate (e.g. 1000/h) or --bad-rate-from CAMPAIGN_DIR");
  }
  if (!rate_text.empty()) return {parse_rate_per_hour(rate_text), "--bad-rate " + rate_text};
  return rate_from_campaign(from_campaign, kernel, confidence);
}

}  // namespace numasoak
