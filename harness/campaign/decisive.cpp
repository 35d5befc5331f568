#include "campaign/decisive.h"

#include <fmt/format.h>

#include <algorithm>

namespace numasoak {

stats::SequentialRule sequential_rule(const Campaign& c) {
  stats::SequentialRule rule;
  rule.alpha = 1.0 - c.confidence;
  rule.beta = 1.0 - c.confidence;
  return rule;
}

std::optional<std::string> decisive_limit_warning(const Campaign& c) {
  if (c.stop != CampaignStop::kDecisive || c.kernel_names.size() < 2) return std::nullopt;
  // Each pair of runs is one coin: too few pairs never reach the threshold.
  const std::size_t need = stats::sequential_min_pairs(sequential_rule(c));
  if (static_cast<std::size_t>(std::max(0, c.runs_per_kernel)) >= need) return std::nullopt;
  return fmt::format(
      "stop = \"decisive\" cannot end this campaign early: at confidence {} the sequential rule needs at least {} "
      "runs per kernel (pairs where one build failed first), runs_per_kernel is {}",
      c.confidence, need, c.runs_per_kernel);
}

}  // namespace numasoak
