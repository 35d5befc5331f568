// The dose-response of a [sweep] campaign, as the report shows it: per base
// kernel, its arms ("6.1-bare@20us", ...) turned back into widths and their
// rates, and the fit stats/dose.h makes of them.
//
// The arms and their widths come from the store's campaign snapshot
// (config.sweep.arms, written by config/campaign's campaign_to_json), never
// from parsing arm names, so a kernel whose own name has an '@' cannot
// confuse it. Pure: values in, values out.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "report/summary.h"
#include "stats/dose.h"

namespace numasoak::report {

/// One base kernel's sweep: its arms in the campaign's width order and the
/// dose-response over them (rows in the same order as `arms`).
struct DoseSection {
  std::string kernel;               // the base kernel ("6.1-bare")
  std::vector<std::string> arms;    // arm names, one per row
  stats::DoseResponse response;
};

// The sweep's sections, one per kernel in campaign order; empty when the
// campaign snapshot has no sweep. Arms with no summary yet count as no runs.
std::vector<DoseSection> dose_sections(const nlohmann::json& campaign_config, std::span<const KernelSummary> kernels,
                                       double confidence = 0.95);

// The terminal text: per kernel a table (width, runs, failures, exposure,
// rate/h, rate per 1M race events, each with its interval) and the fit.
std::string render_dose_terminal(std::span<const DoseSection> sections);

// The fit in one line of words (no markup): "b = 1.2 [0.61, 2.0]; rate =
// 3.4/h x width^1.2; at the natural window (assumed 0.1 us): 0.21/h [...]",
// or "no fit: <reason>".
std::string describe_fit(const stats::DoseResponse& response);

// Inline SVG, log-log: failures/h against width, one point per width > 0
// with its interval bar (widths with no failures: a downward triangle at
// their upper bound), the fitted line over the fitted widths, dashed to the
// natural window, and the extrapolated rate there as a hollow diamond with
// its interval. No scripts; names are HTML-escaped. Empty when nothing can
// be plotted (no width > 0 with exposure).
std::string render_dose_svg(const DoseSection& section);

// The report.html section: table, plot and fit for every kernel of the
// sweep; empty when there is no sweep.
std::string render_dose_html(std::span<const DoseSection> sections);

// summary.json's "dose_response": one object per kernel.
nlohmann::json dose_json(std::span<const DoseSection> sections);

}  // namespace numasoak::report
