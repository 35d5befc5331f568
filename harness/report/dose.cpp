#include "report/dose.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "report/text.h"

namespace numasoak::report {

using nlohmann::json;

namespace {

std::string width_text(int width_us) { return width_us == 0 ? "off" : fmt::format("{} us", width_us); }

// A decade's tick label: plain where it is short, 1e-6 where it is not.
std::string decade_label(int exponent) {
  if (exponent >= -2 && exponent <= 4) return fmt::format("{:g}", std::pow(10.0, exponent));
  return fmt::format("1e{}", exponent);
}

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json rate_json(const stats::RateEstimate& r) {
  return {{"failures", r.failures},     {"exposure", num(r.exposure)},
          {"rate", num(r.rate)},        {"lower", num(r.lower)},
          {"upper", num(r.upper)},      {"upper_bound_only", r.upper_bound_only},
          {"text", format_rate_short(r)}};
}

std::string assumption_text(double w0) {
  return fmt::format("assumed {:g} us (the few instructions between change_pmd_range()'s two reads of *pmd, under TCG)",
                     w0);
}

}  // namespace

std::vector<DoseSection> dose_sections(const json& config, std::span<const KernelSummary> kernels, double confidence) {
  std::vector<DoseSection> out;
  if (!config.is_object()) return out;
  const auto sweep = config.find("sweep");
  if (sweep == config.end() || !sweep->is_object()) return out;
  const auto arms = sweep->find("arms");
  if (arms == sweep->end() || !arms->is_array()) return out;
  std::map<std::string, const KernelSummary*> by_name;
  for (const auto& k : kernels) by_name[k.name] = &k;
  std::vector<std::vector<stats::DoseObservation>> observations;
  for (const auto& a : *arms) {
    if (!a.is_object() || !a.contains("name") || !a["name"].is_string() || !a.contains("kernel") ||
        !a["kernel"].is_string() || !a.contains("amplify_us") || !a["amplify_us"].is_number_integer()) {
      continue;  // a snapshot this version did not write: show what can be read
    }
    const std::string kernel = a["kernel"].get<std::string>();
    const int width = a["amplify_us"].get<int>();
    if (width < 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const DoseSection& s) { return s.kernel == kernel; });
    if (it == out.end()) {
      out.push_back({kernel, {}, {}});
      observations.emplace_back();
      it = std::prev(out.end());
    }
    const auto index = static_cast<size_t>(it - out.begin());
    stats::DoseObservation o;
    o.width_us = width;
    if (const auto k = by_name.find(a["name"].get<std::string>()); k != by_name.end()) {
      o.runs = k->second->evidence_runs();
      o.failures = static_cast<std::uint64_t>(k->second->failed);
      o.exposure_h = k->second->exposure_s / 3600.0;
      o.race_events = k->second->race_events;
    }
    it->arms.push_back(a["name"].get<std::string>());
    observations[index].push_back(o);
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].response = stats::dose_response(observations[i], confidence);
  return out;
}

std::string describe_fit(const stats::DoseResponse& d) {
  if (!d.fit) return "no fit: " + d.no_fit_reason;
  const auto& f = *d.fit;
  const std::string conf = format_number(d.confidence * 100);
  return fmt::format("rate = {}/h x (width/us)^b with b = {} [{}, {}] ({}% profile likelihood; Poisson ML on widths "
                     "> 0); extrapolated to the natural window, {}: {}/h [{}, {}] ({}%, delta method)",
                     format_number(f.a), format_number(f.b), format_number(f.b_lower), format_number(f.b_upper), conf,
                     assumption_text(f.natural_width_us), format_number(f.natural_rate_per_h),
                     format_number(f.natural_lower_per_h), format_number(f.natural_upper_per_h), conf);
}

std::string render_dose_terminal(std::span<const DoseSection> sections) {
  std::string out;
  for (const auto& s : sections) {
    const std::string conf = format_number(s.response.confidence * 100);
    out += fmt::format("Dose-response of {} (race window widened by N us):\n", terminal_safe(s.kernel));
    std::vector<std::vector<std::string>> rows = {{"width", "runs", "failed", "exposure",
                                                    fmt::format("failures/h ({}%)", conf),
                                                    fmt::format("per 1M race events ({}%)", conf)}};
    for (const auto& r : s.response.rows) {
      const auto& o = r.observed;
      rows.push_back({width_text(o.width_us), std::to_string(o.runs), std::to_string(o.failures),
                      o.exposure_h > 0 ? format_seconds(o.exposure_h * 3600) : "-", format_rate_short(r.per_hour),
                      r.per_million_events ? format_rate_short(*r.per_million_events) : "-"});
    }
    std::vector<size_t> widths(rows[0].size(), 0);
    for (const auto& row : rows)
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    for (const auto& row : rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        const bool last = i + 1 == row.size();
        const std::string gap(widths[i] - row[i].size(), ' ');
        // Counts right-aligned, text left-aligned, the last column unpadded.
        line += (i >= 1 && i <= 2) ? gap + row[i] : last ? row[i] : row[i] + gap;
        if (!last) line += "  ";
      }
      out += line + "\n";
    }
    out += describe_fit(s.response) + "\n";
  }
  return out;
}

std::string render_dose_svg(const DoseSection& section) {
  const auto& d = section.response;
  // What goes on the log axes: widths > 0 with exposure (0 has no place there).
  struct Point {
    double width;
    const stats::RateEstimate* rate;
  };
  std::vector<Point> points;
  for (const auto& r : d.rows) {
    if (r.observed.width_us > 0 && r.per_hour.has_exposure() && std::isfinite(r.per_hour.upper))
      points.push_back({static_cast<double>(r.observed.width_us), &r.per_hour});
  }
  if (points.empty()) return {};
  // The unwidened arm, measured: drawn at the assumed natural width beside
  // the extrapolation, so the fit's prediction and the measurement meet.
  const stats::RateEstimate* off = nullptr;
  for (const auto& r : d.rows)
    if (r.observed.width_us == 0 && r.per_hour.has_exposure() && std::isfinite(r.per_hour.upper)) off = &r.per_hour;
  const double w0 = d.fit ? d.fit->natural_width_us : stats::kNaturalWindowUs;
  double xmin = std::numeric_limits<double>::infinity(), xmax = 0;
  double ymin = std::numeric_limits<double>::infinity(), ymax = 0;
  auto take_y = [&](double v) {
    if (std::isfinite(v) && v > 0) {
      ymin = std::min(ymin, v);
      ymax = std::max(ymax, v);
    }
  };
  for (const auto& p : points) {
    xmin = std::min(xmin, p.width);
    xmax = std::max(xmax, p.width);
    take_y(p.rate->upper);
    if (!p.rate->upper_bound_only) {
      take_y(p.rate->rate);
      take_y(p.rate->lower);
    }
  }
  if (off) {
    xmin = std::min(xmin, w0);
    take_y(off->upper);
    if (!off->upper_bound_only) {
      take_y(off->rate);
      take_y(off->lower);
    }
  }
  if (d.fit) {
    xmin = std::min(xmin, d.fit->natural_width_us);
    take_y(d.fit->natural_rate_per_h);
    take_y(d.fit->natural_lower_per_h);
    take_y(d.fit->natural_upper_per_h);
    take_y(d.fit->rate_at(xmax));
  }
  // Whole decades around the data, at least one each way.
  const double lx0 = std::floor(std::log10(xmin)), lx1 = std::max(lx0 + 1, std::ceil(std::log10(xmax)));
  double ly0 = std::floor(std::log10(ymin)), ly1 = std::ceil(std::log10(ymax));
  if (ly1 <= ly0) ly1 = ly0 + 1;

  constexpr double L = 70, T = 14, B = 44, R = 20, pw = 460, ph = 260;
  const double W = L + pw + R, H = T + ph + B;
  auto x = [&](double w) { return L + pw * (std::log10(w) - lx0) / (lx1 - lx0); };
  auto y = [&](double v) {
    const double lv = std::clamp(std::log10(v), ly0, ly1);  // a 0 lower bound sits on the axis
    return T + ph * (1.0 - (lv - ly0) / (ly1 - ly0));
  };
  const double bottom = T + ph;

  std::string s = fmt::format(
      "<svg class=dose viewBox=\"0 0 {} {}\" width=\"{}\" role=\"img\"><title>failures per hour against race window "
      "width, {}</title>\n",
      W, H, W, html_escape(section.kernel));
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#d1d9e0\"/>\n", L, T, pw,
                   ph);
  const int ystep = ly1 - ly0 > 8 ? 2 : 1;
  for (int e = static_cast<int>(ly0); e <= static_cast<int>(ly1); e += ystep) {
    const double v = std::pow(10.0, e);
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eef1f4\"/>"
                     "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"end\" fill=\"#59636e\">{}</text>\n",
                     L, L + pw, y(v), y(v), L - 6, y(v) + 4, decade_label(e));
  }
  for (int e = static_cast<int>(lx0); e <= static_cast<int>(lx1); ++e) {
    const double w = std::pow(10.0, e);
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" stroke=\"#eef1f4\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#59636e\">{}</text>\n",
                     x(w), x(w), T, bottom, x(w), bottom + 16, decade_label(e));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#59636e\">race "
                   "window widened by (us, log scale)</text>\n",
                   L + pw / 2, H - 8);
  s += fmt::format("<text x=\"14\" y=\"{:.1f}\" font-size=\"12\" fill=\"#59636e\" transform=\"rotate(-90 14 {:.1f})\" "
                   "text-anchor=\"middle\">failures/h (log scale)</text>\n",
                   T + ph / 2, T + ph / 2);

  const char* kData = "#2563eb";
  const char* kFit = "#ea580c";
  if (d.fit) {
    const auto& f = *d.fit;
    const double w_lo = f.widths_used.front(), w_hi = f.widths_used.back();
    // Solid where the data are, dashed where it is extrapolation.
    s += fmt::format("<line class=fit x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
                     "stroke-width=\"2\"/>\n",
                     x(w_lo), y(f.rate_at(w_lo)), x(w_hi), y(f.rate_at(w_hi)), kFit);
    s += fmt::format("<line class=extrapolation x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
                     "stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n",
                     x(f.natural_width_us), y(f.natural_rate_per_h), x(w_lo), y(f.rate_at(w_lo)), kFit);
    const double cx = x(f.natural_width_us), cy = y(f.natural_rate_per_h);
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"/>\n", cx,
                     y(f.natural_lower_per_h), y(f.natural_upper_per_h), kFit);
    s += fmt::format("<polygon class=natural points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" "
                     "fill=\"#fff\" stroke=\"{}\" stroke-width=\"2\"><title>extrapolated to {} us: {}/h</title></polygon>\n",
                     cx, cy - 7, cx + 7, cy, cx, cy + 7, cx - 7, cy, kFit, format_number(f.natural_width_us),
                     format_number(f.natural_rate_per_h));
  }
  for (const auto& p : points) {
    const double cx = x(p.width);
    const auto& r = *p.rate;
    if (r.upper_bound_only) {
      // No failure: only "below this" is known.
      const double cy = y(r.upper);
      s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
                       "stroke-dasharray=\"2 3\"/>\n",
                       cx, cy, bottom, kData);
      s += fmt::format("<polygon class=bound points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#fff\" "
                       "stroke=\"{}\" stroke-width=\"2\"><title>{} us: {}</title></polygon>\n",
                       cx - 6, cy - 4, cx + 6, cy - 4, cx, cy + 6, kData, format_number(p.width),
                       html_escape(format_rate_short(r)));
      continue;
    }
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
                     "stroke-width=\"1.5\"/>\n",
                     cx, y(r.lower), y(r.upper), kData);
    s += fmt::format("<circle class=rate cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" fill=\"{}\"><title>{} us: {}</title>"
                     "</circle>\n",
                     cx, y(r.rate), kData, format_number(p.width), html_escape(format_rate_short(r)));
  }
  const char* kOff = "#111827";
  if (off) {
    const double cx = x(w0) + 10;  // beside the extrapolated diamond
    const double cy = y(off->upper_bound_only ? off->upper : off->rate);
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"{4}/>\n", cx,
                     off->upper_bound_only ? bottom : y(off->lower), y(off->upper), kOff,
                     off->upper_bound_only ? " stroke-dasharray=\"2 3\"" : "");
    s += fmt::format("<rect class=off x=\"{:.1f}\" y=\"{:.1f}\" width=\"9\" height=\"9\" fill=\"{}\"><title>not "
                     "widened (measured): {}</title></rect>\n",
                     cx - 4.5, cy - 4.5, off->upper_bound_only ? "#fff" : kOff, html_escape(format_rate_short(*off)));
  }
  // Legend, bottom right: a rate that grows with the width leaves it empty.
  const double lx = L + pw - 290, ly = bottom - (d.fit ? 66 : 32) - (off ? 16 : 0);
  s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\" "
                   "font-size=\"11\">failures/h with {}% interval</text>\n",
                   lx, ly, kData, lx + 10, ly + 4, format_number(d.confidence * 100));
  s += fmt::format("<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#fff\" stroke=\"{}\"/>"
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">no failure: upper bound</text>\n",
                   lx - 5, ly + 13, lx + 5, ly + 13, lx, ly + 21, kData, lx + 10, ly + 20);
  if (d.fit) {
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">fit a&#183;w^b, b = {}</text>\n",
                     lx - 6, lx + 6, ly + 34, ly + 34, kFit, lx + 10, ly + 38, format_number(d.fit->b));
    s += fmt::format("<polygon points=\"{0:.1f},{1:.1f} {2:.1f},{3:.1f} {0:.1f},{4:.1f} {5:.1f},{3:.1f}\" fill=\"#fff\" "
                     "stroke=\"{6}\"/><text x=\"{7:.1f}\" y=\"{8:.1f}\" font-size=\"11\">extrapolated to the natural "
                     "window ({9:g} us, assumed)</text>\n",
                     lx, ly + 45, lx + 5, ly + 50, ly + 55, lx - 5, kFit, lx + 10, ly + 54,
                     d.fit->natural_width_us);
  }
  if (off) {
    const double oy = ly + (d.fit ? 66 : 32);
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"9\" height=\"9\" fill=\"{}\"/><text x=\"{:.1f}\" "
                     "y=\"{:.1f}\" font-size=\"11\">not widened, measured (drawn at {:g} us)</text>\n",
                     lx - 4.5, oy - 4.5, kOff, lx + 10, oy + 4, w0);
  }
  s += "</svg>";
  return s;
}

std::string render_dose_html(std::span<const DoseSection> sections) {
  if (sections.empty()) return {};
  std::string h = "<section><h2>Dose-response</h2>\n";
  for (const auto& s : sections) {
    const std::string conf = format_number(s.response.confidence * 100);
    h += fmt::format("<h3>{}</h3>\n<table><tr><th>arm</th><th class=n>width</th><th class=n>runs</th>"
                     "<th class=n>failures</th><th class=n>exposure</th><th class=n>failures/h ({}%)</th>"
                     "<th class=n>per 1M race events ({}%)</th></tr>\n",
                     html_escape(s.kernel), conf, conf);
    for (size_t i = 0; i < s.response.rows.size(); ++i) {
      const auto& r = s.response.rows[i];
      const auto& o = r.observed;
      h += fmt::format("<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
                       "<td class=n>{}</td><td class=n>{}</td></tr>\n",
                       html_escape(i < s.arms.size() ? s.arms[i] : ""), width_text(o.width_us), o.runs, o.failures,
                       o.exposure_h > 0 ? format_seconds(o.exposure_h * 3600) : "-",
                       html_escape(format_rate_short(r.per_hour)),
                       r.per_million_events ? html_escape(format_rate_short(*r.per_million_events)) : "-");
    }
    h += "</table>\n";
    h += "<p>" + html_escape(describe_fit(s.response)) + "</p>\n";
    h += render_dose_svg(s);
    h += "\n";
  }
  h += "<p class=muted>Each width is an arm of its own, interleaved round by round with the others. The fit is "
       "Poisson maximum likelihood of rate = a&#183;width^b over the widths above 0 (widths without failures count "
       "their exposure); the unwidened arm (off), measured, is the black square drawn at the assumed natural width, "
       "beside the fit's extrapolation there. The natural window width "
       "is an assumption (README, &#8220;Dose-response&#8221;), and the extrapolation reaches far below the widths "
       "measured: read it as an order of magnitude.</p></section>\n";
  return h;
}

json dose_json(std::span<const DoseSection> sections) {
  json out = json::array();
  for (const auto& s : sections) {
    json rows = json::array();
    for (size_t i = 0; i < s.response.rows.size(); ++i) {
      const auto& r = s.response.rows[i];
      rows.push_back({{"arm", i < s.arms.size() ? s.arms[i] : ""},
                      {"width_us", r.observed.width_us},
                      {"runs", r.observed.runs},
                      {"failures", r.observed.failures},
                      {"exposure_h", num(r.observed.exposure_h)},
                      {"race_events", r.observed.race_events ? num(*r.observed.race_events) : json(nullptr)},
                      {"per_hour", rate_json(r.per_hour)},
                      {"per_million_events", r.per_million_events ? rate_json(*r.per_million_events) : json(nullptr)}});
    }
    json fit = nullptr;
    if (const auto& f = s.response.fit) {
      fit = {{"a_per_h_at_1us", num(f->a)},
             {"b", num(f->b)},
             {"b_lower", num(f->b_lower)},
             {"b_upper", num(f->b_upper)},
             {"b_interval", "profile likelihood"},
             {"widths_used", f->widths_used},
             {"natural_width_us", f->natural_width_us},
             {"natural_rate_per_h", num(f->natural_rate_per_h)},
             {"natural_lower_per_h", num(f->natural_lower_per_h)},
             {"natural_upper_per_h", num(f->natural_upper_per_h)},
             {"natural_interval", "Wald on log scale (delta method)"}};
    }
    out.push_back({{"kernel", s.kernel},
                   {"confidence", s.response.confidence},
                   {"rows", rows},
                   {"fit", fit},
                   {"no_fit_reason", s.response.fit ? json(nullptr) : json(s.response.no_fit_reason)},
                   {"text", describe_fit(s.response)}});
  }
  return out;
}

}  // namespace numasoak::report
