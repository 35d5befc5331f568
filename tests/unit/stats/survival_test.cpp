// The survival a bisection step needs: -ln(1 - confidence) / bad rate.
#include <gtest/gtest.h>

#include <cmath>

#include "stats/survival.h"

namespace numasoak::stats {
namespace {

TEST(SurvivalNeeded, RuleOfThreeInTimeRoundedUpToASecond) {
  auto r = survival_needed(1000, 0.95);  // ln 20 / 1000 h = 10.78 s
  EXPECT_EQ(r.needed, std::chrono::seconds(11));
  EXPECT_LE(r.miss_probability, 0.05);
  EXPECT_NEAR(r.miss_probability, std::exp(-1000.0 * 11 / 3600), 1e-12);
  r = survival_needed(100, 0.95);
  EXPECT_EQ(r.needed, std::chrono::seconds(108));
  r = survival_needed(100, 0.99);  // ln 100 / 100 h = 165.8 s
  EXPECT_EQ(r.needed, std::chrono::seconds(166));
  EXPECT_EQ(survival_needed(1e9, 0.95).needed, std::chrono::seconds(1));  // never 0
  EXPECT_NE(explain(survival_needed(1000, 0.95)).find("passing needs 11s"), std::string::npos) << explain(survival_needed(1000, 0.95));
}

TEST(SurvivalNeeded, BadArgumentsThrow) {
  EXPECT_THROW(survival_needed(0, 0.95), std::invalid_argument);
  EXPECT_THROW(survival_needed(-1, 0.95), std::invalid_argument);
  EXPECT_THROW(survival_needed(NAN, 0.95), std::invalid_argument);
  EXPECT_THROW(survival_needed(100, 1.0), std::invalid_argument);
  EXPECT_THROW(survival_needed(100, 0.0), std::invalid_argument);
}

}  // namespace
}  // namespace numasoak::stats
