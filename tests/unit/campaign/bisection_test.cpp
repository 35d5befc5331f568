// campaign/bisection: the order of the steps, the conclusions (fix,
// regression, no change, untestable ends, skipped ranges) and the per-step
// sizing whose error bound holds over any number of steps.
#include "campaign/bisection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>

#include "campaign/bad_rate.h"
#include "common/error.h"

namespace numasoak {
namespace {

using K = BisectionConclusion::Kind;

// Drives a bisection to its end with `truth(k)` as every state's verdict;
// returns the states in test order.
std::vector<int> drive(Bisection& b, const std::function<StepVerdict(int)>& truth) {
  std::vector<int> order;
  while (auto k = b.next()) {
    order.push_back(*k);
    b.record(*k, truth(*k));
    if (order.size() > 100) ADD_FAILURE() << "does not end";
  }
  return order;
}

TEST(Bisection, ThreePatchSeriesWhoseSecondPatchIsTheFixNamesPatchTwo) {
  Bisection b(3);
  const auto order = drive(b, [](int k) { return k >= 2 ? StepVerdict::kGood : StepVerdict::kBad; });
  EXPECT_EQ(order, (std::vector<int>{0, 3, 1, 2}));  // the ends first, then the middle
  const auto c = b.conclusion();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, K::kNamed);
  EXPECT_TRUE(c->fix);
  EXPECT_EQ(c->first, 2);
  EXPECT_EQ(c->text, "first good: patch 2 of 3");
}

TEST(Bisection, EveryPositionOfTheFixIsFoundInLogarithmicSteps) {
  for (int n : {1, 2, 5, 16, 33}) {
    for (int fix = 1; fix <= n; ++fix) {
      Bisection b(n);
      const auto order = drive(b, [&](int k) { return k >= fix ? StepVerdict::kGood : StepVerdict::kBad; });
      const auto c = b.conclusion();
      ASSERT_TRUE(c);
      EXPECT_EQ(c->kind, K::kNamed) << n << " " << fix;
      EXPECT_EQ(c->first, fix) << n;
      EXPECT_LE(static_cast<int>(order.size()), 2 + static_cast<int>(std::ceil(std::log2(n)))) << n << " " << fix;
    }
  }
}

TEST(Bisection, ARegressionIsTheFirstBadPatch) {
  Bisection b(8);
  drive(b, [](int k) { return k >= 6 ? StepVerdict::kBad : StepVerdict::kGood; });
  const auto c = b.conclusion();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, K::kNamed);
  EXPECT_FALSE(c->fix);
  EXPECT_EQ(c->first, 6);
  EXPECT_EQ(c->text, "first bad: patch 6 of 8");
}

TEST(Bisection, EndsThatAgreeNameNothingAfterTwoSteps) {
  Bisection b(4);
  EXPECT_EQ(drive(b, [](int) { return StepVerdict::kBad; }), (std::vector<int>{0, 4}));
  EXPECT_EQ(b.conclusion()->kind, K::kNoChange);
  EXPECT_EQ(b.conclusion()->text, "no patch fixes it: the whole series fails like the base");
}

TEST(Bisection, AnUntestableEndStopsIt) {
  Bisection b(4);
  EXPECT_EQ(drive(b, [](int k) { return k == 0 ? StepVerdict::kSkip : StepVerdict::kGood; }), (std::vector<int>{0}));
  EXPECT_EQ(b.conclusion()->kind, K::kEndUntestable);
  Bisection w(4);
  EXPECT_EQ(drive(w, [](int k) { return k == 4 ? StepVerdict::kSkip : StepVerdict::kBad; }), (std::vector<int>{0, 4}));
  EXPECT_EQ(w.conclusion()->kind, K::kEndUntestable);
}

TEST(Bisection, ASkippedStateIsSteppedAroundAndCanStillNameThePatch) {
  // Fix at 4; state 2 does not build: 0 bad, 4 good, the middle 2 skip,
  // then its neighbours 1 and 3 (both bad): patch 4, named.
  Bisection b(4);
  const auto order = drive(b, [](int k) { return k == 2 ? StepVerdict::kSkip : k >= 4 ? StepVerdict::kGood : StepVerdict::kBad; });
  EXPECT_EQ(order, (std::vector<int>{0, 4, 2, 1, 3}));
  const auto c = b.conclusion();
  EXPECT_EQ(c->kind, K::kNamed);
  EXPECT_EQ(c->first, 4);
}

TEST(Bisection, SkipsBetweenTheLastBadAndFirstGoodLeaveARange) {
  // Fix at 2, state 1 does not build: patches 1..2 cannot be told apart.
  Bisection b(3);
  drive(b, [](int k) { return k == 1 ? StepVerdict::kSkip : k >= 2 ? StepVerdict::kGood : StepVerdict::kBad; });
  const auto c = b.conclusion();
  EXPECT_EQ(c->kind, K::kRange);
  EXPECT_EQ(c->first, 1);
  EXPECT_EQ(c->last, 2);
}

TEST(Bisection, ReplayMustTakeTheSamePath) {
  Bisection b(3);
  EXPECT_THROW(b.record(2, StepVerdict::kBad), std::logic_error);
  b.record(0, StepVerdict::kBad);
  EXPECT_THROW(b.record(0, StepVerdict::kBad), std::logic_error);
  EXPECT_THROW(Bisection(0), std::invalid_argument);
}

TEST(Bisection, StepSurvivalsKeepTheWholeErrorUnderAlphaForAnyNumberOfSteps) {
  const double rate = 1000;  // per hour
  double total_miss = 0;
  double last = 0;
  for (int j = 1; j <= 40; ++j) {
    const auto r = step_survival(j, rate, 0.95);
    const double t = std::chrono::duration<double>(r.needed).count();
    EXPECT_GT(t, last);  // each step a little longer
    last = t;
    EXPECT_LE(r.miss_probability, 0.05 / std::ldexp(1.0, j) * (1 + 1e-9)) << j;
    total_miss += r.miss_probability;
  }
  EXPECT_LT(total_miss, 0.05);
  // Step 1 at 1000/h, 95%: ln(2 / 0.05) / 1000 h = 13.3 s, rounded up.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(step_survival(1, rate, 0.95).needed).count(), 14);
  EXPECT_THROW(step_survival(0, rate, 0.95), std::invalid_argument);
  EXPECT_THROW(step_survival(1, 0, 0.95), std::invalid_argument);
}

TEST(BadRate, ParsesRatesPerUnitAndRefusesTheRest) {
  EXPECT_DOUBLE_EQ(parse_rate_per_hour("1000/h"), 1000);
  EXPECT_DOUBLE_EQ(parse_rate_per_hour("0.5/s"), 1800);
  EXPECT_DOUBLE_EQ(parse_rate_per_hour("20/min"), 1200);
  EXPECT_DOUBLE_EQ(parse_rate_per_hour("48/d"), 2);
  for (const char* bad : {"", "1000", "/h", "x/h", "1000/week", "-3/h", "0/h", "1e400/h", "10 /h"}) {
    EXPECT_THROW(parse_rate_per_hour(bad), Error) << bad;
  }
  EXPECT_THROW(resolve_bad_rate("", "", "", 0.95), Error);
  EXPECT_THROW(resolve_bad_rate("1000/h", "somewhere", "", 0.95), Error);
  EXPECT_EQ(resolve_bad_rate("1000/h", "", "", 0.95).source, "--bad-rate 1000/h");
}

}  // namespace
}  // namespace numasoak
