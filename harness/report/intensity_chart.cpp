#include "report/intensity_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/text.h"
#include "stats/format.h"
#include "stats/stats.h"

namespace numasoak::report {

std::string render_intensity_svg(std::span<const KernelSummary> kernels, const std::string& key,
                                 const std::function<std::string(std::size_t)>& colour) {
  double vmax = 0;
  bool any = false;
  for (const auto& k : kernels) {
    const auto it = k.run_rates.find(key);
    if (it == k.run_rates.end()) continue;
    for (double v : it->second) {
      if (!std::isfinite(v)) continue;
      any = true;
      vmax = std::max(vmax, v);
    }
  }
  if (!any) return {};
  if (vmax <= 0) vmax = 1;
  vmax *= 1.1;  // headroom so the top dot is not cut by the frame

  constexpr double L = 70, T = 14, B = 44, R = 60, ph = 220, col = 150;  // R: room for the last median label
  const double W = L + R + col * static_cast<double>(kernels.size()), H = T + ph + B;
  auto y = [&](double v) { return T + ph * (1.0 - v / vmax); };

  std::string s = fmt::format(
      "<svg class=intensity viewBox=\"0 0 {} {}\" width=\"{}\" role=\"img\"><title>{} per second, each run</title>\n", W,
      H, W, html_escape(key));
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#d1d9e0\"/>\n", L, T,
                   W - L - R, ph);
  for (int i = 0; i <= 4; ++i) {
    const double v = vmax * i / 4.0;
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eef1f4\"/>"
                     "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"end\" fill=\"#59636e\">{}</text>\n",
                     L, W - R, y(v), y(v), L - 6, y(v) + 4, format_number(v));
  }
  s += fmt::format("<text x=\"14\" y=\"{:.1f}\" font-size=\"12\" fill=\"#59636e\" transform=\"rotate(-90 14 {:.1f})\" "
                   "text-anchor=\"middle\">events/s</text>\n",
                   T + ph / 2, T + ph / 2);
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const double cx = L + col * (static_cast<double>(i) + 0.5);
    const std::string c = colour(i);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n", cx,
                     T + ph + 18, html_escape(truncate_text(kernels[i].name, 22)));
    const auto it = kernels[i].run_rates.find(key);
    if (it == kernels[i].run_rates.end() || it->second.empty()) {
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#59636e\">no "
                       "telemetry</text>\n",
                       cx, T + ph / 2);
      continue;
    }
    const auto& values = it->second;
    // Runs spread sideways in run order so equal values stay visible.
    const double spread = std::min(60.0, 6.0 * static_cast<double>(values.size()));
    for (std::size_t j = 0; j < values.size(); ++j) {
      if (!std::isfinite(values[j])) continue;
      const double dx = values.size() == 1 ? 0.0 : spread * (static_cast<double>(j) / (values.size() - 1) - 0.5);
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" fill-opacity=\"0.7\"/>\n", cx + dx,
                       y(values[j]), c);
    }
    const double m = stats::median(values);
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#59636e\">median {}</text>\n",
                     cx - spread / 2 - 10, cx + spread / 2 + 10, y(m), y(m), c, cx + spread / 2 + 12, y(m) + 4,
                     format_number(m));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#59636e\">{} per "
                   "second, one dot per run</text>\n",
                   L + (W - L - R) / 2, H - 6, html_escape(key));
  s += "</svg>";
  return s;
}

std::string render_intensity_section(const Report& r, const std::function<std::string(std::size_t)>& colour) {
  // The counter the verdict compared, else the first race counter any build has.
  std::string key;
  for (const auto& c : r.verdict.comparisons) {
    if (!c.intensity_event.empty()) {
      key = c.intensity_event;
      break;
    }
  }
  for (const auto& candidate : race_event_keys()) {
    if (!key.empty()) break;
    for (const auto& k : r.kernels) {
      if (k.run_rates.count(candidate)) key = candidate;
    }
  }
  std::string h = "<section><h2>Race intensity</h2>\n";
  if (key.empty()) {
    return h + "<p class=muted>No race-relevant telemetry was recorded: the runs cannot show how hard they exercised "
               "the race.</p></section>\n";
  }
  h += fmt::format("<table><tr><th>build</th><th class=n>median <code>{}</code>/s</th><th class=n>race-relevant "
                   "events</th><th class=n>failures per 1M race events ({}%)</th></tr>\n",
                   html_escape(key), format_number(r.confidence * 100));
  for (std::size_t i = 0; i < r.kernels.size(); ++i) {
    const auto& k = r.kernels[i];
    const auto it = k.run_rates.find(key);
    const std::string med = it == k.run_rates.end() || it->second.empty() ? "-" : format_number(stats::median(it->second));
    h += fmt::format("<tr><td><span class=swatch style=\"background:{}\"></span>{}</td><td class=n>{}</td>"
                     "<td class=n>{}</td><td class=n>{}</td></tr>\n",
                     colour(i), html_escape(k.name), med, k.race_events ? format_number(*k.race_events) : "-",
                     k.rate_per_million_events ? html_escape(format_rate_short(*k.rate_per_million_events)) : "-");
  }
  h += "</table>\n";
  for (const auto& c : r.verdict.comparisons) {
    if (!c.intensity || !c.intensity->flagged) continue;
    const bool a_higher = c.intensity->higher == stats::IntensityParity::Higher::kA;
    h += fmt::format("<p><b>&#9888; {} ran <code>{}</code> {}x as often as {} (medians): their failure rates may not "
                     "be comparable.</b></p>\n",
                     html_escape(a_higher ? c.baseline : c.other), html_escape(c.intensity_event),
                     format_number(c.intensity->ratio), html_escape(a_higher ? c.other : c.baseline));
  }
  h += render_intensity_svg(r.kernels, key, colour);
  h += "<p class=muted>Race-relevant events are huge-PMD NUMA updates, THP migrations and uffd-wp operations "
       "(agent telemetry). A build that ran the race less often had fewer chances to fail: compare failures per "
       "million events too.</p></section>\n";
  return h;
}

}  // namespace numasoak::report
