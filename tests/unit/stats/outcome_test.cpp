// outcome_of: the one RunResult -> RunOutcome conversion.
#include "stats/outcome.h"

#include <gtest/gtest.h>

namespace numasoak::stats {
namespace {

RunResult result(Verdict v, std::optional<double> ttf, double exposure) {
  RunResult r;
  r.verdict = v;
  r.time_to_failure_s = ttf;
  r.exposure_s = exposure;
  return r;
}

TEST(Outcome, AFailedRunFailsAtItsTimeToFailure) {
  const auto o = outcome_of(result(Verdict::kFailed, 12.3456, 12.4));
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->failed);
  EXPECT_EQ(o->time.count(), 12346);
}

TEST(Outcome, AFailedRunWithoutATimeToFailureFailsWithinItsExposureNotAtZero) {
  const auto o = outcome_of(result(Verdict::kFailed, std::nullopt, 30.0));
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->failed);
  EXPECT_EQ(o->time.count(), 30000);
}

TEST(Outcome, ASurvivedRunIsCensoredAtItsExposure) {
  const auto o = outcome_of(result(Verdict::kSurvived, std::nullopt, 180.0));
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->failed);
  EXPECT_EQ(o->time.count(), 180000);
}

TEST(Outcome, ErrorsAndInterruptedRunsAreNoEvidence) {
  EXPECT_FALSE(outcome_of(result(Verdict::kError, std::nullopt, 10)));
  EXPECT_FALSE(outcome_of(result(Verdict::kInterrupted, std::nullopt, 10)));
}

}  // namespace
}  // namespace numasoak::stats
