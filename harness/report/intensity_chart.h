// The intensity chart: how hard each build's runs exercised the race.
//
// A failure rate only compares two builds that ran the race about as often
// (issue 10: one kernel did ten times fewer THP migrations under the same
// workload). The chart puts every evidence run's race-relevant events per
// second side by side, one column of dots per build with its median, so a
// reader sees at a glance whether the builds were stressed alike.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "report/report.h"
#include "report/summary.h"

namespace numasoak::report {

// Inline SVG (no scripts, no external assets) of `key` events/s per run
// (KernelSummary::run_rates), one column per kernel in the given order,
// dots in `colour(i)`, a bar at each median. Empty when no kernel has the
// key. Kernel names are HTML-escaped.
std::string render_intensity_svg(std::span<const KernelSummary> kernels, const std::string& key,
                                 const std::function<std::string(std::size_t)>& colour);

// The report section around it: per build, the median race-relevant events
// per second, the total race-relevant events and the failure rate per
// million of them, side by side; the chart of the counter the verdict
// compared; and the parity warning in words when it was raised.
std::string render_intensity_section(const Report& report, const std::function<std::string(std::size_t)>& colour);

}  // namespace numasoak::report
