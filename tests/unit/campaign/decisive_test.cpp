// stop = "decisive" on a campaign too small for the sequential rule to ever
// stop it: the user is told (the default campaign's 4 runs per kernel).
#include <gtest/gtest.h>

#include "campaign/decisive.h"

using namespace numasoak;

namespace {

Campaign two_kernels(int runs, CampaignStop stop, double confidence = 0.95) {
  Campaign c;
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

}  // namespace
