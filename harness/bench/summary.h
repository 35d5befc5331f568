// What a bench found, in numbers: one cell per (row, amplifier setting) with
// its time to failure (Kaplan-Meier median, its interval and the spread of
// the failure times), failures per hour (an exact upper bound when there
// were none) and the median stress rates; the harness's own costs; the
// scaling with parallel guests; the headline. Pure: results in, figures out;
// table() and to_json() render them.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/plan.h"
#include "result/run_result.h"
#include "stats/stats.h"

namespace numasoak::bench {

// The telemetry rates the bench shows per row (events per second).
inline constexpr std::array<const char*, 5> kRateKeys = {"numa_huge_pte_updates", "thp_migration_success",
                                                         "numa_hint_faults", "uffd_wp_ioctls", "race_events"};

/// One (row, amplifier) cell: failures, exposure, rate and TTF.
struct CellSummary {
  BenchRow row;
  int amplify_us = 0;
  std::size_t runs = 0;      // runs with evidence (failed or survived)
  std::size_t failures = 0;
  std::size_t errors = 0;    // no evidence either way (boot failure, the guest refused its setup, ...)
  std::size_t idle = 0;      // ran the budget without failing but exercised no race event (counted as survived)
  std::vector<std::string> error_kinds;  // distinct, in order seen
  std::optional<double> median_s, median_lower_s, median_upper_s;  // KM median TTF; nullopt = not reached
  std::optional<double> min_ttf_s, max_ttf_s;                      // spread of the failure times
  double exposure_s = 0;
  stats::RateEstimate per_hour;
  std::map<std::string, double> rates;  // median over runs of each kRateKeys rate
};

CellSummary summarize_cell(const BenchRow& row, int amplify_us, std::span<const RunResult> runs);

/// One harness cost: a name, a value and unit, and how it was measured.
struct CostFigure {
  std::string name;   // "boot to workload start (6.1)"
  double value = 0;
  std::string unit;   // "s", "MiB", "CPU s/guest-h"
  std::string note;   // "median of 12 runs", "cold (recorded at build)", "not measured"
  bool measured = true;
};

/// Race events and harness cost with this many guests at once.
struct ScalingPoint {
  int guests = 0;
  double aggregate_events_per_s = 0;  // sum over the guests of their race_events rate
  double per_guest_events_per_s = 0;
  double harness_cpu_s_per_guest_hour = 0;
  double peak_rss_mib = 0;
};

/// The bench's answer in one place: numasoak against the best alternative.
struct Headline {
  std::string text;  // one paragraph for people
  std::optional<double> bad_pmd_median_s;
  std::optional<std::string> best_alternative;
  std::optional<double> best_alternative_median_s;
  std::optional<double> ratio;             // best alternative median / bad-pmd median (x faster)
  // When no alternative reached a median: the exact 95% lower bound of
  // bad-pmd's failure rate over all the alternatives' together.
  std::optional<double> rate_ratio_lower;
  std::optional<stats::RateEstimate> natural;
  bool bad_pmd_fastest = false;
};

/// Everything bench.json holds.
struct BenchReport {
  std::string machine;   // "2 cores (model), TCG, load 2.9 at start"
  std::string guest;     // "2 nodes, 2 vCPUs, 2 GiB" and the kernel
  std::string started_at, finished_at;
  bool quick = false;
  std::vector<CellSummary> cells;
  std::optional<CellSummary> natural;  // bad-pmd with the amplifier off
  std::vector<CostFigure> costs;
  std::vector<ScalingPoint> scaling;
  Headline headline;
};

// The headline from the cells at the widest amplifier setting and the
// natural cell: bad-pmd's median against the fastest other row's.
Headline make_headline(const std::vector<CellSummary>& cells, const std::optional<CellSummary>& natural);

// The table for a terminal (plain text, fixed columns).
std::string table(const BenchReport& r);
void to_json(nlohmann::json& j, const BenchReport& r);

}  // namespace numasoak::bench
