// Known-value tests for stats/stats.h. Every expected number is either a
// published table value (cited) or computed independently in this file
// (direct sums of probabilities, closed forms), never by the code under test.
#include "stats/format.h"
#include "stats/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace numasoak::stats {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
constexpr double kInf = std::numeric_limits<double>::infinity();

// --- independent helpers --------------------------------------------------

double poisson_pmf(int k, double mu) {
  return std::exp(k * std::log(mu) - mu - std::lgamma(k + 1.0));
}
double poisson_cdf(int k, double mu) {  // P(X <= k)
  double s = 0;
  for (int i = 0; i <= k; ++i) s += poisson_pmf(i, mu);
  return s;
}
double binom_pmf(int k, int n, double p) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                  k * std::log(p) + (n - k) * std::log1p(-p));
}
double binom_ge(int k, int n, double p) {
  double s = 0;
  for (int i = k; i <= n; ++i) s += binom_pmf(i, n, p);
  return s;
}
double binom_le(int k, int n, double p) {
  double s = 0;
  for (int i = 0; i <= k; ++i) s += binom_pmf(i, n, p);
  return s;
}

RunOutcome fail(int t) { return {Duration(seconds(t)), true}; }
RunOutcome cens(int t) { return {Duration(seconds(t)), false}; }

// --- 1. Poisson rates -------------------------------------------------------

// Two-sided 95% exact limits for a Poisson mean, as tabulated by Garwood
// (1936) and reproduced e.g. in Ulm (1990), Am J Epidemiol 131:373, and in
// Geigy Scientific Tables.
TEST(Garwood, TableValues95) {
  struct Row {
    unsigned k;
    double lower, upper;
  } rows[] = {{0, 0.0, 3.689}, {1, 0.0253, 5.572}, {2, 0.242, 7.225},
              {5, 1.623, 11.668}, {10, 4.795, 18.390}};
  for (const Row& r : rows) {
    const CountInterval ci = garwood_interval(r.k, 0.95);
    EXPECT_NEAR(ci.lower, r.lower, 0.0005) << "k=" << r.k;
    EXPECT_NEAR(ci.upper, r.upper, 0.0005) << "k=" << r.k;
  }
}

// The defining equations: P(X >= k | lower) = P(X <= k | upper) = alpha/2,
// checked with a direct sum of Poisson probabilities, at several levels.
TEST(Garwood, SolvesTailEquations) {
  for (double conf : {0.8, 0.9, 0.95, 0.99}) {
    const double half_alpha = (1 - conf) / 2;
    for (int k : {1, 3, 7, 20, 50}) {
      const CountInterval ci = garwood_interval(static_cast<unsigned>(k), conf);
      EXPECT_NEAR(1.0 - poisson_cdf(k - 1, ci.lower), half_alpha, 1e-9) << k << " " << conf;
      EXPECT_NEAR(poisson_cdf(k, ci.upper), half_alpha, 1e-9) << k << " " << conf;
    }
  }
}

TEST(Garwood, ZeroEventsOneSidedBound) {
  // P(0 events | mu) = exp(-mu) = 0.05  =>  mu = ln 20 = 2.9957 ("rule of three").
  EXPECT_NEAR(poisson_upper_bound(0, 0.95), std::log(20.0), 1e-9);
  EXPECT_NEAR(poisson_upper_bound(0, 0.95), 2.9957, 5e-5);
  EXPECT_NEAR(poisson_upper_bound(0, 0.99), std::log(100.0), 1e-9);
  // k = 3, one-sided 95%: P(X <= 3 | mu) = 0.05 (table: 7.754).
  EXPECT_NEAR(poisson_upper_bound(3, 0.95), 7.754, 0.0005);
  EXPECT_NEAR(poisson_cdf(3, poisson_upper_bound(3, 0.95)), 0.05, 1e-9);
}

TEST(PoissonRate, ZeroFailuresIsAnUpperBound) {
  const RateEstimate r = failures_per_hour(0, hours(12));
  EXPECT_TRUE(r.upper_bound_only);
  EXPECT_EQ(r.rate, 0.0);
  EXPECT_EQ(r.lower, 0.0);
  EXPECT_NEAR(r.exposure, 12.0, 1e-12);
  EXPECT_NEAR(r.upper, 2.9957 / 12, 1e-4);
  EXPECT_EQ(format_rate(r), "< 0.25 failures/hour (95%)");
}

TEST(PoissonRate, FailuresGiveTwoSidedInterval) {
  // 5 failures in 1h33m45s = 1.5625 h: 3.2/h, Garwood [1.623, 11.668] / 1.5625.
  const RateEstimate r = failures_per_hour(5, minutes(93) + seconds(45));
  EXPECT_FALSE(r.upper_bound_only);
  EXPECT_NEAR(r.rate, 3.2, 1e-12);
  EXPECT_NEAR(r.lower, 1.623 / 1.5625, 1e-3);
  EXPECT_NEAR(r.upper, 11.668 / 1.5625, 1e-3);
  EXPECT_EQ(format_rate(r), "3.2/h [1.0, 7.5]");
  // 10 failures in 1 h at 90%: the 0.05 / 0.95 quantiles.
  const RateEstimate r90 = failures_per_hour(10, hours(1), 0.90);
  EXPECT_NEAR(poisson_cdf(10, r90.upper), 0.05, 1e-9);
  EXPECT_EQ(format_rate(r90), "10/h [5.4, 17] (90%)");
}

TEST(PoissonRate, PerMillionEvents) {
  // 4 failures in 2e6 race-relevant events: 2 per 1M events, Garwood k=4
  // [1.0899, 10.242] / 2 (table values).
  const RateEstimate r = failures_per_million_events(4, 2e6);
  EXPECT_EQ(r.unit, RateUnit::kPerMillionEvents);
  EXPECT_NEAR(r.rate, 2.0, 1e-12);
  EXPECT_NEAR(r.lower, 1.0899 / 2, 5e-4);
  EXPECT_NEAR(r.upper, 10.242 / 2, 5e-4);
  EXPECT_EQ(format_rate(r), "2.0 per 1M events [0.54, 5.1]");
  EXPECT_EQ(format_rate(failures_per_million_events(0, 3e7)), "< 0.10 failures per 1M events (95%)");
}

TEST(PoissonRate, NoExposure) {
  const RateEstimate r = failures_per_hour(0, Duration(0));
  EXPECT_FALSE(r.has_exposure());
  EXPECT_TRUE(std::isnan(r.rate));
  EXPECT_EQ(r.upper, kInf);
  EXPECT_EQ(format_rate(r), "no exposure");
}

TEST(PoissonRate, RejectsBadArguments) {
  EXPECT_THROW(garwood_interval(1, 1.0), std::invalid_argument);
  EXPECT_THROW(garwood_interval(1, 0.0), std::invalid_argument);
  EXPECT_THROW(poisson_rate(1, -1.0, RateUnit::kPerHour), std::invalid_argument);
  EXPECT_THROW(poisson_rate(1, std::nan(""), RateUnit::kPerHour), std::invalid_argument);
}

// --- 2. Kaplan-Meier ---------------------------------------------------------

// Remission times (weeks) of the 6-MP arm of Freireich et al. (1963), as
// analysed by Gehan (1965) and in Kalbfleisch & Prentice, Klein &
// Moeschberger, and R's MASS::gehan. "+" = censored.
std::vector<RunOutcome> six_mp() {
  return {fail(6),  fail(6),  fail(6),  cens(6),  fail(7),  cens(9),  fail(10),
          cens(10), cens(11), fail(13), fail(16), cens(17), cens(19), cens(20),
          fail(22), fail(23), cens(25), cens(32), cens(32), cens(34), cens(35)};
}
// The placebo arm of the same trial (all relapsed).
std::vector<RunOutcome> placebo() {
  std::vector<RunOutcome> v;
  for (int t : {1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23})
    v.push_back(fail(t));
  return v;
}

TEST(KaplanMeier, SixMpTextbookValues) {
  const KaplanMeier km = kaplan_meier(six_mp());
  EXPECT_EQ(km.runs, 21u);
  EXPECT_EQ(km.failures, 9u);
  // Published survival and Greenwood standard errors (e.g. R
  // survfit(Surv(time, cens) ~ 1, subset = treat == "6-MP", data = MASS::gehan)).
  struct Row {
    int t;
    std::size_t n, d;
    double s, se;
  } rows[] = {{6, 21, 3, 0.857, 0.0764},  {7, 17, 1, 0.807, 0.0869},  {10, 15, 1, 0.753, 0.0963},
              {13, 12, 1, 0.690, 0.1068}, {16, 11, 1, 0.627, 0.1141}, {22, 7, 1, 0.538, 0.1282},
              {23, 6, 1, 0.448, 0.1346}};
  std::size_t checked = 0;
  for (const KmStep& step : km.steps) {
    for (const Row& r : rows) {
      if (step.time != Duration(seconds(r.t))) continue;
      EXPECT_EQ(step.at_risk, r.n) << "t=" << r.t;
      EXPECT_EQ(step.events, r.d) << "t=" << r.t;
      EXPECT_NEAR(step.survival, r.s, 0.0005) << "t=" << r.t;
      EXPECT_NEAR(step.std_error, r.se, 0.00005) << "t=" << r.t;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7u);
  // Exact products: S(23) = 18/21 * 16/17 * 14/15 * 11/12 * 10/11 * 6/7 * 5/6.
  EXPECT_NEAR(km.survival_at(seconds(23)), 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6,
              1e-12);
  EXPECT_EQ(km.survival_at(seconds(5)), 1.0);
  EXPECT_NEAR(km.survival_at(seconds(12)), km.survival_at(seconds(10)), 1e-15);
  EXPECT_NEAR(km.survival_at(seconds(100)), km.survival_at(seconds(23)), 1e-15);
  // Censoring-only steps are kept (for plot ticks) and do not move S.
  ASSERT_FALSE(km.steps.empty());
  EXPECT_EQ(km.steps.back().time, Duration(seconds(35)));
  EXPECT_EQ(km.steps.back().censored, 1u);
  EXPECT_EQ(km.steps.back().events, 0u);

  // Median: first time S <= 0.5 is 23 weeks.
  ASSERT_TRUE(km.median.has_value());
  EXPECT_EQ(*km.median, Duration(seconds(23)));
  // Log-log 95% interval for the median, computed by hand from the Greenwood
  // sums: the lower band first reaches 0.5 at 13 (0.4317; at 10 it is
  // 0.5032) and the upper band never does (0.680 at 23): [13, not reached].
  ASSERT_TRUE(km.median_lower.has_value());
  EXPECT_EQ(*km.median_lower, Duration(seconds(13)));
  EXPECT_FALSE(km.median_upper.has_value());
}

TEST(KaplanMeier, LogLogBandByHand) {
  // At t = 6: S = 6/7, v = 3/(21*18), se = sqrt(v)/|ln S|, z = 1.959964.
  const KaplanMeier km = kaplan_meier(six_mp());
  const KmStep& s6 = km.steps.front();
  ASSERT_EQ(s6.time, Duration(seconds(6)));
  const double S = 6.0 / 7.0, se = std::sqrt(3.0 / (21 * 18)) / -std::log(S), z = 1.959963985;
  EXPECT_NEAR(s6.lower, std::pow(S, std::exp(z * se)), 1e-9);
  EXPECT_NEAR(s6.upper, std::pow(S, std::exp(-z * se)), 1e-9);
  EXPECT_NEAR(s6.lower, 0.620, 0.0005);
  EXPECT_NEAR(s6.upper, 0.952, 0.0005);
}

TEST(KaplanMeier, MedianNotReachedAndExactHalf) {
  // Fewer than half fail: no median. The data still allow a median as early
  // as 5 s: S(5) = 0.75 with 4 at risk has a lower band of 0.75^7.15 = 0.13.
  const KaplanMeier few = kaplan_meier(std::vector<RunOutcome>{fail(5), cens(60), cens(60), cens(60)});
  EXPECT_FALSE(few.median.has_value());
  ASSERT_TRUE(few.median_lower.has_value());
  EXPECT_EQ(*few.median_lower, Duration(seconds(5)));
  EXPECT_NEAR(few.steps[0].lower, 0.128, 0.001);
  EXPECT_FALSE(few.median_upper.has_value());
  EXPECT_NEAR(few.survival_at(seconds(60)), 0.75, 1e-12);
  // S hits exactly 0.5 at t = 20: that is the median (first S <= 0.5).
  const KaplanMeier half =
      kaplan_meier(std::vector<RunOutcome>{fail(10), fail(20), cens(30), cens(40)});
  ASSERT_TRUE(half.median.has_value());
  EXPECT_EQ(*half.median, Duration(seconds(20)));
  // Everyone fails: S reaches 0, the last step has no standard error.
  const KaplanMeier all = kaplan_meier(std::vector<RunOutcome>{fail(1), fail(2), fail(3)});
  EXPECT_EQ(all.steps.back().survival, 0.0);
  EXPECT_TRUE(std::isnan(all.steps.back().std_error));
  EXPECT_EQ(*all.median, Duration(seconds(2)));
  // No runs at all.
  const KaplanMeier none = kaplan_meier(std::vector<RunOutcome>{});
  EXPECT_TRUE(none.steps.empty());
  EXPECT_FALSE(none.median.has_value());
  EXPECT_EQ(none.survival_at(seconds(1)), 1.0);
}

TEST(KaplanMeier, FailuresBeforeCensoringsAtTheSameTime) {
  // At t = 10 one failure and one censoring among 4 at risk: S = 3/4, and the
  // censored run is still at risk at 10.
  const KaplanMeier km = kaplan_meier(std::vector<RunOutcome>{cens(10), fail(10), fail(20), cens(30)});
  ASSERT_EQ(km.steps.size(), 3u);
  EXPECT_EQ(km.steps[0].at_risk, 4u);
  EXPECT_EQ(km.steps[0].events, 1u);
  EXPECT_EQ(km.steps[0].censored, 1u);
  EXPECT_NEAR(km.steps[0].survival, 0.75, 1e-12);
  EXPECT_EQ(km.steps[1].at_risk, 2u);
  EXPECT_NEAR(km.steps[1].survival, 0.375, 1e-12);
}

// --- 3. Comparing two kernels --------------------------------------------------

TEST(CompareRates, TenVersusZeroEqualExposure) {
  const RateComparison c = compare_rates({10, 3600}, {0, 3600});
  EXPECT_TRUE(c.informative);
  EXPECT_NEAR(c.expected_share_a, 0.5, 1e-15);
  EXPECT_NEAR(c.p_two_sided, 2 * std::pow(0.5, 10), 1e-15);  // 0.001953
  EXPECT_NEAR(c.p_a_fails_more, std::pow(0.5, 10), 1e-15);
  EXPECT_NEAR(c.p_a_fails_less, 1.0, 1e-15);
  ASSERT_TRUE(c.ratio.has_value());
  EXPECT_EQ(*c.ratio, kInf);
  // Clopper-Pearson with k = n: lower p = (alpha/2)^(1/n), upper p = 1.
  const double p_lo = std::pow(0.025, 0.1);
  EXPECT_NEAR(c.ratio_lower, p_lo / (1 - p_lo), 1e-9);  // 2.24
  EXPECT_EQ(c.ratio_upper, kInf);
  EXPECT_EQ(c.direction, Direction::kAFailsMore);
  EXPECT_TRUE(c.significant());
  EXPECT_EQ(format_p_value(c.p_two_sided), "p = 0.0020");
  EXPECT_EQ(format_rate_ratio(c), "A/B = inf [2.2, inf]");
}

TEST(CompareRates, ZeroVersusTenAndZeroVersusZero) {
  const RateComparison c = compare_rates({0, 100}, {10, 100});
  EXPECT_NEAR(c.p_two_sided, 2 * std::pow(0.5, 10), 1e-15);
  EXPECT_NEAR(c.p_a_fails_less, std::pow(0.5, 10), 1e-15);
  EXPECT_EQ(*c.ratio, 0.0);
  EXPECT_EQ(c.ratio_lower, 0.0);
  const double p_hi = 1 - std::pow(0.025, 0.1);
  EXPECT_NEAR(c.ratio_upper, p_hi / (1 - p_hi), 1e-9);
  EXPECT_EQ(c.direction, Direction::kAFailsLess);

  const RateComparison none = compare_rates({0, 100}, {0, 100});
  EXPECT_FALSE(none.informative);
  EXPECT_EQ(none.p_two_sided, 1.0);
  EXPECT_FALSE(none.ratio.has_value());
  EXPECT_EQ(none.ratio_lower, 0.0);
  EXPECT_EQ(none.ratio_upper, kInf);
  EXPECT_FALSE(none.significant());
  EXPECT_EQ(format_rate_ratio(none), "A/B = ? (no failures)");
  EXPECT_EQ(format_rate_ratio(compare_rates({3, 0}, {1, 10})), "A/B = ? (no exposure)");
}

TEST(CompareRates, UnequalExposureAgainstDirectSums) {
  // A: 8 failures in 1 h, B: 2 in 2 h. Under equal rates k_A ~ Bin(10, 1/3).
  const RateComparison c = compare_rates({8, 1}, {2, 2});
  EXPECT_NEAR(c.expected_share_a, 1.0 / 3, 1e-15);
  EXPECT_NEAR(*c.ratio, 8.0, 1e-12);
  const double ge = binom_ge(8, 10, 1.0 / 3), le = binom_le(8, 10, 1.0 / 3);
  EXPECT_NEAR(c.p_a_fails_more, ge, 1e-12);  // 0.003403
  EXPECT_NEAR(c.p_a_fails_less, le, 1e-12);
  EXPECT_NEAR(c.p_two_sided, 2 * ge, 1e-12);
  // Interval ends solve the Clopper-Pearson equations at p = r E_A/(r E_A + E_B).
  auto share = [](double r) { return r * 1 / (r * 1 + 2); };
  EXPECT_NEAR(binom_ge(8, 10, share(c.ratio_lower)), 0.025, 1e-9);
  EXPECT_NEAR(binom_le(8, 10, share(c.ratio_upper)), 0.025, 1e-9);
}

TEST(CompareRates, PValueAgreesWithInterval) {
  // p < alpha exactly when the interval for the ratio excludes 1.
  for (int ka = 0; ka <= 15; ++ka)
    for (int kb = 0; kb <= 15; ++kb)
      for (double eb : {0.5, 1.0, 3.0}) {
        const RateComparison c = compare_rates({static_cast<unsigned>(ka), 1.0}, {static_cast<unsigned>(kb), eb});
        const bool excludes_one = c.ratio_lower > 1.0 || c.ratio_upper < 1.0;
        EXPECT_EQ(c.significant(), excludes_one) << ka << " vs " << kb << " eb=" << eb;
      }
}

TEST(CompareRates, TinyPValues) {
  const RateComparison c = compare_rates({60, 1}, {0, 1});
  EXPECT_NEAR(std::log2(c.p_two_sided), -59.0, 1e-9);
  EXPECT_EQ(format_p_value(c.p_two_sided), "p < 1e-9");
}

TEST(LogRank, GehanSixMpVersusPlacebo) {
  // The classic result (Gehan 1965 data; R: survdiff(Surv(time, cens) ~ treat,
  // MASS::gehan)): 6-MP observed 9, expected 19.3; chi-square 16.8, p = 4e-5.
  const LogRankTest t = log_rank_test(six_mp(), placebo());
  EXPECT_NEAR(t.observed_a, 9.0, 1e-12);
  EXPECT_NEAR(t.expected_a, 19.25, 0.01);
  EXPECT_NEAR(t.chi_square, 16.79, 0.01);
  EXPECT_NEAR(t.p_value, 4.17e-5, 0.1e-5);
  EXPECT_EQ(t.direction, Direction::kAFailsLess);
  const LogRankTest same = log_rank_test(six_mp(), six_mp());
  EXPECT_NEAR(same.chi_square, 0.0, 1e-12);
  EXPECT_NEAR(same.p_value, 1.0, 1e-12);
  const LogRankTest nothing = log_rank_test(std::vector<RunOutcome>{cens(5)}, std::vector<RunOutcome>{cens(5)});
  EXPECT_EQ(nothing.p_value, 1.0);
}

// --- 4. Sequential rule: exact small cases (the simulation is in sequential_test.cpp)

std::vector<RunOutcome> repeat(RunOutcome r, int n) { return std::vector<RunOutcome>(static_cast<std::size_t>(n), r); }

TEST(Sequential, AllPairsOneWay) {
  // effect 4: p1 = 0.8, LR+ = 1.6^a 0.4^b. 7 pairs: (1.6^7 + 0.4^7)/2 = 13.4 < 20.
  const SequentialDecision seven = sequential_decision(repeat(fail(10), 7), repeat(cens(180), 7));
  EXPECT_EQ(seven.outcome, SequentialOutcome::kKeepGoing);
  EXPECT_FALSE(seven.decided());
  EXPECT_NEAR(seven.statistic, (std::pow(1.6, 7) + std::pow(0.4, 7)) / 2, 1e-9);
  EXPECT_EQ(seven.threshold, 20.0);
  // 8 pairs: 21.5 >= 20: decided, A fails more.
  const SequentialDecision eight = sequential_decision(repeat(fail(10), 8), repeat(cens(180), 8));
  EXPECT_EQ(eight.outcome, SequentialOutcome::kDifferent);
  EXPECT_EQ(eight.direction, Direction::kAFailsMore);
  EXPECT_EQ(eight.a_failed_first, 8u);
  EXPECT_NEAR(eight.statistic, (std::pow(1.6, 8) + std::pow(0.4, 8)) / 2, 1e-9);
  // Mirror image.
  const SequentialDecision mirror = sequential_decision(repeat(cens(180), 8), repeat(fail(10), 8));
  EXPECT_EQ(mirror.outcome, SequentialOutcome::kDifferent);
  EXPECT_EQ(mirror.direction, Direction::kAFailsLess);
}

TEST(Sequential, FutilityWhenBalanced) {
  // a = b = m: 1/LR+ = 1/LR- = (1/0.64)^m; >= 20 from m = 7 (22.7), not at 6 (14.6).
  auto runs = [](int m, bool a_side) {
    std::vector<RunOutcome> v;
    for (int i = 0; i < 2 * m; ++i) v.push_back((i % 2 == 0) == a_side ? fail(10) : cens(180));
    return v;
  };
  const SequentialDecision six = sequential_decision(runs(6, true), runs(6, false));
  EXPECT_EQ(six.outcome, SequentialOutcome::kKeepGoing);
  EXPECT_NEAR(six.futility_statistic, std::pow(1 / 0.64, 6), 1e-9);
  const SequentialDecision seven = sequential_decision(runs(7, true), runs(7, false));
  EXPECT_EQ(seven.outcome, SequentialOutcome::kNoLargeDifference);
  EXPECT_EQ(seven.direction, Direction::kNone);
  EXPECT_EQ(seven.a_failed_first, 7u);
  EXPECT_EQ(seven.b_failed_first, 7u);
}

TEST(Sequential, PairsAndGehanRule) {
  // Pair 1: both survive (no information). Pair 2: both fail, A first.
  // Pair 3: A fails at 50 but B was stopped early at 20: undetermined.
  // Pair 4: A fails at 50, B stopped at 50: B was still going, A first.
  // Pair 5: equal failure times: no information. A's 6th run has no partner.
  const std::vector<RunOutcome> a = {cens(180), fail(30), fail(50), fail(50), fail(40), fail(1)};
  const std::vector<RunOutcome> b = {cens(180), fail(90), cens(20), cens(50), fail(40)};
  const SequentialDecision d = sequential_decision(a, b);
  EXPECT_EQ(d.pairs, 5u);
  EXPECT_EQ(d.a_failed_first, 2u);
  EXPECT_EQ(d.b_failed_first, 0u);
  // Nothing yet.
  const SequentialDecision empty = sequential_decision({}, {});
  EXPECT_EQ(empty.statistic, 1.0);
  EXPECT_EQ(empty.futility_statistic, 1.0);
  EXPECT_FALSE(empty.decided());
}

TEST(Sequential, RuleParameters) {
  SequentialRule rule;
  rule.alpha = 0.01;
  rule.effect = 9.0;  // p1 = 0.9: LR+ = 1.8^a; (1.8^a)/2 >= 100 from a = 10 (178; 99.2 at 9)
  const auto a9 = repeat(fail(10), 9), a10 = repeat(fail(10), 10);
  EXPECT_FALSE(sequential_decision(a9, repeat(cens(180), 9), rule).decided());
  EXPECT_TRUE(sequential_decision(a10, repeat(cens(180), 10), rule).decided());
  EXPECT_EQ(sequential_decision(a10, repeat(cens(180), 10), rule).threshold, 100.0);
  EXPECT_THROW(sequential_decision({}, {}, SequentialRule{0.05, 0.05, 1.0}), std::invalid_argument);
  EXPECT_THROW(sequential_decision({}, {}, SequentialRule{0.0, 0.05, 4.0}), std::invalid_argument);
}

// The fewest pairs that can decide: (2 p1)^n / 2 (+ the negligible other
// direction) must reach 1/alpha. Defaults, p1 = 0.8: 1.6^7 / 2 = 13.4, 1.6^8 / 2 = 21.5 -> 8.
// alpha 0.01, effect 9: 10 (see above). effect 20, p1 = 20/21: 1.905^5 / 2 = 12.5, 1.905^6 / 2 = 24 -> 6.
TEST(Sequential, MinimumPairsToDecide) {
  EXPECT_EQ(sequential_min_pairs(), 8u);
  EXPECT_EQ(sequential_min_pairs(SequentialRule{0.01, 0.05, 9.0}), 10u);
  EXPECT_EQ(sequential_min_pairs(SequentialRule{0.05, 0.05, 20.0}), 6u);
}

// --- 5. Intensity parity -------------------------------------------------------

TEST(Intensity, MediansAndFlag) {
  EXPECT_EQ(median(std::vector<double>{3, 1, 2}), 2.0);
  EXPECT_EQ(median(std::vector<double>{4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(median(std::vector<double>{})));

  // Medians 100 vs 40 (the 0 is a run that barely started): 2.5x, flagged.
  const IntensityParity p = compare_intensity(std::vector<double>{90, 100, 110}, std::vector<double>{0, 40, 45, 35});
  EXPECT_TRUE(p.comparable);
  EXPECT_EQ(p.median_a, 100.0);
  EXPECT_EQ(p.median_b, 37.5);
  EXPECT_NEAR(p.ratio, 100 / 37.5, 1e-12);
  EXPECT_EQ(p.higher, IntensityParity::Higher::kA);
  EXPECT_TRUE(p.flagged);
  // Configurable: 3x allowed.
  EXPECT_FALSE(compare_intensity(std::vector<double>{100}, std::vector<double>{40}, 3.0).flagged);
  // Exactly 2x is not "more than 2x".
  const IntensityParity two = compare_intensity(std::vector<double>{50}, std::vector<double>{100});
  EXPECT_EQ(two.higher, IntensityParity::Higher::kB);
  EXPECT_FALSE(two.flagged);
  // One build did nothing at all.
  const IntensityParity zero = compare_intensity(std::vector<double>{0}, std::vector<double>{5});
  EXPECT_EQ(zero.ratio, kInf);
  EXPECT_TRUE(zero.flagged);
  EXPECT_FALSE(compare_intensity(std::vector<double>{}, std::vector<double>{5}).comparable);
}

// --- 6. Summaries and formatting -------------------------------------------------

TEST(Summary, PerKernel) {
  // 4 runs of 15 min, 2 failed at 5 and 10 min: 40 min exposure, 3/h.
  const std::vector<RunOutcome> runs = {{minutes(5), true}, {minutes(15), false},
                                        {minutes(10), true}, {minutes(15), false}};
  const OutcomeSummary s = summarize_runs(runs, 0.95, 4e6);
  EXPECT_EQ(s.runs, 4u);
  EXPECT_EQ(s.failures, 2u);
  EXPECT_EQ(s.exposure, minutes(45));
  EXPECT_NEAR(s.rate.rate, 2 / 0.75, 1e-12);
  ASSERT_TRUE(s.rate_per_million_events.has_value());
  EXPECT_NEAR(s.rate_per_million_events->rate, 0.5, 1e-12);
  ASSERT_TRUE(s.median.has_value());
  EXPECT_EQ(*s.median, minutes(10));  // S(10 min) = 3/4 * 2/3 = 0.5
  const Tally t = tally_seconds(runs);
  EXPECT_EQ(t.failures, 2u);
  EXPECT_EQ(t.exposure, 2700.0);
}

TEST(Format, PValues) {
  EXPECT_EQ(format_p_value(0.031), "p = 0.031");
  EXPECT_EQ(format_p_value(0.0312), "p = 0.031");
  EXPECT_EQ(format_p_value(0.42), "p = 0.42");
  EXPECT_EQ(format_p_value(1.0), "p = 1");
  EXPECT_EQ(format_p_value(0.999), "p = 1");
  EXPECT_EQ(format_p_value(1.2e-5), "p = 1.2e-05");
  EXPECT_EQ(format_p_value(9e-10), "p < 1e-9");
  EXPECT_EQ(format_p_value(0.0), "p < 1e-9");
}

TEST(Format, Rates) {
  EXPECT_EQ(format_rate(poisson_rate(3, 1.0, RateUnit::kPerSecond)), "3.0/s [0.62, 8.8]");
  EXPECT_EQ(format_rate(poisson_rate(0, 1.0, RateUnit::kPerHour, 0.99)), "< 4.6 failures/hour (99%)");
  EXPECT_EQ(format_rate(poisson_rate(150, 1.0, RateUnit::kPerHour)), "150/h [127, 176]");
}

}  // namespace
}  // namespace numasoak::stats
