// The anytime-valid rate test: its closed form with no failures, its
// guarantee simulated with a look after every run, its power, and the guest
// time it needs against the paired test on a recorded campaign.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "stats/rate_sequential.h"
#include "unit/common/recorded_runs.h"

namespace numasoak::stats {
namespace {

TEST(RateConfidenceSequence, NoFailuresHasTheClosedFormUpperBound) {
  const RateSequentialRule r;
  for (double e : {0.001, 0.05, 1.0, 30.0}) {
    const auto ci = rate_confidence_sequence(0, e, 0.025, r);
    const double want = (std::log(1 / 0.025) + r.prior_shape * std::log((r.prior_exposure + e) / r.prior_exposure)) / e;
    EXPECT_NEAR(ci.upper, want, want * 1e-9) << e;
    EXPECT_EQ(ci.lower, 0.0);
  }
  EXPECT_TRUE(std::isinf(rate_confidence_sequence(0, 0, 0.025).upper));
  EXPECT_THROW(rate_confidence_sequence(0, 1, 0), std::invalid_argument);
}

TEST(RateConfidenceSequence, HoldsTheEstimateAndWidensWithConfidence) {
  const auto ci = rate_confidence_sequence(10, 0.01, 0.025);  // 1000/h
  EXPECT_LT(ci.lower, 1000);
  EXPECT_GT(ci.upper, 1000);
  const auto wider = rate_confidence_sequence(10, 0.01, 0.0025);
  EXPECT_LT(wider.lower, ci.lower);
  EXPECT_GT(wider.upper, ci.upper);
  // Valid at every look costs width: wider than Garwood's fixed-sample interval.
  const auto g = garwood_interval(10, 0.95);
  EXPECT_LT(ci.lower, g.lower / 0.01);
  EXPECT_GT(ci.upper, g.upper / 0.01);
}

// Equal kernels, a look after every run (runs of 60 s that stop at a
// failure, interleaved A, B, A, B...), 100 runs each: the fraction of
// campaigns that ever decide must stay below alpha, at several rates.
TEST(RateSequential, EqualKernelsEverDecideWithProbabilityBelowAlpha) {
  std::mt19937_64 rng(7);
  for (double rate : {30.0, 300.0, 3000.0}) {  // per hour
    std::exponential_distribution<double> ttf(rate / 3600.0);
    int wrong = 0;
    const int campaigns = 200;
    for (int c = 0; c < campaigns; ++c) {
      Tally a, b;
      bool decided = false;
      for (int i = 0; i < 200 && !decided; ++i) {
        Tally& t = i % 2 == 0 ? a : b;
        const double x = ttf(rng);
        if (x < 60) {
          ++t.failures;
          t.exposure += x / 3600;
        } else {
          t.exposure += 60.0 / 3600;
        }
        decided = rate_sequential_decision(a, b).decided();
      }
      wrong += decided ? 1 : 0;
    }
    EXPECT_LE(wrong, campaigns * 0.05) << rate << "/h: " << wrong << " of " << campaigns;
  }
}

TEST(RateSequential, FailsAtThousandsPerHourAgainstASurvivorDecidesInThreeRunsEach) {
  // The default campaign: 6.1 failed at ~3900/h (median TTF 0.7 s),
  // the backport survived its 60 s runs. One failure and one survival are
  // not enough; three of each are (the paired test needs eight pairs).
  auto d = rate_sequential_decision({1, 0.7 / 3600}, {0, 60.0 / 3600});
  EXPECT_FALSE(d.decided()) << d.a.lower << " vs " << d.b.upper;
  d = rate_sequential_decision({3, 2.1 / 3600}, {0, 180.0 / 3600});
  EXPECT_TRUE(d.decided()) << d.a.lower << " vs " << d.b.upper;
  EXPECT_EQ(d.direction, Direction::kAFailsMore);
  d = rate_sequential_decision({0, 180.0 / 3600}, {3, 2.1 / 3600});
  EXPECT_EQ(d.direction, Direction::kAFailsLess);
}

// Replays a recorded campaign (tests/fixtures/stats/validate-wrong-6.1-runs.csv,
// exported from its numasoak.db) run by run in start order, for the
// backport (B) against each wrong backport (A): the guest time (boot +
// workload of the runs of both kernels so far) at which each test decides.
TEST(RateSequential, GuestTimeToDecideOnARecordedCampaignAgainstThePairedTest) {
  const auto rows = test::recorded_runs("validate-wrong-6.1-runs.csv");
  ASSERT_EQ(rows.size(), 20u);
  const std::string good = "6.1+backport:debug";
  for (const std::string bad : {"6.1+wrong-prepare:debug", "6.1+wrong-stale-split:debug", "6.1+wrong-reread:debug"}) {
    Tally a, b;
    std::vector<RunOutcome> ra, rb;
    double guest = 0, workload = 0;
    std::optional<double> rate_at, rate_workload_at, pair_at;
    for (const auto& r : rows) {
      if (r.kernel != good && r.kernel != bad) continue;
      guest += r.boot_s + r.time_s;
      workload += r.time_s;
      Tally& t = r.kernel == bad ? a : b;
      t.failures += r.failed ? 1 : 0;
      t.exposure += r.time_s / 3600;
      (r.kernel == bad ? ra : rb).push_back({Duration(static_cast<long long>(r.time_s * 1000)), r.failed});
      if (!rate_at && rate_sequential_decision(a, b).decided()) {
        EXPECT_EQ(rate_sequential_decision(a, b).direction, Direction::kAFailsMore) << bad;
        rate_at = guest;
        rate_workload_at = workload;
      }
      if (!pair_at && sequential_decision(ra, rb).outcome == SequentialOutcome::kDifferent) pair_at = guest;
    }
    // The paired test needs 8 pairs at 95%: 5 recorded pairs cannot decide;
    // at these rates it would need at least 3 more pairs of the same kind.
    const double per_pair = guest / 5;
    const double pair_needed = pair_at.value_or(guest + 3 * per_pair);
    if (!rate_at) {
      std::printf("%-28s rate test: not decided in the 5 recorded pairs (%.0f s of guest time); paired test: not decided either\n", bad.c_str(), guest);
      continue;
    }
    std::printf("%-28s rate test: decided after %.0f s of guest time (%.0f s workload); paired test: %s %.0f s; ratio %.1fx\n",
                bad.c_str(), *rate_at, *rate_workload_at, pair_at ? "decided after" : "not decided in 5 pairs, >= 8 pairs ~",
                pair_needed, pair_needed / *rate_at);
    EXPECT_LT(*rate_at, pair_needed) << bad;
  }
}

}  // namespace
}  // namespace numasoak::stats
