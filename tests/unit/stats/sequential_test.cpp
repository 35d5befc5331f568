// The sequential rule's error rates, by simulating whole campaigns.
//
// A campaign here runs A and B alternately (A, B, A, B, ...), each run with a
// planned duration D; a run fails at an exponential (or Weibull) time or is
// censored at D. After EVERY finished run it calls sequential_decision() on
// the runs so far, exactly as the `decisive` campaign does, and stops at the
// first decision or at 100 runs per kernel (the budget). The seed is fixed,
// so the printed numbers are reproducible.
#include "stats/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

namespace numasoak::stats {
namespace {

constexpr int kCampaigns = 2000;
constexpr int kMaxRunsPerKernel = 100;
const Duration kDuration = std::chrono::minutes(3);

struct CampaignResult {
  SequentialOutcome outcome = SequentialOutcome::kKeepGoing;
  Direction direction = Direction::kNone;
  int runs = 0;  // both kernels
};

struct Summary {
  double different = 0, a_more = 0, a_less = 0, no_large_difference = 0, undecided = 0;
  double mean_runs = 0;
};

// Draws a time to failure in units of D for kernel 0 (A) or 1 (B).
using Draw = std::function<double(std::mt19937_64&, int kernel)>;

RunOutcome run_once(std::mt19937_64& rng, const Draw& draw, int kernel) {
  const double t = draw(rng, kernel);
  if (t >= 1.0) return {kDuration, false};
  return {Duration(static_cast<Duration::rep>(t * static_cast<double>(kDuration.count()))), true};
}

CampaignResult campaign(std::mt19937_64& rng, const Draw& draw, const SequentialRule& rule) {
  std::vector<RunOutcome> a, b;
  CampaignResult r;
  for (int i = 0; i < kMaxRunsPerKernel; ++i) {
    for (int kernel = 0; kernel < 2; ++kernel) {
      (kernel == 0 ? a : b).push_back(run_once(rng, draw, kernel));
      ++r.runs;
      const SequentialDecision d = sequential_decision(a, b, rule);  // a look after every run
      if (d.decided()) {
        r.outcome = d.outcome;
        r.direction = d.direction;
        return r;
      }
    }
  }
  return r;
}

Summary simulate(const Draw& draw, const SequentialRule& rule, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Summary s;
  for (int c = 0; c < kCampaigns; ++c) {
    const CampaignResult r = campaign(rng, draw, rule);
    s.mean_runs += r.runs;
    switch (r.outcome) {
      case SequentialOutcome::kDifferent:
        s.different += 1;
        (r.direction == Direction::kAFailsMore ? s.a_more : s.a_less) += 1;
        break;
      case SequentialOutcome::kNoLargeDifference: s.no_large_difference += 1; break;
      case SequentialOutcome::kKeepGoing: s.undecided += 1; break;
    }
  }
  for (double* x : {&s.different, &s.a_more, &s.a_less, &s.no_large_difference, &s.undecided, &s.mean_runs})
    *x /= kCampaigns;
  return s;
}

// Exponential times with rates (per D) lambda_a and lambda_b.
Draw exponential(double lambda_a, double lambda_b) {
  return [=](std::mt19937_64& rng, int kernel) {
    return std::exponential_distribution<double>(kernel == 0 ? lambda_a : lambda_b)(rng);
  };
}

void print(const char* what, const Summary& s) {
  std::printf("[ stats    ] %-58s decided different %.4f (A more %.4f, A less %.4f), "
              "no large difference %.4f, undecided %.4f, mean runs to stop %.1f\n",
              what, s.different, s.a_more, s.a_less, s.no_large_difference, s.undecided, s.mean_runs);
}

// Equal kernels, looked at after every run: the rate of deciding "different"
// must stay <= alpha. Checked in three regimes (rare, common, near-certain
// failure per run), with and without the futility stop (without it, every
// campaign goes on to the full budget of 200 looks: the harder case).
TEST(SequentialSimulation, FalseDecisionRateAtMostAlpha) {
  const SequentialRule rule;  // alpha 0.05, beta 0.05, effect 4
  SequentialRule no_futility = rule;
  no_futility.beta = 1e-300;
  std::uint64_t seed = 20240601;
  for (double lambda : {0.1, 1.0, 5.0}) {
    char label[96];
    std::snprintf(label, sizeof label, "equal rates %.1f/D, P(fail in a run) %.2f:", lambda, 1 - std::exp(-lambda));
    const Summary s = simulate(exponential(lambda, lambda), rule, seed++);
    print(label, s);
    EXPECT_LE(s.different, rule.alpha) << label;
    std::snprintf(label, sizeof label, "  same, futility stop off, 200 looks:");
    const Summary worst = simulate(exponential(lambda, lambda), no_futility, seed++);
    print(label, worst);
    EXPECT_LE(worst.different, rule.alpha) << label;
    EXPECT_EQ(worst.no_large_difference, 0.0);
  }
}

// The rule does not assume a constant hazard: Weibull shape 3 (failures
// cluster late in a run, a warm-up before the race can fire).
TEST(SequentialSimulation, FalseDecisionRateWithoutConstantHazard) {
  SequentialRule no_futility;
  no_futility.beta = 1e-300;
  const Draw weibull = [](std::mt19937_64& rng, int) {
    return std::weibull_distribution<double>(3.0, 1.2)(rng);
  };
  const Summary s = simulate(weibull, no_futility, 7);
  print("equal Weibull(shape 3), futility stop off:", s);
  EXPECT_LE(s.different, no_futility.alpha);
}

// Why not simply re-run the fixed-sample test at every look: with the same
// campaigns, "p < 0.05 at any look" is far above 5%.
TEST(SequentialSimulation, NaiveRepeatedTestingIsNotValid) {
  std::mt19937_64 rng(99);
  const Draw draw = exponential(1.0, 1.0);
  constexpr int kNaiveCampaigns = 500;  // compare_rates is slower; 500 is plenty to see it
  int false_decisions = 0;
  for (int c = 0; c < kNaiveCampaigns; ++c) {
    std::vector<RunOutcome> a, b;
    bool decided = false;
    for (int i = 0; i < kMaxRunsPerKernel && !decided; ++i) {
      for (int kernel = 0; kernel < 2 && !decided; ++kernel) {
        (kernel == 0 ? a : b).push_back(run_once(rng, draw, kernel));
        decided = compare_rates(tally_seconds(a), tally_seconds(b)).p_two_sided < 0.05;
      }
    }
    false_decisions += decided;
  }
  const double rate = static_cast<double>(false_decisions) / kNaiveCampaigns;
  std::printf("[ stats    ] naive: exact conditional test p < 0.05 at any of 200 looks, equal rates: %.3f\n", rate);
  EXPECT_GT(rate, 0.10);
}

// Power: A fails 10x as often as B. How often, and how fast, is it decided?
TEST(SequentialSimulation, PowerForTenfoldDifference) {
  const SequentialRule rule;
  struct Case {
    const char* label;
    double lambda_b;
  } cases[] = {{"10x: A 0.63, B 0.095 P(fail in a run) (rare for B):", 0.1},
               {"10x: A 1.00, B 0.63 P(fail in a run) (both common):", 1.0},
               {"10x: A 0.39, B 0.049 P(fail in a run) (both rarer):", 0.05}};
  std::uint64_t seed = 4242;
  for (const Case& c : cases) {
    const Summary s = simulate(exponential(10 * c.lambda_b, c.lambda_b), rule, seed++);
    print(c.label, s);
    EXPECT_GE(s.a_more, 0.95) << c.label;
    EXPECT_LE(s.a_less, 0.001) << c.label;
  }
  // Equal power the other way round.
  const Summary mirror = simulate(exponential(0.1, 1.0), rule, seed++);
  print("10x the other way (B fails more):", mirror);
  EXPECT_GE(mirror.a_less, 0.95);
}

// Futility: with a true ratio of exactly `effect` (4x), the rule may say
// "no large difference" at most beta of the time.
TEST(SequentialSimulation, FutilityErrorAtMostBeta) {
  const SequentialRule rule;
  const Summary s = simulate(exponential(0.4, 0.1), rule, 77);
  print("4x (= effect): wrongly 'no large difference' in", s);
  EXPECT_LE(s.no_large_difference, rule.beta);
}

}  // namespace
}  // namespace numasoak::stats
