#include "campaign/bisection.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace numasoak {

const char* to_string(StepVerdict v) {
  switch (v) {
    case StepVerdict::kGood: return "good";
    case StepVerdict::kBad: return "bad";
    case StepVerdict::kSkip: return "skip";
  }
  return "?";
}

Bisection::Bisection(int patches) : n_(patches) {
  if (patches < 1) throw std::invalid_argument("a bisection needs a series of at least one patch");
}

std::optional<StepVerdict> Bisection::verdict_of(int state) const {
  for (const auto& s : steps_) {
    if (s.state == state) return s.verdict;
  }
  return std::nullopt;
}

void Bisection::record(int state, StepVerdict verdict) {
  const auto want = next();
  if (!want || *want != state) {
    throw std::logic_error(fmt::format("bisection: state {} recorded where {} was to be tested", state,
                                       want ? std::to_string(*want) : std::string("nothing")));
  }
  steps_.push_back({state, verdict});
}

Bisection::Bracket Bisection::bracket(StepVerdict base, StepVerdict whole) const {
  Bracket b{0, n_};
  for (const auto& s : steps_) {
    if (s.verdict == StepVerdict::kSkip) continue;
    if (s.verdict == base && s.state > b.lo) b.lo = s.state;
    if (s.verdict == whole && s.state < b.hi) b.hi = s.state;
  }
  return b;
}

std::optional<int> Bisection::next() const {
  const auto base = verdict_of(0);
  if (!base) return 0;
  if (*base == StepVerdict::kSkip) return std::nullopt;
  const auto whole = verdict_of(n_);
  if (!whole) return n_;
  if (*whole == StepVerdict::kSkip || *whole == *base) return std::nullopt;
  const Bracket b = bracket(*base, *whole);
  // The untested state nearest the middle; on a tie the lower one.
  const int mid = b.lo + (b.hi - b.lo) / 2;
  std::optional<int> best;
  for (int k = b.lo + 1; k < b.hi; ++k) {
    if (verdict_of(k)) continue;
    if (!best || std::abs(k - mid) < std::abs(*best - mid)) best = k;
  }
  return best;
}

std::optional<BisectionConclusion> Bisection::conclusion() const {
  if (next()) return std::nullopt;
  BisectionConclusion c;
  const StepVerdict base = *verdict_of(0);
  const auto whole = verdict_of(n_);
  const auto of = [&](int k) { return fmt::format("patch {} of {}", k, n_); };
  if (base == StepVerdict::kSkip || (whole && *whole == StepVerdict::kSkip)) {
    c.kind = BisectionConclusion::Kind::kEndUntestable;
    c.text = base == StepVerdict::kSkip ? "the base (no patch applied) could not be tested: nothing to compare with"
                                        : fmt::format("the whole series ({} patches applied) could not be tested", n_);
    return c;
  }
  if (*whole == base) {
    c.kind = BisectionConclusion::Kind::kNoChange;
    c.fix = base == StepVerdict::kBad;
    c.text = base == StepVerdict::kBad ? "no patch fixes it: the whole series fails like the base"
                                       : "no patch breaks it: the base and the whole series both survived";
    return c;
  }
  c.fix = base == StepVerdict::kBad;
  const auto [lo, hi] = bracket(base, *whole);
  const char* what = c.fix ? "first good" : "first bad";
  if (hi == lo + 1) {
    c.kind = BisectionConclusion::Kind::kNamed;
    c.first = c.last = hi;
    c.text = fmt::format("{}: {}", what, of(hi));
  } else {
    c.kind = BisectionConclusion::Kind::kRange;
    c.first = lo + 1;
    c.last = hi;
    c.text = fmt::format("{}: one of patches {}..{} of {} (patches {}..{} could not be tested)", what, lo + 1, hi, n_,
                         lo + 1, hi - 1);
  }
  return c;
}

stats::SurvivalRequirement step_survival(int j, double bad_rate_per_hour, double confidence) {
  if (j < 1) throw std::invalid_argument("step_survival: steps count from 1");
  if (!(confidence > 0.0 && confidence < 1.0)) throw std::invalid_argument("step_survival: confidence outside (0, 1)");
  const double alpha_j = (1.0 - confidence) / std::ldexp(1.0, j);
  stats::SurvivalRequirement r = stats::survival_needed(bad_rate_per_hour, 1.0 - alpha_j);
  return r;
}

}  // namespace numasoak
