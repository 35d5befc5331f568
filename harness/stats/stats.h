// Statistics for comparing kernel builds by how often and how fast they fail.
//
// All the math numasoak uses is in this header and stats.cpp: pure functions
// on value types, no I/O, no state. A soak campaign gives, per kernel, a list
// of runs; each run either failed at some time or survived until it stopped
// (right-censored). From those:
//
//   1. poisson_rate        failures per hour (or per million race-relevant
//                          events) with an exact Garwood interval; with zero
//                          failures, a one-sided "< X" upper bound.
//   2. kaplan_meier        the survival curve, the median time to failure and
//                          its confidence interval.
//   3. compare_rates       rate ratio A/B, exact conditional (binomial) test
//                          and exact interval; log_rank_test on the curves.
//   4. sequential_decision the rule behind `stop = "decisive"`: an exact,
//                          anytime-valid paired sequential probability ratio
//                          test that may look after every run.
//   5. compare_intensity   are both builds stressed alike (race-relevant
//                          events per second)?
//   6. summarize_runs: what reports print (their formatting: stats/format.h).
//
// Conventions: `confidence` is a two-sided level in (0, 1), e.g. 0.95, and
// alpha = 1 - confidence. Invalid arguments (confidence outside (0, 1),
// negative or NaN exposure) are programming errors and throw
// std::invalid_argument: every value here comes from the harness, not from
// a person.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/duration.h"

namespace numasoak::stats {

// ---------------------------------------------------------------------------
// Runs: what a campaign observed.

/// One run of one kernel. `time` is the time to failure when `failed`, else
/// how long the run went without failing (right-censored: it ended at its
/// planned duration, or early for a reason that says nothing about the
/// kernel, e.g. the host ran out of disk).
struct RunOutcome {
  Duration time{0};
  bool failed = false;
};

/// Failures seen over some exposure. The unit of `exposure` is the caller's
/// (seconds of workload, millions of race-relevant events); two tallies that
/// are compared must use the same unit.
struct Tally {
  std::uint64_t failures = 0;
  double exposure = 0.0;
};

// Failures and total run time of a list of runs, exposure in seconds.
Tally tally_seconds(std::span<const RunOutcome> runs);

// ---------------------------------------------------------------------------
// 1. Poisson rates with exact (Garwood) intervals.
//
// Model: failures of a kernel arrive as a Poisson process with a constant
// rate while a workload runs (time to failure is exponential, and a new run
// starts afresh). Then k failures in exposure E estimate the rate k / E, and
// Garwood's (1936) exact interval for the Poisson mean mu = rate * E is
//
//   lower = chi2_quantile(alpha/2;     2k)     / 2   (0 when k = 0)
//   upper = chi2_quantile(1 - alpha/2; 2k + 2) / 2
//
// It is "exact" in that its coverage is at least the nominal level for every
// mu (conservative, because counts are discrete).

/// Two-sided interval for a Poisson mean given `events` observed.
/// 95%: k=0 [0, 3.689], k=1 [0.0253, 5.572], k=10 [4.795, 18.390].
struct CountInterval {
  double lower = 0.0;
  double upper = 0.0;
};
CountInterval garwood_interval(std::uint64_t events, double confidence);

// One-sided upper bound for a Poisson mean: chi2_quantile(confidence; 2k+2)/2.
// For k = 0 it is -ln(1 - confidence): 2.9957 at 95% (the "rule of three").
double poisson_upper_bound(std::uint64_t events, double confidence);

/// The unit of a failure rate: per second, per hour, or per million race-relevant events.
enum class RateUnit {
  kPerSecond,
  kPerHour,
  kPerMillionEvents,  // per million race-relevant events (from telemetry)
};

/// A failure rate with its confidence interval.
///
/// With failures >= 1 the interval is Garwood's two-sided interval at
/// `confidence`. With zero failures there is nothing to put a lower bound on,
/// and people ask "how bad could it still be?": the estimate is then a
/// one-sided upper bound at `confidence` (`upper_bound_only`), printed as
/// "< 0.25 failures/hour (95%)". (Mixing the two is the usual reporting
/// practice; note the one-sided bound, 2.996/E at 95%, is tighter than the
/// two-sided interval's upper end 3.689/E.)
struct RateEstimate {
  std::uint64_t failures = 0;
  double exposure = 0.0;  // in the unit's denominator: hours, seconds or millions of events
  RateUnit unit = RateUnit::kPerHour;
  double confidence = 0.95;
  double rate = 0.0;   // failures / exposure; NaN when there is no exposure
  double lower = 0.0;  // 0 when upper_bound_only
  double upper = 0.0;  // +inf when there is no exposure
  bool upper_bound_only = false;  // failures == 0: report "< upper"

  bool has_exposure() const { return exposure > 0.0; }
};

// Generic form: `exposure` already in the unit's denominator.
RateEstimate poisson_rate(std::uint64_t failures, double exposure, RateUnit unit,
                          double confidence = 0.95);
// Failures per hour of workload.
RateEstimate failures_per_hour(std::uint64_t failures, Duration exposure,
                               double confidence = 0.95);
// Failures per million race-relevant events (same math, exposure = events / 1e6).
// Comparing kernels this way corrects for one build simply running the race
// more often (e.g. a slower kernel doing fewer migrations per second).
RateEstimate failures_per_million_events(std::uint64_t failures, double events,
                                         double confidence = 0.95);

// ---------------------------------------------------------------------------
// 2. Kaplan-Meier survival curve (Kaplan & Meier 1958).
//
// Assumes nothing about the shape of the hazard (unlike the Poisson rate):
// S(t) = prod over failure times t_i <= t of (1 - d_i / n_i), with n_i the
// runs still going just before t_i and d_i the failures at t_i. Censored runs
// count as at risk up to and including their time (failures at a time come
// before censorings at the same time, the usual convention).
//
// Pointwise intervals use Greenwood's variance on the log-log scale
// (Kalbfleisch & Prentice 1980), which stays inside [0, 1]:
//   v = sum d_i / (n_i (n_i - d_i)),  se = sqrt(v) / |ln S|,
//   [S^exp(+z se), S^exp(-z se)].

/// One step of a Kaplan-Meier curve: a failure time, the runs at risk and failing there, S and its interval.
struct KmStep {
  Duration time{0};
  std::size_t at_risk = 0;   // n: runs still going just before `time`
  std::size_t events = 0;    // d: failures at `time`
  std::size_t censored = 0;  // runs that stopped at `time` without failing
  double survival = 1.0;     // S(time), after this step
  double std_error = 0.0;    // Greenwood standard error of S(time); NaN once S = 0
  double lower = 1.0;        // pointwise log-log interval for S(time)
  double upper = 1.0;
};

/// A Kaplan-Meier survival curve with its median time to failure and that median's interval.
struct KaplanMeier {
  double confidence = 0.95;
  std::size_t runs = 0;
  std::size_t failures = 0;
  // One step per distinct time at which a run ended (failure or censoring),
  // ascending. Censoring-only steps leave S unchanged (plots draw ticks there).
  std::vector<KmStep> steps;
  // Median time to failure: the first time with S(t) <= 0.5. nullopt =
  // "not reached": fewer than half the runs failed during follow-up.
  std::optional<Duration> median;
  // Confidence interval for the median (Brookmeyer & Crowley 1982) from the
  // log-log pointwise bands (R's survfit does the same with conf.type =
  // "log-log"): the lower limit is the first time the
  // lower pointwise band reaches 0.5, the upper limit the first time the upper
  // band does. nullopt = not reached (unbounded within follow-up). The lower
  // limit can exist when the median itself is not reached.
  std::optional<Duration> median_lower;
  std::optional<Duration> median_upper;

  // S(t): 1 before the first failure, then the step function.
  double survival_at(Duration t) const;
};

KaplanMeier kaplan_meier(std::span<const RunOutcome> runs, double confidence = 0.95);

// ---------------------------------------------------------------------------
// 3. Comparing two kernels.

/// Which of two kernels fails more, if either does.
enum class Direction {
  kNone,
  kAFailsMore,  // kernel A has the higher failure rate
  kAFailsLess,  // kernel A has the lower failure rate (B fails more)
};

// Rate ratio A over B with the exact conditional test.
//
// Given n = k_A + k_B failures in all, and the exposures, under equal rates
// each failure is A's with probability p0 = E_A / (E_A + E_B), so
// k_A ~ Binomial(n, p0) whatever the common rate is (Przyborowski & Wilenski
// 1940; the test behind R's poisson.test). The ratio of rates is a function
// of the binomial p:  ratio = p/(1-p) * E_B/E_A, so the Clopper-Pearson
// interval for p gives an exact interval for the ratio.
//
// The two-sided p-value doubles the smaller tail (capped at 1). That makes
// it agree with the interval: p < 1 - confidence exactly when the interval
// excludes 1. (R's poisson.test sums the probabilities of outcomes no more
// likely than the observed one instead; the two agree on symmetric cases
// like 10 vs 0 with equal exposure.)
//
// With no failures at all there is no information: p = 1, interval [0, inf],
// `informative` false ("cannot tell").
/// Two kernels' failure rates compared: the ratio, its exact interval and the exact conditional test.
struct RateComparison {
  Tally a;
  Tally b;
  double confidence = 0.95;
  bool informative = false;       // at least one failure and exposure on both sides
  double expected_share_a = 0.0;  // p0 = E_A / (E_A + E_B)
  // (k_A/E_A) / (k_B/E_B): 0 when k_A = 0 < k_B, +inf when k_B = 0 < k_A,
  // nullopt when k_A = k_B = 0 (0/0) or an exposure is 0.
  std::optional<double> ratio;
  double ratio_lower = 0.0;                  // exact, at `confidence`
  double ratio_upper = 0.0;                  // +inf when k_B = 0
  double p_two_sided = 1.0;                  // H0: equal rates
  double p_a_fails_more = 1.0;               // one-sided, H1: rate A > rate B ("B fails less")
  double p_a_fails_less = 1.0;               // one-sided, H1: rate A < rate B
  Direction direction = Direction::kNone;    // which way the estimate points (not a decision)

  // The interval excludes 1 (equivalently p_two_sided < 1 - confidence).
  bool significant() const { return p_two_sided < 1.0 - confidence; }
};

RateComparison compare_rates(Tally a, Tally b, double confidence = 0.95);

// Two-sample log-rank test (Mantel 1966; Peto & Peto 1972) on the run times:
// compares the survival curves without assuming a constant hazard, so it
// also uses *when* runs fail, not only how many. Chi-square with 1 degree of
// freedom; at each distinct failure time with n runs at risk (n_A of A) and
// d failures, E_A += d n_A / n and V += d (n_A/n)(1 - n_A/n)(n - d)/(n - 1).
/// The log-rank test of two survival curves: A's observed and expected failures, chi-square, p-value.
struct LogRankTest {
  double observed_a = 0.0;  // failures of A
  double expected_a = 0.0;  // failures of A expected if the curves were equal
  double variance = 0.0;
  double chi_square = 0.0;
  double p_value = 1.0;
  Direction direction = Direction::kNone;  // observed_a vs expected_a
};

LogRankTest log_rank_test(std::span<const RunOutcome> a, std::span<const RunOutcome> b);

// ---------------------------------------------------------------------------
// 4. Sequential stopping rule for `stop = "decisive"`.
//
// The campaign looks after every finished run and wants to stop as soon as
// A vs B is decided, with P(ever deciding "different" | equal kernels) <=
// alpha however many times it looks. Re-running a fixed-sample test at every
// look does not do that (simulated: "p < 0.05" at any of 200 looks happens in
// a third of campaigns between equal kernels), so the rule is a test
// martingale (Ville 1939:
// a nonnegative martingale with mean 1 exceeds 1/alpha *ever* with
// probability <= alpha), and the campaign may stop whenever it likes.
//
// Data: pairs. The i-th run of A is paired with the i-th run of B (the
// campaign interleaves kernels, so they run side by side or back to back,
// with the same planned duration). In a pair, "A failed first" when A failed
// and B was still going at that time (B failed later or was stopped no
// earlier, Gehan's rule); likewise for B; otherwise (neither failed, equal
// times, or a run stopped early before the other failed) the pair says
// nothing and is skipped.
//
// Why pairs: if the kernels are the same, the two runs of a pair are
// exchangeable, so among informative pairs "A failed first" is a fair coin,
// *exactly*, whatever the common failure rate, the shape of the hazard
// (a warm-up period, wear-out) or slow drift in host load over the campaign.
// And under proportional hazards with ratio r (constant rates: r = rate
// ratio) P(A first | informative) = r / (1 + r) exactly, for any duration.
// A test built on the per-kernel totals (failures, exposure) instead needs
// the constant-rate model and the unknown common rate; its conditional
// binomial is exact only for fixed exposures, and exposures depend on the
// failures (a failed run is short). Simulated with looks after every run its
// false-decision rate came within a few thousandths of alpha; the paired
// rule's is provably below alpha. The price is power when both kernels fail
// in nearly every run (one coin per pair instead of two failure times), up
// to about 2x more runs; in the regime of rare failures it loses nothing.
//
// Statistic: Wald's sequential probability ratio (Wald 1945) on the
// informative pairs, with p1 = r1 / (1 + r1), r1 = rule.effect:
//   LR+ = (2 p1)^a (2 (1 - p1))^b     A fails r1 times as often as B
//   LR- = (2 (1 - p1))^a (2 p1)^b     B fails r1 times as often as A
//   (a, b = pairs where A, resp. B, failed first)
// "Different"            when (LR+ + LR-) / 2 >= 1 / alpha; direction from the
//                        larger of the two. Under equal kernels the mean is a
//                        test martingale: P(false "different") <= alpha.
//                        A wrong direction needs the wrong-way LR >= 1/alpha,
//                        a supermartingale then: also <= alpha.
// "No large difference"  (futility) when min(1/LR+, 1/LR-) >= 1 / beta, i.e.
//                        the data favour "equal" over both "A fails r1 times
//                        as often" and "B does" by 1/beta. 1/LR+ is a test
//                        martingale when A truly fails r1 times as often and a
//                        supermartingale when it fails even more, so the rule
//                        wrongly says "no large difference" with probability
//                        <= beta whenever the true ratio is r1 or beyond.
// Thresholds are Ville's 1/alpha and 1/beta, not Wald's approximations
// (1-beta)/alpha and beta/(1-alpha), so the bounds are guarantees.
// Otherwise "keep going"; the campaign also stops at its budget (then the
// result is "undecided"; the fixed-sample p-value of compare_rates is not
// valid after a data-dependent stop, the e-value `statistic` still is).
/// The paired sequential test's settings: its two error bounds and the failure-rate ratio that matters.
struct SequentialRule {
  double alpha = 0.05;  // P(deciding "different" when the kernels fail alike), over all looks
  double beta = 0.05;   // P(deciding "no large difference" when the ratio is >= effect)
  double effect = 4.0;  // failure-rate (hazard) ratio that matters; > 1
};

/// What the paired sequential test says after a look: keep going, different, or no large difference.
enum class SequentialOutcome {
  kKeepGoing,
  kDifferent,           // direction says which kernel fails more
  kNoLargeDifference,   // futility: no ratio of `effect` or more either way
};

/// The paired sequential test after one look: its outcome, e-values against their thresholds, the pairs.
struct SequentialDecision {
  SequentialOutcome outcome = SequentialOutcome::kKeepGoing;
  Direction direction = Direction::kNone;  // set when outcome == kDifferent
  double statistic = 1.0;           // e-value for "different": (LR+ + LR-) / 2
  double threshold = 20.0;          // 1 / alpha
  double futility_statistic = 1.0;  // e-value for "no large difference": min(1/LR+, 1/LR-)
  double futility_threshold = 20.0;  // 1 / beta
  std::size_t pairs = 0;             // complete pairs looked at
  std::size_t a_failed_first = 0;
  std::size_t b_failed_first = 0;

  bool decided() const { return outcome != SequentialOutcome::kKeepGoing; }
};

// `a` and `b` are each kernel's runs in the order they were started, only the
// leading finished ones (stop at the first run still going: pairs are made by
// position). Runs beyond the shorter list wait for their partner. Pure: the
// campaign calls it again with the longer lists after every finished run.
SequentialDecision sequential_decision(std::span<const RunOutcome> a,
                                       std::span<const RunOutcome> b,
                                       const SequentialRule& rule = {});

// The fewest complete pairs after which the rule can decide "different":
// every pair informative and all the same way. A campaign with fewer runs
// per kernel than this cannot stop early (8 at the defaults: alpha 0.05,
// effect 4; 6 at effect 20; 5 is the floor of any one-coin-per-pair rule at
// alpha 0.05, 2^5 > 20).
std::size_t sequential_min_pairs(const SequentialRule& rule = {});

// ---------------------------------------------------------------------------
// 5. Intensity parity.
//
// A kernel that fails less is only better if it ran the race as often. Given
// per-run intensities (race-relevant events per second, from telemetry) of
// two builds, compare their medians (robust to a run that barely started);
// flag when one is more than `max_ratio` times the other.
/// Whether two builds ran the race alike: their median intensities, the ratio and the flag.
struct IntensityParity {
  bool comparable = false;  // both lists non-empty
  double median_a = 0.0;
  double median_b = 0.0;
  double ratio = 1.0;        // higher median / lower median (>= 1; +inf if the lower is 0)
  /// Which build's median intensity is the higher one.
  enum class Higher { kNeither, kA, kB } higher = Higher::kNeither;
  double max_ratio = 2.0;
  bool flagged = false;      // ratio > max_ratio: the comparison of failure rates is suspect
};

IntensityParity compare_intensity(std::span<const double> a, std::span<const double> b,
                                  double max_ratio = 2.0);

// Median of a list (mean of the two middle values for an even count); NaN if empty.
double median(std::span<const double> values);

// ---------------------------------------------------------------------------
// 6. Summaries for people (formatted by stats/format.h).

/// Statistics of one list of run outcomes: counts, exposure, failure rate, KM median.
struct OutcomeSummary {
  std::size_t runs = 0;
  std::size_t failures = 0;
  Duration exposure{0};                  // total workload time
  RateEstimate rate;                     // failures per hour
  std::optional<RateEstimate> rate_per_million_events;  // when events were given
  std::optional<Duration> median;        // Kaplan-Meier median; nullopt = not reached
  std::optional<Duration> median_lower;
  std::optional<Duration> median_upper;
};

// `race_events`: total race-relevant events over all runs, if telemetry had them.
OutcomeSummary summarize_runs(std::span<const RunOutcome> runs, double confidence = 0.95,
                              std::optional<double> race_events = std::nullopt);

}  // namespace numasoak::stats

// Transitional: the formatting moved to stats/format.h; files outside stats/
// and report/ that still reach it through this header should include it.
#include "stats/format.h"  // IWYU pragma: export
