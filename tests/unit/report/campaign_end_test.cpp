// The verdict says how a campaign ended: decided early by the sequential
// rule (and after how many runs), stopped at its budget, or ran everything.
#include <gtest/gtest.h>

#include "report/summary.h"

using numasoak::report::describe_campaign_end;

TEST(CampaignEnd, DecidedSaysAfterHowManyRunsAndWhy) {
  EXPECT_EQ(describe_campaign_end("decided", "decided: 6.1 vs 6.1+backport: different (e-value 21.5, 8 pairs)", true,
                                  16, 24),
            "The campaign stopped after 16 of 24 planned runs: its sequential rule decided (6.1 vs 6.1+backport: "
            "different (e-value 21.5, 8 pairs)); the p-values above assume a fixed number of runs and are only "
            "indicative.");
}

TEST(CampaignEnd, BudgetBeforeTheRuleDecided) {
  EXPECT_EQ(describe_campaign_end("stopped", "the budget of 2h is spent", true, 9, 40),
            "The campaign stopped after 9 of 40 planned runs (the budget of 2h is spent), before its sequential rule "
            "decided.");
  EXPECT_EQ(describe_campaign_end("stopped", "the budget of 2h is spent", false, 9, 40),
            "The campaign stopped after 9 of 40 planned runs (the budget of 2h is spent).");
}

TEST(CampaignEnd, DecisiveThatRanEverythingAndFixedThatFinished) {
  EXPECT_EQ(describe_campaign_end("finished", "", true, 8, 8),
            "The campaign ran all 8 planned runs without its sequential rule deciding.");
  EXPECT_EQ(describe_campaign_end("finished", "", false, 8, 8), "");
  EXPECT_EQ(describe_campaign_end("running", "", true, 3, 8), "");
}
