// Report: what a campaign found, rendered three ways from the store alone:
// a terminal table + verdict, summary.json for machines, and report.html, a
// self-contained page (inline CSS and SVG, no scripts, no external assets).
//
// Reading only the store keeps reports reproducible and lets `numasoak
// report DIR` run read-only next to a campaign that is still going.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/dose.h"
#include "report/summary.h"
#include "store/store.h"

namespace numasoak::report {

/// Everything a report shows, read from one campaign's store: kernels, verdict, failures, runs and results.
struct Report {
  std::filesystem::path dir;  // the campaign folder; artifact links are relative to it
  std::optional<CampaignRecord> campaign;
  double confidence = 0.95;
  std::string generated_at;  // ISO 8601 UTC
  std::vector<KernelSummary> kernels;  // campaign order; the first is the baseline
  VerdictText verdict;
  std::vector<FailureGroup> failures;  // deduplicated crashes, with example reports
  std::vector<RunRow> runs;            // every planned run, queue order
  std::vector<RunResult> results;      // finished runs
  std::vector<HostFigures> hosts;      // per host (libvirt URI or "local"), with interrupted attempts
  std::vector<DoseSection> dose;       // a [sweep] campaign's dose-response, per base kernel; else empty

  // More than one host or a libvirt host: the host table is worth showing.
  bool show_hosts() const;

  bool any_failure() const;  // some run failed: `numasoak report` exits 1
};

// Reads everything the report needs from an open store (read-only is fine).
Report build_report(const Store& store);

// The terminal table and the verdict. Guest text is made terminal-safe.
std::string render_terminal(const Report& report);

// summary.json: campaign, per-kernel summaries, comparisons with p-values,
// the verdict text, failures and every run.
nlohmann::json render_json(const Report& report);

// report.html. Every guest-derived string is HTML-escaped.
std::string render_html(const Report& report);

// The Kaplan-Meier plot alone (inline SVG): one step curve per kernel, censor
// ticks, pointwise bands at `confidence`, axis labels and a legend.
std::string render_km_svg(const std::vector<KernelSummary>& kernels, double confidence = 0.95);

// Writes report.html and summary.json into `dir`, each atomically.
void write_report_files(const Report& report, const std::filesystem::path& dir);

}  // namespace numasoak::report
