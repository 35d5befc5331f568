// What stop = "decisive" means for a campaign: the sequential rule it uses
// (stats::sequential_decision at the campaign's confidence) and whether the
// campaign is large enough for that rule ever to stop it early.
#pragma once

#include <optional>
#include <string>

#include "config/campaign.h"
#include "stats/stats.h"

namespace numasoak {

// alpha = beta = 1 - confidence, the default effect (a 4x rate ratio).
stats::SequentialRule sequential_rule(const Campaign& c);

// For a decisive campaign whose runs_per_kernel is below the fewest pairs
// the rule needs (stats::sequential_min_pairs), the warning to print: it
// will run every planned run. nullopt otherwise.
std::optional<std::string> decisive_limit_warning(const Campaign& c);

}  // namespace numasoak
