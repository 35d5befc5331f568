// stop = "decisive": which test decides, from what evidence, and the warning
// for a campaign too small for the paired test ever to stop it.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "campaign/decisive.h"
#include "unit/common/recorded_runs.h"

using namespace numasoak;

namespace {

Campaign two_kernels(int runs, CampaignStop stop, double confidence = 0.95, DecideBy by = DecideBy::kPairs) {
  Campaign c;
  c.decide_by = by;
  c.kernel_names = {"6.1", "6.1+backport"};
  c.runs_per_kernel = runs;
  c.stop = stop;
  c.confidence = confidence;
  return c;
}

TEST(Decisive, RuleUsesTheCampaignConfidenceForBothErrors) {
  const auto rule = sequential_rule(two_kernels(4, CampaignStop::kDecisive, 0.99));
  EXPECT_DOUBLE_EQ(rule.alpha, 1.0 - 0.99);
  EXPECT_DOUBLE_EQ(rule.beta, 1.0 - 0.99);
}

TEST(Decisive, WarnsWhenRunsPerKernelAreBelowTheFewestPairsThatCanDecide) {
  const auto w = decisive_limit_warning(two_kernels(4, CampaignStop::kDecisive));
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("cannot end this campaign early"), std::string::npos) << *w;
  EXPECT_NE(w->find("at least 8 runs per kernel"), std::string::npos) << *w;
  EXPECT_NE(w->find("runs_per_kernel is 4"), std::string::npos) << *w;
  EXPECT_TRUE(decisive_limit_warning(two_kernels(7, CampaignStop::kDecisive)));
  EXPECT_FALSE(decisive_limit_warning(two_kernels(8, CampaignStop::kDecisive)));
  EXPECT_FALSE(decisive_limit_warning(two_kernels(4, CampaignStop::kFixed)));
  // At 99% the rule needs more: 1.6^n / 2 >= 100 from n = 12.
  EXPECT_TRUE(decisive_limit_warning(two_kernels(11, CampaignStop::kDecisive, 0.99)));
  EXPECT_FALSE(decisive_limit_warning(two_kernels(12, CampaignStop::kDecisive, 0.99)));
}

TEST(Decisive, TheRateTestHasNoFloorOfPairsSoItNeverWarns) {
  EXPECT_FALSE(decisive_limit_warning(two_kernels(2, CampaignStop::kDecisive, 0.95, DecideBy::kRates)));
}

// A failing build's runs (failed after `ttf_s`) and a surviving one's (`s` of workload each).
ArmEvidence arm(const std::string& name, int runs, bool failed, double seconds) {
  ArmEvidence e{name, {}, {}};
  for (int i = 0; i < runs; ++i) {
    e.leading.push_back({Duration(static_cast<std::int64_t>(seconds * 1000)), failed});
    e.tally.failures += failed ? 1 : 0;
    e.tally.exposure += seconds / 3600;
  }
  return e;
}

TEST(Decisive, RatesDecideTheDefaultCampaignShapeInThreeRunsEachWherePairsCannot) {
  // 6.1 fails in ~1 s every run; the backport survives 60 s runs.
  const Campaign rates = two_kernels(12, CampaignStop::kDecisive, 0.95, DecideBy::kRates);
  const Campaign pairs = two_kernels(12, CampaignStop::kDecisive, 0.95, DecideBy::kPairs);
  const std::vector<ArmEvidence> three = {arm("6.1", 3, true, 1.0), arm("6.1+backport", 3, false, 60)};
  const auto why = decide_campaign(rates, three);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("decided by failure rates at 95%"), std::string::npos) << *why;
  EXPECT_NE(why->find("6.1 fails at >= "), std::string::npos) << *why;
  EXPECT_NE(why->find("6.1+backport at <= "), std::string::npos) << *why;
  EXPECT_NE(why->find("3 failures in 3.0s of workload"), std::string::npos) << *why;
  EXPECT_FALSE(decide_campaign(pairs, three));  // 3 coins cannot reach e-value 20
  // Fewer runs of the survivor: too little exposure to bound its rate.
  EXPECT_FALSE(decide_campaign(rates, {arm("6.1", 3, true, 1.0), arm("6.1+backport", 1, false, 10)}));
  // Nothing fails: the rate test never says "no difference"; it runs on.
  EXPECT_FALSE(decide_campaign(rates, {arm("a", 12, false, 60), arm("b", 12, false, 60)}));
  // Nor does the paired test: a pair where neither build failed is no coin.
  EXPECT_FALSE(decide_campaign(pairs, {arm("a", 12, false, 60), arm("b", 12, false, 60)}));
}

TEST(Decisive, RatesNameTheFailingBuildWhicheverSideItIs) {
  const Campaign c = two_kernels(12, CampaignStop::kDecisive, 0.95, DecideBy::kRates);
  const auto why = decide_campaign(c, {arm("fixed", 4, false, 60), arm("broken", 4, true, 1.0)});
  ASSERT_TRUE(why);
  EXPECT_EQ(why->find("decided by failure rates at 95%: broken fails at"), 0u) << *why;
}

TEST(Decisive, ExposureOfRunsStillGoingCountsTowardTheSurvivor) {
  const Campaign c = two_kernels(12, CampaignStop::kDecisive, 0.95, DecideBy::kRates);
  ArmEvidence good = arm("6.1+backport", 1, false, 60);
  const ArmEvidence bad = arm("6.1", 3, true, 1.0);
  EXPECT_FALSE(decide_campaign(c, {bad, good}));
  good.tally.exposure += 120.0 / 3600;  // two minutes into runs still going, no failure yet
  EXPECT_TRUE(decide_campaign(c, {bad, good}));
}

TEST(Decisive, MoreArmsSplitTheErrorSoEachIntervalIsWider) {
  const Campaign c = two_kernels(12, CampaignStop::kDecisive, 0.95, DecideBy::kRates);
  EXPECT_NEAR(rate_rule(c, 2).alpha, 0.05, 1e-12);
  EXPECT_NEAR(rate_rule(c, 4).alpha, 0.025, 1e-12);
  // Just enough for two arms is not enough for three: each vs the baseline
  // at a wider interval.
  std::optional<int> runs_two, runs_three;
  for (int n = 1; n <= 12; ++n) {
    const auto bad = arm("bad", n, true, 1.0);
    const auto good = arm("good", n, false, 60);
    if (!runs_two && decide_campaign(c, {bad, good})) runs_two = n;
    if (!runs_three && decide_campaign(c, {bad, good, arm("good2", n, false, 60)})) runs_three = n;
  }
  ASSERT_TRUE(runs_two && runs_three);
  EXPECT_LE(*runs_two, *runs_three);
  EXPECT_GT(rate_rule(c, 2).alpha, rate_rule(c, 3).alpha);
}

// The default campaign (configs/default.toml, 6.1 vs 6.1+backport, 60 s
// runs) recorded with stop = "fixed", 8 runs each, replayed run by run in
// start order through decide_campaign as campaign/runner looks after every
// finished run: the guest time (boot + workload) each test needs to decide.
TEST(Decisive, GuestTimeToDecideTheDefaultCampaignRatesAgainstPairs) {
  const auto rows = test::recorded_runs("default-6.1-runs.csv");
  ASSERT_EQ(rows.size(), 16u);
  std::map<DecideBy, std::optional<double>> decided_at;
  std::map<DecideBy, std::string> why;
  for (const DecideBy by : {DecideBy::kRates, DecideBy::kPairs}) {
    const Campaign c = two_kernels(8, CampaignStop::kDecisive, 0.95, by);
    std::vector<ArmEvidence> arms = {{"6.1", {}, {}}, {"6.1+backport", {}, {}}};
    double guest = 0;
    for (const auto& r : rows) {
      ArmEvidence& e = arms[r.kernel == "6.1" ? 0 : 1];
      e.leading.push_back({Duration(static_cast<std::int64_t>(r.time_s * 1000)), r.failed});
      e.tally.failures += r.failed ? 1 : 0;
      e.tally.exposure += r.time_s / 3600;
      guest += r.boot_s + r.time_s;
      if (auto d = decide_campaign(c, arms)) {
        decided_at[by] = guest;
        why[by] = *d;
        break;
      }
    }
  }
  ASSERT_TRUE(decided_at[DecideBy::kRates]) << "the rate test did not decide the recorded default campaign";
  EXPECT_NE(why[DecideBy::kRates].find("6.1 fails at"), std::string::npos) << why[DecideBy::kRates];
  const double rates = *decided_at[DecideBy::kRates];
  double total = 0;
  for (const auto& r : rows) total += r.boot_s + r.time_s;
  if (decided_at[DecideBy::kPairs]) {
    EXPECT_NE(why[DecideBy::kPairs].find("different"), std::string::npos) << why[DecideBy::kPairs];
    EXPECT_LT(rates, *decided_at[DecideBy::kPairs]);
    std::printf("default campaign: rates decided after %.0f s of guest time, pairs after %.0f s: %.1fx\n  %s\n",
                rates, *decided_at[DecideBy::kPairs], *decided_at[DecideBy::kPairs] / rates,
                why[DecideBy::kRates].c_str());
  } else {
    std::printf("default campaign: rates decided after %.0f s of guest time; pairs not in all 16 runs (%.0f s): > %.1fx\n  %s\n",
                rates, total, total / rates, why[DecideBy::kRates].c_str());
  }
}

}  // namespace
