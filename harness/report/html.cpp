// report.html: one self-contained page. Inline CSS, inline SVG, no scripts,
// no external assets. Every string that could come from a guest (titles,
// reports, releases) or a file name passes through html_escape() or
// url_encode_path(); the only raw markup is the one written here.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "report/intensity_chart.h"
#include "report/matrix.h"
#include "report/report.h"
#include "report/text.h"

namespace numasoak::report {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPalette[] = {"#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626",
                                    "#0891b2", "#be185d", "#4d7c0f", "#6b7280"};
const char* colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

std::string esc(std::string_view s) { return html_escape(s); }

// Under a kernel's source: how its window was widened and the proof the
// delay was taken (summary.h), one line per way the runs were widened.
std::string widened_html(const KernelSummary& k) {
  std::string h;
  for (const auto& w : k.widened) h += "<div class=muted>window: " + esc(describe_widening(k, w)) + "</div>";
  return h;
}

constexpr const char* kCss = R"css(
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin-bottom: 18px; }
.meta span { margin-right: 14px; white-space: nowrap; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px;
  margin-bottom: 18px; }
.verdict { border-left: 6px solid #6b7280; font-size: 15px; }
.verdict.good { border-left-color: #16a34a; } .verdict.bad { border-left-color: #dc2626; }
.verdict.unsure { border-left-color: #d97706; }
.verdict p { margin: 6px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
tr:nth-child(even) td { background: #fbfcfd; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nw { white-space: nowrap; }
td.id, code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; background: #6b7280; white-space: nowrap; }
.badge.failed { background: #dc2626; } .badge.survived { background: #16a34a; }
.badge.error { background: #d97706; } .badge.running { background: #2563eb; }
.badge.queued { background: #9ca3af; } .badge.interrupted { background: #7c3aed; }
.badge.decided, .badge.finished { background: #16a34a; } .badge.stopped { background: #d97706; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 6px 0 0;
  max-height: 300px; overflow: auto; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
  white-space: pre-wrap; word-break: break-all; }
.crash { border-top: 1px solid var(--line); padding: 10px 0; }
.crash:first-of-type { border-top: 0; }
.crash .title { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; word-break: break-all; }
.muted { color: var(--muted); }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; }
.km { width: 100%; height: auto; }
)css";

// A link to an artifact, relative to the campaign folder when it lies inside.
std::string artifact_href(const fs::path& campaign_dir, const RunArtifacts& a, const std::string& file) {
  if (file.empty()) return {};
  fs::path p(file);
  if (p.is_relative() && !a.dir.empty()) {
    const fs::path d(a.dir);
    auto [mismatch, end] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
    if (mismatch != d.end()) p = d / p;  // a bare name inside the run folder
    (void)end;
  }
  if (p.is_absolute()) {
    const fs::path rel = p.lexically_normal().lexically_relative(campaign_dir.lexically_normal());
    if (rel.empty() || *rel.begin() == "..") return "file://" + url_encode_path(p.lexically_normal().generic_string());
    p = rel;
  }
  return "./" + url_encode_path(p.lexically_normal().generic_string());
}

std::string link(const std::string& href, const std::string& label) {
  if (href.empty()) return {};
  return fmt::format("<a href=\"{}\">{}</a>", esc(href), esc(label));
}

std::string badge(const std::string& cls, const std::string& text) {
  return fmt::format("<span class=\"badge {}\">{}</span>", esc(cls), esc(text));
}

// "2025-03-01T10:01:08Z" -> "2025-03-01 10:01:08" (UTC, like the rest of the page).
std::string short_time(std::string iso) {
  if (iso.size() == 20 && iso[10] == 'T' && iso[19] == 'Z') {
    iso[10] = ' ';
    iso.pop_back();
  }
  return iso;
}

std::string opt_seconds(const std::optional<double>& s) { return s ? format_seconds(*s) : "-"; }

// Axis ticks: 1-2-5 steps, about `target` of them up to `max`.
double nice_step(double max, int target) {
  const double raw = max / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string verdict_class(const Report& r) {
  bool bad = false, good = false, unsure = false;
  for (const auto& c : r.verdict.comparisons) {
    bad |= c.finding == Finding::kWorse || c.finding == Finding::kIntroduces;
    good |= c.finding == Finding::kRemoves || c.finding == Finding::kReduces;
    unsure |= c.finding == Finding::kInconclusive || c.finding == Finding::kNoFailures ||
              c.finding == Finding::kNoEvidence || (c.intensity && c.intensity->flagged);
  }
  return bad ? "bad" : unsure ? "unsure" : good ? "good" : "";
}

void summary_table(std::string& h, const Report& r) {
  h += "<section><h2>Kernels</h2><table><tr><th>kernel</th><th>release</th><th class=n>runs</th>"
       "<th class=n>failed</th><th class=n>survived</th><th class=n>errors</th><th class=n>interrupted</th>"
       "<th class=n>exposure</th>";
  h += fmt::format("<th class=n>failures/h ({}%)</th>", format_number(r.confidence * 100));
  h += "<th class=n>median TTF</th><th>top failure</th></tr>\n";
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const auto& k = r.kernels[i];
    std::string median = "-";
    if (k.median_ttf_s) {
      median = format_seconds(*k.median_ttf_s);
      if (k.median_lower_s || k.median_upper_s) {
        median += fmt::format(" <span class=muted>[{}, {}]</span>", esc(opt_seconds(k.median_lower_s)),
                              k.median_upper_s ? esc(format_seconds(*k.median_upper_s)) : "&#8734;");
      }
    } else if (k.evidence_runs() > 0) {
      median = "not reached";
    }
    std::string top = "<span class=muted>-</span>";
    if (const auto* t = k.top_title()) {
      top = fmt::format("<code title=\"{}\">{}</code> <span class=muted>({} run{})</span>", esc(t->title),
                        esc(truncate_text(t->title, 60)), t->runs, t->runs == 1 ? "" : "s");
    }
    h += fmt::format(
        "<tr><td><span class=swatch style=\"background:{}\"></span><b>{}</b>{}<div class=muted>{}</div></td>"
        "<td><code>{}</code></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
        "<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>\n",
        colour(i), esc(k.name), i == 0 ? " <span class=muted>(baseline)</span>" : "",
        esc(k.source) + widened_html(k),
        esc(k.release.empty() ? "-" : k.release), k.finished, k.failed, k.survived, k.errors, k.interrupted,
        k.exposure_s > 0 ? esc(format_seconds(k.exposure_s)) : "-", esc(format_rate_short(k.rate)), median, top);
  }
  h += "</table></section>\n";
}

void comparisons_table(std::string& h, const Report& r) {
  if (r.verdict.comparisons.empty()) return;
  h += "<section><h2>Comparisons with the baseline</h2><table><tr><th>baseline</th><th>other</th><th>finding</th>"
       "<th class=n>rate ratio baseline/other</th><th class=n>exact test</th><th class=n>log-rank</th>"
       "<th>intensity (race events/s, medians)</th></tr>\n";
  for (const auto& c : r.verdict.comparisons) {
    std::string ratio = "-";
    if (c.rates.ratio) {
      ratio = fmt::format("{} [{}, {}]", format_number(*c.rates.ratio), format_number(c.rates.ratio_lower),
                          format_number(c.rates.ratio_upper));
    }
    std::string intensity = "<span class=muted>no telemetry</span>";
    if (c.intensity) {
      intensity = fmt::format("<code>{}</code>: {} vs {}{}", esc(c.intensity_event), format_number(c.intensity->median_a),
                              format_number(c.intensity->median_b),
                              c.intensity->flagged ? fmt::format(" &#9888; {}x apart", format_number(c.intensity->ratio))
                                                   : " (comparable)");
    }
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
                     "<td>{}</td></tr>\n",
                     esc(c.baseline), esc(c.other), esc(to_string(c.finding)), esc(ratio),
                     esc(format_p(c.rates.p_two_sided)), c.log_rank ? esc(format_p(c.log_rank->p_value)) : "-",
                     intensity);
  }
  h += "</table><p class=muted>Rates are failures per hour of workload; the exact test conditions on the total "
       "number of failures (binomial split by exposure). The log-rank test compares the survival curves.</p>"
       "</section>\n";
}

void crashes_section(std::string& h, const Report& r) {
  h += "<section><h2>Crash titles</h2>\n";
  if (r.failures.empty()) {
    h += "<p class=muted>No kernel failure was recorded.</p>";
  }
  std::map<std::string, const RunResult*> by_id;
  for (const auto& res : r.results) by_id[res.run_id] = &res;
  std::string kernel;
  for (const auto& f : r.failures) {
    if (f.kernel != kernel) {
      kernel = f.kernel;
      h += fmt::format("<h3>{}</h3>\n", esc(kernel));
    }
    std::string example = esc(f.example_run_id);
    if (auto it = by_id.find(f.example_run_id); it != by_id.end()) {
      const auto& a = it->second->artifacts;
      const std::string href = artifact_href(r.dir, a, a.report.empty() ? a.console_log : a.report);
      if (!href.empty()) example = link(href, f.example_run_id);
    }
    std::string report = f.example_report;
    constexpr size_t kMaxReport = 64 * 1024;
    if (report.size() > kMaxReport) report = truncate_text(report.substr(0, kMaxReport), kMaxReport) + "\n[truncated]";
    h += fmt::format(
        "<div class=crash><div class=title>{}</div><div class=muted>{} &middot; {} run{} &middot; {} occurrence{} "
        "&middot; first {} &middot; last {} &middot; example run {}</div>{}</div>\n",
        esc(f.title), esc(f.kind), f.runs, f.runs == 1 ? "" : "s", f.count, f.count == 1 ? "" : "s",
        esc(f.first_seen), esc(f.last_seen), example,
        report.empty() ? "" : "<pre>" + esc(report) + "</pre>");
  }
  h += "</section>\n";
}

void telemetry_section(std::string& h, const Report& r) {
  std::set<std::string> keys;
  for (const auto& k : r.kernels)
    for (const auto& [key, v] : k.event_rates) keys.insert(key);
  h += "<section><h2>Telemetry (events/s, exposure-weighted mean over runs)</h2>\n";
  if (keys.empty()) {
    h += "<p class=muted>No telemetry was recorded.</p></section>\n";
    return;
  }
  h += "<table><tr><th>event</th>";
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    h += fmt::format("<th class=n><span class=swatch style=\"background:{}\"></span>{}</th>", colour(i),
                     esc(r.kernels[i].name));
  }
  h += "</tr>\n";
  for (const auto& key : keys) {
    h += fmt::format("<tr><td><code>{}</code></td>", esc(key));
    for (const auto& k : r.kernels) {
      auto it = k.event_rates.find(key);
      h += fmt::format("<td class=n>{}</td>", it == k.event_rates.end() ? "-" : esc(format_number(it->second)));
    }
    h += "</tr>\n";
  }
  h += "</table></section>\n";
}

void hosts_section(std::string& h, const Report& r) {
  if (!r.show_hosts()) return;
  h += "<section><h2>Hosts</h2><table><tr><th>host</th><th class=n>runs</th><th class=n>failed</th>"
       "<th class=n>survived</th><th class=n>errors</th><th class=n>interrupted</th><th class=n>guest time</th>"
       "<th>accel</th></tr>\n";
  for (const auto& x : r.hosts) {
    h += fmt::format("<tr><td><code>{}</code></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
                     "<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>\n",
                     esc(x.host), x.runs, x.failed, x.survived, x.errors, x.interrupted,
                     x.guest_s > 0 ? esc(format_seconds(x.guest_s)) : "-", esc(x.accel.empty() ? "-" : x.accel));
  }
  h += "</table><p class=muted>Interrupted attempts (a host went away, the campaign was stopped) were re-run and are "
       "not evidence; guest time counts boot and workload of every attempt.</p></section>\n";
}

void runs_table(std::string& h, const Report& r) {
  std::map<std::string, const RunResult*> by_id;
  for (const auto& res : r.results) by_id[res.run_id] = &res;
  std::map<std::string, size_t> kernel_index;
  for (size_t i = 0; i < r.kernels.size(); ++i) kernel_index[r.kernels[i].name] = i;
  h += "<section><h2>Runs</h2><table><tr><th>run</th><th>state</th><th>kind</th><th>title</th>"
       "<th class=n>TTF</th><th class=n>exposure</th><th class=n>boot</th><th>host</th><th>finished (UTC)</th>"
       "<th>artifacts</th></tr>\n";
  for (const auto& row : r.runs) {
    const auto it = by_id.find(row.run_id);
    const RunResult* res = it == by_id.end() ? nullptr : it->second;
    const std::string state = res ? to_string(res->verdict) : to_string(row.state);
    std::string links;
    if (res) {
      const auto& a = res->artifacts;
      for (const auto& [file, label] : {std::pair{a.console_log, "console"}, std::pair{a.report, "report"},
                                        std::pair{a.agent_log, "agent"}, std::pair{a.result_json, "result"}}) {
        const std::string l = link(artifact_href(r.dir, a, file), label);
        if (!l.empty()) links += (links.empty() ? "" : " &middot; ") + l;
      }
    }
    const auto ki = kernel_index.find(row.kernel);
    const std::string title = res ? res->title : row.title;
    h += fmt::format(
        "<tr><td class=\"id nw\"><span class=swatch style=\"background:{}\"></span>{}</td><td class=nw>{}{}</td>"
        "<td class=nw>{}</td><td><code title=\"{}\">{}</code></td><td class=n>{}</td><td class=n>{}</td>"
        "<td class=n>{}</td><td class=nw>{}</td><td class=nw>{}</td><td class=nw>{}</td></tr>\n",
        ki == kernel_index.end() ? "#6b7280" : colour(ki->second), esc(row.run_id), badge(state, state),
        row.interruptions > 0 ? fmt::format(" <span class=muted>({} interrupted)</span>", row.interruptions) : "",
        esc(res ? res->kind : row.kind), esc(title), esc(truncate_text(title, 70)),
        res && res->time_to_failure_s ? esc(format_seconds(*res->time_to_failure_s)) : "-",
        res ? esc(format_seconds(res->exposure_s)) : "-", res ? esc(format_seconds(res->boot_s)) : "-",
        res ? esc(res->host + (res->accel.empty() ? "" : " " + res->accel)) : "",
        esc(short_time(res ? res->finished_at : row.started_at)), links);
  }
  h += "</table></section>\n";
}

}  // namespace

std::string render_km_svg(const std::vector<KernelSummary>& kernels, double confidence) {
  constexpr double W = 1000, H = 400, L = 64, R = 20, T = 16, B = 54;
  const double pw = W - L - R, ph = H - T - B;
  double tmax = 0;
  for (const auto& k : kernels)
    for (const auto& o : k.outcomes) tmax = std::max(tmax, seconds(o.time));
  if (tmax <= 0) tmax = 60;
  // Axis unit by span.
  double unit = 1;
  std::string unit_name = "s";
  if (tmax > 3 * 3600) {
    unit = 3600;
    unit_name = "h";
  } else if (tmax > 300) {
    unit = 60;
    unit_name = "min";
  }
  const double step = nice_step(tmax / unit, 8);
  const double xmax = std::ceil(tmax / unit / step - 1e-9) * step * unit;
  auto x = [&](double s) { return L + pw * s / xmax; };
  auto y = [&](double surv) { return T + ph * (1.0 - surv); };

  std::string s = fmt::format(
      "<svg class=km viewBox=\"0 0 {} {}\" role=\"img\">"
      "<title>Kaplan-Meier survival curves</title>\n",
      W, H);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#d1d9e0\"/>\n", L, T, pw,
                   ph);
  // Grid and axes.
  for (int i = 0; i <= 4; ++i) {
    const double v = i / 4.0;
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eef1f4\"/>"
                     "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"end\" fill=\"#59636e\">{}</text>\n",
                     L, L + pw, y(v), y(v), L - 8, y(v) + 4, format_number(v));
  }
  for (double t = 0; t <= xmax + 1e-9; t += step * unit) {
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" stroke=\"#eef1f4\"/>"
                     "<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#59636e\">{}</text>\n",
                     x(t), x(t), T, T + ph, x(t), T + ph + 18, format_number(t / unit));
  }
  s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#9ca3af\" stroke-dasharray=\"5 4\"/>"
                   "<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\" fill=\"#9ca3af\">median</text>\n",
                   L, L + pw, y(0.5), y(0.5), L + pw - 6, y(0.5) - 5);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#1f2328\">time since "
                   "workload start ({})</text>\n",
                   L + pw / 2, H - 10, unit_name);
  s += fmt::format("<text transform=\"translate(16 {}) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\" "
                   "fill=\"#1f2328\">fraction of runs not yet failed</text>\n",
                   T + ph / 2);

  bool any = false;
  std::string legend;
  int legend_rows = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const auto& k = kernels[i];
    if (k.outcomes.empty()) continue;
    any = true;
    const auto km = stats::kaplan_meier(k.outcomes, confidence);
    double tend = 0;
    for (const auto& o : k.outcomes) tend = std::max(tend, seconds(o.time));
    // Confidence band (pointwise, log-log), drawn first and faint: the upper
    // step function forward, then the lower one back.
    std::vector<std::pair<double, double>> up = {{0, 1}}, low = {{0, 1}};
    for (const auto& st : km.steps) {
      if (st.events == 0) continue;
      const double t = seconds(st.time);
      const double nu = std::isfinite(st.upper) ? std::clamp(st.upper, 0.0, 1.0) : up.back().second;
      const double nl = std::isfinite(st.lower) ? std::clamp(st.lower, 0.0, 1.0) : 0.0;
      up.emplace_back(t, up.back().second);
      up.emplace_back(t, nu);
      low.emplace_back(t, low.back().second);
      low.emplace_back(t, nl);
    }
    up.emplace_back(tend, up.back().second);
    low.emplace_back(tend, low.back().second);
    std::string band;
    for (const auto& [t, v] : up) band += fmt::format("{:.1f},{:.1f} ", x(t), y(v));
    for (auto it = low.rbegin(); it != low.rend(); ++it) band += fmt::format("{:.1f},{:.1f} ", x(it->first), y(it->second));
    if (km.failures > 0) {
      s += fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.10\" stroke=\"none\"/>\n", band, colour(i));
    }
    // The step curve.
    std::string d = fmt::format("M{:.1f},{:.1f}", x(0), y(1));
    double surv = 1;
    std::string ticks;
    for (const auto& st : km.steps) {
      const double t = seconds(st.time);
      if (st.events > 0) {
        d += fmt::format(" H{:.1f} V{:.1f}", x(t), y(st.survival));
        surv = st.survival;
      }
      if (st.censored > 0) {
        ticks += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
                             "stroke-width=\"2\"/>",
                             x(t), y(surv) - 6, y(surv) + 6, colour(i));
        if (st.censored > 1) {
          ticks += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"{}\">&#215;{}</text>", x(t) + 3,
                               y(surv) - 8, colour(i), st.censored);
        }
      }
    }
    d += fmt::format(" H{:.1f}", x(tend));
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n{}\n", d, colour(i), ticks);

    const std::string label =
        fmt::format("{}: {}/{} failed, median {}", k.name, k.failed, k.evidence_runs(),
                    k.median_ttf_s ? format_seconds(*k.median_ttf_s) : std::string("not reached"));
    const double ly = T + 22 + 20 * legend_rows++;
    legend += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" stroke-width=\"3\"/>"
                          "<text x=\"{4}\" y=\"{5:.1f}\" font-size=\"12\" fill=\"#1f2328\">{6}</text>\n",
                          L + pw - 330, L + pw - 306, ly, colour(i), L + pw - 298, ly + 4,
                          esc(truncate_text(label, 52)));
  }
  if (any) {
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"330\" height=\"{}\" rx=\"4\" fill=\"#fff\" fill-opacity=\"0.92\" "
                     "stroke=\"#d1d9e0\"/>\n",
                     L + pw - 340, T + 8, 20 * legend_rows + 10);
    s += legend;
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#59636e\">| = run survived (censored); shaded: "
                     "pointwise {}% band</text>\n",
                     L + pw - 336, T + 8 + 20 * legend_rows + 24, format_number(confidence * 100));
  } else {
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\" fill=\"#59636e\">no finished "
                     "runs yet</text>\n",
                     L + pw / 2, T + ph / 2);
  }
  s += "</svg>";
  return s;
}

std::string render_html(const Report& r) {
  std::string h;
  const std::string name = r.campaign ? r.campaign->name : r.dir.filename().string();
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  h += fmt::format("<title>numasoak: {}</title><style>{}</style></head><body><main>\n", esc(name), kCss);
  h += fmt::format("<h1>numasoak &middot; {}</h1>\n<div class=meta>", esc(name));
  if (r.campaign) {
    h += fmt::format("<span>{}{}</span>", badge(to_string(r.campaign->status), to_string(r.campaign->status)),
                     r.campaign->stop_reason.empty() ? "" : " " + esc(r.campaign->stop_reason));
    if (!r.campaign->file.empty()) h += fmt::format("<span>file <code>{}</code></span>", esc(r.campaign->file));
    h += fmt::format("<span>started {}</span><span>updated {}</span>", esc(r.campaign->created_at),
                     esc(r.campaign->updated_at));
  }
  int planned = 0, finished = 0;
  for (const auto& k : r.kernels) {
    planned += k.planned;
    finished += k.finished;
  }
  h += fmt::format("<span>{}/{} runs finished</span><span>generated {}</span></div>\n", finished, planned,
                   esc(r.generated_at));

  h += fmt::format("<section class=\"verdict {}\"><h2>Verdict</h2>", verdict_class(r));
  for (const auto& k : r.kernels) h += "<p>" + esc(describe_kernel(k)) + "</p>";
  for (const auto& c : r.verdict.comparisons) h += "<p><b>" + esc(c.sentence) + "</b></p>";
  if (r.kernels.size() == 1) h += "<p>Only one kernel: there is nothing to compare it with.</p>";
  if (!r.verdict.campaign_end.empty()) h += "<p class=muted>" + esc(r.verdict.campaign_end) + "</p>";
  h += "</section>\n";

  summary_table(h, r);
  comparisons_table(h, r);
  h += render_intensity_section(r, colour);
  h += render_dose_html(r.dose);
  h += "<section><h2>Survival (Kaplan&ndash;Meier)</h2>\n" + render_km_svg(r.kernels, r.confidence) + "\n</section>\n";
  crashes_section(h, r);
  h += render_matrix_section(r);
  telemetry_section(h, r);
  hosts_section(h, r);
  runs_table(h, r);
  if (r.campaign && !r.campaign->config.empty()) {
    h += "<section><h2>Configuration</h2><pre>" +
         esc(r.campaign->config.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "</pre></section>\n";
  }
  h += "<p class=muted>numasoak " NUMASOAK_VERSION "</p></main></body></html>\n";
  return h;
}

}  // namespace numasoak::report
