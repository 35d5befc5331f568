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

/// One distinct first-failure title of a kernel's failed runs.
struct TitleCount {
  std::string kind;
  std::string title;  // untrusted guest text
  int runs = 0;       // failed runs whose first failure had this title
};

/// One kernel's row in a report: its names, run counts, stats, failure titles, telemetry.
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
  // Exposure in race-relevant events (telemetry "race_events": huge-PMD NUMA
  // updates + THP migrations + uffd-wp operations) of the evidence runs, and
  // the failure rate per million of them (a failed run counts its events up
  // to the failure). Set only when every evidence run reported the count:
  // a partial sum would make the rate look worse.
  std::optional<double> race_events;
  std::optional<stats::RateEstimate> rate_per_million_events;
  // How the race window was widened in the evidence runs (RunResult::widened;
  // one entry unless runs differed), and the widening's own proof summed over
  // them: delays taken (race_widen_hits, source patch or widen module) and,
  // for the widen module, those taken with interrupts off and the migration
  // entries that landed on a pmd during its delay.
  std::vector<std::string> widened;
  double widen_hits = 0, widen_irqs_off = 0, widen_landed = 0;

  int evidence_runs() const { return failed + survived; }
  const TitleCount* top_title() const { return titles.empty() ? nullptr : &titles.front(); }
};

// Summarises one kernel's finished runs (others in `runs` are ignored).
KernelSummary summarize_kernel(const std::string& name, std::span<const RunResult> runs, double confidence = 0.95);

/// What the baseline against one other kernel shows: no evidence, cannot tell, removes, reduces, introduces, ...
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

/// The baseline (first kernel) against one other kernel.
struct Comparison {
  std::string baseline;
  std::string other;
  Finding finding = Finding::kNoEvidence;
  stats::RateComparison rates;  // a = baseline, b = other, failures per second of exposure
  // The same test with exposure in millions of race-relevant events, when
  // both kernels have the count: a fix that was merely exercised less shows
  // here as a smaller difference.
  std::optional<stats::RateComparison> event_rates;
  std::optional<stats::LogRankTest> log_rank;       // a = baseline
  std::optional<stats::IntensityParity> intensity;  // a = baseline; on `intensity_event`
  std::string intensity_event;                      // the telemetry rate compared
  std::string sentence;
};

/// The verdict of a campaign: each comparison with the baseline, the paragraph, and how the campaign ended.
struct VerdictText {
  std::vector<Comparison> comparisons;  // one per kernel after the first
  std::string text;                     // the whole verdict paragraph
  std::string campaign_end;             // describe_campaign_end(), also the end of `text`; may be empty
};

// The verdict for a campaign's kernels in campaign order; the first is the
// baseline. E.g. "6.1 (6.1.192): 10/10 runs failed (bad pmd), median TTF 14 s.
// 6.1+backport (6.1.192): 0/10 failed in 50 min exposure, rate < 3.6/h (95%).
// 6.1+backport removes the failure: p < 1e-9."
VerdictText compose_verdict(std::span<const KernelSummary> kernels, double confidence = 0.95);

// The clause about one kernel alone ("6.1 (6.1.192): 10/10 runs failed ...").
std::string describe_kernel(const KernelSummary& k);

// "outside: kprobe at ...; 13588 delays taken (13588 with interrupts off),
// 1 migration entries landed during one" for one entry of k.widened: how
// the window was widened and the proof the delay was taken ("none" alone).
std::string describe_widening(const KernelSummary& k, const std::string& widened);

// How a campaign ended, for the verdict: which rule stopped it and after how
// many runs. `status` is the store's campaign status ("finished", "decided",
// "stopped", "running"), `decisive` whether the campaign had stop =
// "decisive". E.g. "The campaign stopped after 16 of 40 planned runs: its
// sequential rule decided (...); the p-values above assume a fixed number of
// runs and are only indicative." Empty for a campaign that simply ran its
// planned runs with stop = "fixed".
std::string describe_campaign_end(const std::string& status, const std::string& stop_reason, bool decisive,
                                  int finished, int planned);

// Telemetry rates that measure how often the race was exercised, best first;
// compose_verdict compares the first one both kernels have.
const std::vector<std::string>& race_event_keys();

}  // namespace numasoak::report
