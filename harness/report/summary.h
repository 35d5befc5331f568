// Per-kernel summaries and the verdict: what a campaign found, in numbers
// and in one paragraph of plain words.
//
// Pure functions on values (no SQLite, no files) so every sentence the
// verdict can say is tested directly. The statistics come from stats/stats.h.
//
// Evidence is failed + survived runs. Errors (boot failures, QEMU died) and
// interrupted runs say nothing about the kernel and are only counted.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "result/run_result.h"
#include "stats/stats.h"

namespace numasoak::report {

// One distinct first-failure title of a kernel's failed runs.
struct TitleCount {
  std::string kind;
  std::string title;  // untrusted guest text
  int runs = 0;       // failed runs whose first failure had this title
};

struct KernelSummary {
  std::string name;
  std::string release;  // uname -r (untrusted guest text)
  std::string source;
  // Planning (from the store; zero when summarised from results alone).
  int planned = 0;
  int queued = 0;
  int running = 0;
  int interrupted = 0;
  // Finished runs.
  int finished = 0;  // failed + survived + errors
  int failed = 0;
  int survived = 0;
  int errors = 0;
  double exposure_s = 0;  // workload seconds of failed + survived runs
  stats::RateEstimate rate;  // failures per hour, exact interval (or "< upper" at 0)
  std::optional<double> median_ttf_s;  // Kaplan-Meier, survivors censored; nullopt = not reached
  std::optional<double> median_lower_s;
  std::optional<double> median_upper_s;
  std::vector<stats::RunOutcome> outcomes;  // failed + survived runs, in run order
  std::vector<TitleCount> titles;           // most frequent first
  std::vector<TitleCount> error_titles;     // why runs were errors, most frequent first
  std::map<std::string, double> event_rates;  // telemetry: exposure-weighted mean events/s
  std::map<std::string, std::vector<double>> run_rates;  // telemetry: each evidence run's events/s

  int evidence_runs() const { return failed + survived; }
  const TitleCount* top_title() const { return titles.empty() ? nullptr : &titles.front(); }
};

// Summarises one kernel's finished runs (others in `runs` are ignored).
KernelSummary summarize_kernel(const std::string& name, std::span<const RunResult> runs, double confidence = 0.95);

enum class Finding {
  kNoEvidence,    // a side has no failed or survived run yet
  kNoFailures,    // neither failed: cannot tell them apart
  kRemoves,       // the baseline fails, the other never does, significantly
  kReduces,       // the other fails significantly less, but still fails
  kIntroduces,    // the baseline never fails, the other does, significantly
  kWorse,         // the other fails significantly more
  kSimilar,       // both fail, no significant difference
  kInconclusive,  // one side fails, the difference is not significant
};
const char* to_string(Finding f);

// The baseline (first kernel) against one other kernel.
struct Comparison {
  std::string baseline;
  std::string other;
  Finding finding = Finding::kNoEvidence;
  stats::RateComparison rates;  // a = baseline, b = other, failures per second of exposure
  std::optional<stats::LogRankTest> log_rank;       // a = baseline
  std::optional<stats::IntensityParity> intensity;  // a = baseline; on `intensity_event`
  std::string intensity_event;                      // the telemetry rate compared
  std::string sentence;
};

struct VerdictText {
  std::vector<Comparison> comparisons;  // one per kernel after the first
  std::string text;                     // the whole verdict paragraph
};

// The verdict for a campaign's kernels in campaign order; the first is the
// baseline. E.g. "6.1 (6.1.192): 10/10 runs failed (bad pmd), median TTF 14 s.
// 6.1+backport (6.1.192): 0/10 failed in 50 min exposure, rate < 3.6/h (95%).
// 6.1+backport removes the failure: p < 1e-9."
VerdictText compose_verdict(std::span<const KernelSummary> kernels, double confidence = 0.95);

// The clause about one kernel alone ("6.1 (6.1.192): 10/10 runs failed ...").
std::string describe_kernel(const KernelSummary& k);

// Telemetry rates that measure how often the race was exercised, best first;
// compose_verdict compares the first one both kernels have.
const std::vector<std::string>& race_event_keys();

}  // namespace numasoak::report
