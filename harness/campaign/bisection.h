// Bisection of a patch series when the bug is probabilistic: which state to
// test next, how long each test must survive, and what the steps show.
// Pure: no store, no clock, no kernels; `numasoak bisect` (cli/verb_bisect)
// builds and runs the states and feeds their verdicts back in.
//
// State k is the base kernel with the first k patches of an n-patch series
// applied (0 <= k <= n). The two ends are tested first, the base (0) and the
// whole series (n); they fix the direction:
//
//   0 bad, n good  -> a fix:        first good state k names patch k
//   0 good, n bad  -> a regression: first bad state k names patch k
//   both the same  -> nothing to bisect (said, with the evidence)
//
// Then it is a binary search between the last state known on the base's side
// and the first known on the other, skipping untestable states (a kernel
// that does not build or boot) by testing the nearest untested neighbour of
// the middle; when only skipped states are left between them, the answer is
// the range.
//
// Sizing (why the whole bisection is right with probability >= confidence):
// a failure is certain evidence of "bad" (a good build does not fail), so
// only a "good" can be wrong: a bad build that happened to survive. With the
// bad end failing at rate >= lambda, the j-th step (1-based, in test order)
// runs for t_j = ln(2^j / alpha) / lambda, alpha = 1 - confidence, so a bad
// build passes it with probability <= alpha / 2^j. Summed over any number of
// steps (skips included) that is < alpha. Each step costs ln 2 / lambda more
// than the one before: 0.69 s more per step at 3600/h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stats/survival.h"

namespace numasoak {

/// What one state's test showed: good (survived its t_j), bad (failed), skip (could not be tested).
enum class StepVerdict { kGood, kBad, kSkip };
const char* to_string(StepVerdict v);

/// One tested state, in test order.
struct BisectionStep {
  int state = 0;  // number of patches applied
  StepVerdict verdict = StepVerdict::kSkip;
};

/// How a bisection ended.
struct BisectionConclusion {
  /// What the steps allow to say.
  enum class Kind {
    kNamed,          // one patch: `first` (1-based) is the first good (fix) or bad (regression)
    kRange,          // skipped states leave patches first..last
    kNoChange,       // both ends agree: the series does not change the outcome
    kEndUntestable,  // an end could not be tested
  };
  Kind kind = Kind::kNoChange;
  bool fix = true;  // direction: true = looking for the first good (the base is bad)
  int first = 0;    // 1-based patch numbers
  int last = 0;
  std::string text;  // one line for people, patch numbers only ("first good: patch 2 of 3")
};

/// The search over states 0..n (see above).
class Bisection {
 public:
  // `patches` >= 1. Throws std::invalid_argument otherwise.
  explicit Bisection(int patches);

  int patches() const { return n_; }
  // Records a tested state's verdict. Throws std::logic_error when `state`
  // is not the one next() asks for (replaying a stored bisection must take
  // the same path, or it is not the same bisection).
  void record(int state, StepVerdict verdict);
  // The state to test next; nullopt once concluded.
  std::optional<int> next() const;
  // Set once next() is nullopt.
  std::optional<BisectionConclusion> conclusion() const;
  const std::vector<BisectionStep>& steps() const { return steps_; }

 private:
  /// Where the search stands once both ends are known and differ: `lo` is the
  /// last state known to behave like the base, `hi` the first known to behave
  /// like the whole series (lo < hi); states between are untested or skipped.
  struct Bracket {
    int lo = 0;
    int hi = 0;
  };
  Bracket bracket(StepVerdict base, StepVerdict whole) const;
  std::optional<StepVerdict> verdict_of(int state) const;
  int n_;
  std::vector<BisectionStep> steps_;
};

/// How long step `j` (1-based) must survive to count as good: the survival
/// stats::survival_needed asks at confidence 1 - (1 - confidence) / 2^j.
/// Throws std::invalid_argument for j < 1, a rate that is not finite and > 0,
/// or a confidence outside (0, 1).
stats::SurvivalRequirement step_survival(int j, double bad_rate_per_hour, double confidence);

}  // namespace numasoak
