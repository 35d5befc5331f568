#include "campaign/decisive.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/duration.h"

namespace numasoak {

namespace {

// "1234/h" or "< 56/h" for the interval ends a decision quotes.
std::string per_hour(double r) {
  if (!std::isfinite(r)) return "?/h";
  return r >= 10 ? fmt::format("{:.0f}/h", r) : fmt::format("{:.2g}/h", r);
}

std::string exposure_text(double hours) {
  return format_duration(Duration(static_cast<std::int64_t>(std::llround(hours * 3600 * 1000))));
}

// "6.1 fails at >= 1200/h (3 failures in 5s), 6.1+backport at <= 140/h (0 in 3m0s)".
std::string rate_line(const ArmEvidence& hi, const stats::RateInterval& hi_i, const ArmEvidence& lo,
                      const stats::RateInterval& lo_i) {
  return fmt::format("{} fails at >= {} ({} failure{} in {} of workload), {} at <= {} ({} in {})", hi.name,
                     per_hour(hi_i.lower), hi.tally.failures, hi.tally.failures == 1 ? "" : "s",
                     exposure_text(hi.tally.exposure), lo.name, per_hour(lo_i.upper), lo.tally.failures,
                     exposure_text(lo.tally.exposure));
}

}  // namespace

stats::SequentialRule sequential_rule(const Campaign& c) {
  stats::SequentialRule rule;
  rule.alpha = 1.0 - c.confidence;
  rule.beta = 1.0 - c.confidence;
  return rule;
}

stats::RateSequentialRule rate_rule(const Campaign& c, std::size_t arms) {
  stats::RateSequentialRule rule;
  // rate_sequential_decision puts each of its two intervals at alpha / 2:
  // alpha = 2 (1 - confidence) / arms leaves each at (1 - confidence) / arms.
  rule.alpha = 2.0 * (1.0 - c.confidence) / static_cast<double>(std::max<std::size_t>(2, arms));
  return rule;
}

std::optional<std::string> decide_campaign(const Campaign& c, const std::vector<ArmEvidence>& arms) {
  if (arms.size() < 2) return std::nullopt;
  const ArmEvidence& base = arms.front();
  std::string text;
  if (c.decide_by == DecideBy::kPairs) {
    const stats::SequentialRule rule = sequential_rule(c);
    for (std::size_t i = 1; i < arms.size(); ++i) {
      const auto d = stats::sequential_decision(base.leading, arms[i].leading, rule);
      if (!d.decided()) return std::nullopt;
      const bool different = d.outcome == stats::SequentialOutcome::kDifferent;
      text += fmt::format("{}{} vs {}: {} (e-value {:.1f}, {} pairs)", text.empty() ? "" : "; ", base.name, arms[i].name,
                          different ? "different" : "no large difference",
                          different ? d.statistic : d.futility_statistic, d.pairs);
    }
    return "decided: " + text;
  }
  const stats::RateSequentialRule rule = rate_rule(c, arms.size());
  for (std::size_t i = 1; i < arms.size(); ++i) {
    const auto d = stats::rate_sequential_decision(base.tally, arms[i].tally, rule);
    if (!d.decided()) return std::nullopt;
    const bool base_more = d.direction == stats::Direction::kAFailsMore;
    text += (text.empty() ? "" : "; ") +
            (base_more ? rate_line(base, d.a, arms[i], d.b) : rate_line(arms[i], d.b, base, d.a));
  }
  return fmt::format("decided by failure rates at {:g}%: {}", c.confidence * 100, text);
}

std::optional<std::string> decisive_limit_warning(const Campaign& c) {
  if (c.stop != CampaignStop::kDecisive || c.kernel_names.size() < 2) return std::nullopt;
  // The rate test can stop after any run; only the paired test has a floor.
  if (c.decide_by != DecideBy::kPairs) return std::nullopt;
  // Each pair of runs is one coin: too few pairs never reach the threshold.
  const std::size_t need = stats::sequential_min_pairs(sequential_rule(c));
  if (static_cast<std::size_t>(std::max(0, c.runs_per_kernel)) >= need) return std::nullopt;
  return fmt::format(
      "stop = \"decisive\" with decide_by = \"pairs\" cannot end this campaign early: at confidence {} the paired "
      "test needs at least {} runs per kernel (pairs where one build failed first), runs_per_kernel is {}",
      c.confidence, need, c.runs_per_kernel);
}

}  // namespace numasoak
