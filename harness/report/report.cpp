#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "common/paths.h"
#include "report/matrix.h"
#include "report/text.h"

namespace numasoak::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json num(const std::optional<double>& v) { return v ? num(*v) : json(nullptr); }

json rate_json(const stats::RateEstimate& r) {
  return {{"failures", r.failures},
          {"exposure_h", num(r.exposure)},
          {"rate_per_h", num(r.rate)},
          {"lower_per_h", num(r.lower)},
          {"upper_per_h", num(r.upper)},
          {"upper_bound_only", r.upper_bound_only},
          {"confidence", r.confidence},
          {"text", format_rate_short(r)}};
}

// The same estimate with exposure in millions of race-relevant events.
json per_event_json(const std::optional<stats::RateEstimate>& r) {
  if (!r) return nullptr;
  return {{"failures", r->failures},
          {"exposure_million_events", num(r->exposure)},
          {"rate", num(r->rate)},
          {"lower", num(r->lower)},
          {"upper", num(r->upper)},
          {"upper_bound_only", r->upper_bound_only},
          {"confidence", r->confidence},
          {"text", format_rate_short(*r)}};
}

// Display width of terminal text: code points (guest text is made safe first).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, size_t w, bool right) {
  const size_t n = width(s);
  if (n >= w) return s;
  return right ? std::string(w - n, ' ') + s : s + std::string(w - n, ' ');
}

std::string wrap(const std::string& text, size_t columns) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && width(line) + 1 + width(word) > columns) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) out += line + "\n";
  return out;
}

// Aligned columns; columns first..last are numbers (right-aligned); the
// last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows, size_t first, size_t last_numeric) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const bool numeric = i >= first && i <= last_numeric;
      const bool last = i + 1 == row.size();
      line += last ? row[i] : pad(row[i], widths[i], numeric);
      if (!last) line += "  ";
    }
    out += line + "\n";
  }
  return out;
}

std::string status_line(const Report& r) {
  int planned = 0, finished = 0, running = 0;
  for (const auto& k : r.kernels) {
    planned += k.planned;
    finished += k.finished;
    running += k.running;
  }
  std::string s = fmt::format("{}/{} runs finished", finished, planned);
  if (running > 0) s += fmt::format(", {} running", running);
  if (r.campaign) {
    s = fmt::format("{}; {}", to_string(r.campaign->status), s);
    if (!r.campaign->stop_reason.empty()) s += fmt::format(" (stopped: {})", r.campaign->stop_reason);
  }
  return s;
}

}  // namespace

bool Report::any_failure() const {
  return std::any_of(kernels.begin(), kernels.end(), [](const KernelSummary& k) { return k.failed > 0; });
}

bool Report::show_hosts() const {
  return hosts.size() > 1 || std::any_of(hosts.begin(), hosts.end(), [](const HostFigures& h) { return h.host != "local"; });
}

Report build_report(const Store& store) {
  Report r;
  std::error_code ec;
  r.dir = fs::absolute(store.dir(), ec);
  if (ec) r.dir = store.dir();
  r.generated_at = utc_now();
  const auto snapshot = store.snapshot();  // one consistent view, though the campaign may be writing
  r.campaign = store.campaign();
  if (r.campaign && r.campaign->config.is_object()) {
    const auto it = r.campaign->config.find("confidence");
    if (it != r.campaign->config.end() && it->is_number()) {
      const double c = it->get<double>();
      if (c > 0 && c < 1) r.confidence = c;
    }
  }
  r.results = store.finished_runs();
  r.runs = store.runs();
  r.failures = store.failures();
  r.hosts = store.hosts();
  const auto counts = store.counts();
  for (const auto& rec : store.kernels()) {
    KernelSummary k = summarize_kernel(rec.name, r.results, r.confidence);
    if (!rec.release.empty()) k.release = rec.release;
    k.source = rec.source;
    for (const auto& c : counts) {
      if (c.kernel != rec.name) continue;
      k.planned = c.planned;
      k.queued = c.queued;
      k.running = c.running;
      k.interrupted = c.interrupted;
    }
    r.kernels.push_back(std::move(k));
  }
  r.verdict = compose_verdict(r.kernels, r.confidence);
  if (r.campaign) r.dose = dose_sections(r.campaign->config, r.kernels, r.confidence);
  if (r.campaign && !r.kernels.empty()) {
    int planned = 0, finished = 0;
    for (const auto& k : r.kernels) {
      planned += k.planned;
      finished += k.finished;
    }
    const auto stop = r.campaign->config.is_object() ? r.campaign->config.find("stop") : r.campaign->config.end();
    const bool decisive = stop != r.campaign->config.end() && *stop == "decisive";
    r.verdict.campaign_end =
        describe_campaign_end(to_string(r.campaign->status), r.campaign->stop_reason, decisive, finished, planned);
    if (!r.verdict.campaign_end.empty()) r.verdict.text += " " + r.verdict.campaign_end;
  }
  return r;
}

std::string render_terminal(const Report& r) {
  std::string out;
  if (r.campaign) {
    out += fmt::format("campaign {}{}: {}\n", terminal_safe(r.campaign->name),
                       r.campaign->file.empty() ? "" : " (" + terminal_safe(r.campaign->file) + ")", status_line(r));
  } else {
    out += fmt::format("campaign {}: {}\n", terminal_safe(r.dir.string()), status_line(r));
  }
  const std::string rate_head = fmt::format("failures/h ({}%)", format_number(r.confidence * 100));
  std::vector<std::vector<std::string>> rows = {
      {"kernel", "release", "runs", "failed", "survived", "errors", "exposure", rate_head, "median TTF", "top failure"}};
  for (const auto& k : r.kernels) {
    std::string top = "-";
    if (const auto* t = k.top_title()) top = fmt::format("{} ({})", truncate_text(terminal_safe(t->title), 48), t->runs);
    rows.push_back({terminal_safe(k.name), k.release.empty() ? "-" : truncate_text(terminal_safe(k.release), 24),
                    std::to_string(k.finished), std::to_string(k.failed), std::to_string(k.survived),
                    std::to_string(k.errors), k.exposure_s > 0 ? format_seconds(k.exposure_s) : "-",
                    format_rate_short(k.rate),
                    k.median_ttf_s                ? format_seconds(*k.median_ttf_s)
                    : k.evidence_runs() > 0 ? "not reached"
                                                  : "-",
                    top});
  }
  out += table(rows, 2, 5);
  // How each kernel's window was widened: a verdict on a kernel whose delay
  // was never taken says nothing about its fix.
  for (const auto& k : r.kernels) {
    for (const auto& w : k.widened)
      out += wrap(fmt::format("window {}: {}", terminal_safe(k.name), terminal_safe(describe_widening(k, w))), 100);
  }
  if (!r.dose.empty()) out += "\n" + render_dose_terminal(r.dose);
  if (r.show_hosts()) {
    std::vector<std::vector<std::string>> hosts = {
        {"host", "runs", "failed", "survived", "errors", "interrupted", "guest time", "accel"}};
    for (const auto& h : r.hosts) {
      // The URI without its ?parameters (key files, ssh commands) keeps the
      // table readable; report.html and summary.json have it whole.
      const std::string host = h.host.substr(0, h.host.find('?'));
      hosts.push_back({terminal_safe(host.empty() ? "-" : host), std::to_string(h.runs), std::to_string(h.failed),
                       std::to_string(h.survived), std::to_string(h.errors), std::to_string(h.interrupted),
                       h.guest_s > 0 ? format_seconds(h.guest_s) : "-", h.accel.empty() ? "-" : terminal_safe(h.accel)});
    }
    out += "\n" + table(hosts, 1, 5);
  }
  out += "\n" + wrap(terminal_safe(r.verdict.text), 100);
  // The verdict holds only for what the runs exercised.
  if (const auto missed = matrix_terminal(r); !missed.empty()) out += "\n" + wrap(missed, 100);
  return out;
}

json render_json(const Report& r) {
  json j;
  j["schema"] = 1;
  j["generated_at"] = r.generated_at;
  j["dir"] = r.dir.string();
  j["confidence"] = r.confidence;
  if (r.campaign) {
    j["campaign"] = {{"name", r.campaign->name},
                     {"file", r.campaign->file},
                     {"status", to_string(r.campaign->status)},
                     {"stop_reason", r.campaign->stop_reason},
                     {"created_at", r.campaign->created_at},
                     {"updated_at", r.campaign->updated_at},
                     {"config", r.campaign->config}};
  } else {
    j["campaign"] = nullptr;
  }
  j["kernels"] = json::array();
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const auto& k = r.kernels[i];
    json titles = json::array(), errors = json::array();
    for (const auto& t : k.titles) titles.push_back({{"kind", t.kind}, {"title", t.title}, {"runs", t.runs}});
    for (const auto& t : k.error_titles) errors.push_back({{"kind", t.kind}, {"title", t.title}, {"runs", t.runs}});
    j["kernels"].push_back({{"name", k.name},
                            {"baseline", i == 0},
                            {"release", k.release},
                            {"source", k.source},
                            {"planned", k.planned},
                            {"queued", k.queued},
                            {"running", k.running},
                            {"interrupted", k.interrupted},
                            {"finished", k.finished},
                            {"failed", k.failed},
                            {"survived", k.survived},
                            {"errors", k.errors},
                            {"exposure_s", k.exposure_s},
                            {"failure_rate", rate_json(k.rate)},
                            {"median_ttf_s", num(k.median_ttf_s)},
                            {"median_ttf_lower_s", num(k.median_lower_s)},
                            {"median_ttf_upper_s", num(k.median_upper_s)},
                            {"titles", titles},
                            {"error_titles", errors},
                            {"telemetry_rates_per_s", k.event_rates},
                            {"race_events", num(k.race_events)},
                            {"widened", k.widened},
                            {"widen", {{"hits", k.widen_hits}, {"irqs_off", k.widen_irqs_off}, {"landed", k.widen_landed}}},
                            {"failure_rate_per_million_events", per_event_json(k.rate_per_million_events)},
                            {"summary", describe_kernel(k)}});
  }
  j["comparisons"] = json::array();
  for (const auto& c : r.verdict.comparisons) {
    json cj = {{"baseline", c.baseline},
               {"other", c.other},
               {"finding", to_string(c.finding)},
               {"significant", c.rates.significant()},
               {"informative", c.rates.informative},
               {"rate_ratio_baseline_over_other", num(c.rates.ratio)},
               {"rate_ratio_lower", num(c.rates.ratio_lower)},
               {"rate_ratio_upper", num(c.rates.ratio_upper)},
               {"p_value", num(c.rates.p_two_sided)},
               {"p_baseline_fails_more", num(c.rates.p_a_fails_more)},
               {"p_baseline_fails_less", num(c.rates.p_a_fails_less)},
               {"test", "exact conditional (binomial) test of equal Poisson rates"},
               {"sentence", c.sentence}};
    cj["log_rank_p"] = c.log_rank ? num(c.log_rank->p_value) : json(nullptr);
    if (c.event_rates) {
      cj["per_million_events"] = {{"rate_ratio_baseline_over_other", num(c.event_rates->ratio)},
                                  {"rate_ratio_lower", num(c.event_rates->ratio_lower)},
                                  {"rate_ratio_upper", num(c.event_rates->ratio_upper)},
                                  {"p_value", num(c.event_rates->p_two_sided)},
                                  {"significant", c.event_rates->significant()}};
    } else {
      cj["per_million_events"] = nullptr;
    }
    if (c.intensity) {
      cj["intensity"] = {{"event", c.intensity_event},
                         {"median_baseline_per_s", num(c.intensity->median_a)},
                         {"median_other_per_s", num(c.intensity->median_b)},
                         {"ratio", num(c.intensity->ratio)},
                         {"flagged", c.intensity->flagged}};
    } else {
      cj["intensity"] = nullptr;
    }
    j["comparisons"].push_back(std::move(cj));
  }
  j["hosts"] = json::array();
  for (const auto& h : r.hosts) {
    j["hosts"].push_back({{"host", h.host},
                          {"accel", h.accel},
                          {"runs", h.runs},
                          {"failed", h.failed},
                          {"survived", h.survived},
                          {"errors", h.errors},
                          {"interrupted", h.interrupted},
                          {"guest_s", h.guest_s}});
  }
  j["dose_response"] = dose_json(r.dose);
  j["matrix"] = matrix_json(r);
  j["verdict"] = r.verdict.text;
  j["any_failure"] = r.any_failure();
  j["failures"] = json::array();
  for (const auto& f : r.failures) {
    j["failures"].push_back({{"kernel", f.kernel},
                             {"kind", f.kind},
                             {"title", f.title},
                             {"count", f.count},
                             {"runs", f.runs},
                             {"first_seen", f.first_seen},
                             {"last_seen", f.last_seen},
                             {"example_run", f.example_run_id},
                             {"example_report", f.example_report}});
  }
  std::map<std::string, const RunResult*> by_id;
  for (const auto& res : r.results) by_id[res.run_id] = &res;
  j["runs"] = json::array();
  for (const auto& row : r.runs) {
    json rj = {{"run_id", row.run_id},
               {"kernel", row.kernel},
               {"sequence", row.sequence},
               {"state", to_string(row.state)},
               {"attempts", row.attempts},
               {"interruptions", row.interruptions}};
    const auto it = by_id.find(row.run_id);
    rj["result"] = it != by_id.end() ? json(*it->second) : json(nullptr);
    j["runs"].push_back(std::move(rj));
  }
  return j;
}

void write_report_files(const Report& r, const fs::path& dir) {
  write_file_atomic(dir / "summary.json",
                    render_json(r).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  write_file_atomic(dir / "report.html", render_html(r));
}

}  // namespace numasoak::report
