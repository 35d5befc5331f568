// What stop = "decisive" means for a campaign: which sequential test decides
// (decide_by = "rates": stats/rate_sequential's failure-rate confidence
// sequences; "pairs": stats::sequential_decision on which build failed first),
// at the campaign's confidence, from what the runs so far show. Pure: no
// store, no clock; campaign/runner gathers the evidence and calls
// decide_campaign after every finished run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/campaign.h"
#include "stats/rate_sequential.h"
#include "stats/stats.h"

namespace numasoak {

/// What one arm's runs show at a look.
struct ArmEvidence {
  std::string name;
  // Finished runs in start order, up to the first run not finished (the
  // paired test pairs runs by position).
  std::vector<stats::RunOutcome> leading;
  // Every finished run's failures and exposure, plus the workload time so
  // far of runs still going (0 failures yet), in hours: the rate test's
  // exposure clock, which must count all exposure at the look, not only
  // the finished runs (those are biased toward early failures).
  stats::Tally tally;
};

/// The paired rule: alpha = beta = 1 - confidence, the default effect (a 4x
/// rate ratio).
stats::SequentialRule sequential_rule(const Campaign& c);

/// The rate rule for a campaign of `arms` arms: every arm's interval at
/// 1 - (1 - confidence) / arms, so that all of them hold at once with
/// probability >= confidence (Bonferroni) and no comparison against the
/// baseline decides a wrong direction with probability above 1 - confidence.
stats::RateSequentialRule rate_rule(const Campaign& c, std::size_t arms);

/// Decided: every arm after the first compared with the first (the
/// baseline) is decided; the text says how ("decided by failure rates: ...").
/// nullopt: keep going. `arms` in the campaign's order.
std::optional<std::string> decide_campaign(const Campaign& c, const std::vector<ArmEvidence>& arms);

/// For a decisive campaign that can never end early with its test (the
/// paired test with runs_per_kernel below stats::sequential_min_pairs), the
/// warning to print: it will run every planned run. nullopt otherwise.
std::optional<std::string> decisive_limit_warning(const Campaign& c);

}  // namespace numasoak
