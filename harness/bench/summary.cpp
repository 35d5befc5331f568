#include "bench/summary.h"

#include "stats/outcome.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace numasoak::bench {

namespace {

std::string secs(std::optional<double> s) {
  if (!s) return "-";
  return *s < 10 ? fmt::format("{:.1f}s", *s) : fmt::format("{:.0f}s", *s);
}

std::string rate_cell(const CellSummary& c, const char* key) {
  auto it = c.rates.find(key);
  if (it == c.rates.end()) return "-";
  return it->second < 10 ? fmt::format("{:.1f}", it->second) : fmt::format("{:.0f}", it->second);
}

std::string median_cell(const CellSummary& c) {
  if (c.median_s) {
    std::string s = secs(c.median_s);
    if (c.median_lower_s || c.median_upper_s)
      s += fmt::format(" [{}, {}]", secs(c.median_lower_s), c.median_upper_s ? secs(c.median_upper_s) : "inf");
    return s;
  }
  if (c.runs == 0) return "no evidence";
  return fmt::format("> {:.0f}s", c.exposure_s / static_cast<double>(std::max<std::size_t>(c.runs, 1)));
}

// "245/h [6.2, 1368]", "< 719/h": the table's column.
std::string short_rate(const stats::RateEstimate& r) {
  if (!r.has_exposure()) return "no exposure";
  auto n = [](double v) { return v < 10 ? fmt::format("{:.2g}", v) : fmt::format("{:.0f}", v); };
  if (r.upper_bound_only) return fmt::format("< {}/h", n(r.upper));
  return fmt::format("{}/h [{}, {}]", n(r.rate), n(r.lower), n(r.upper));
}

nlohmann::json opt(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json rate_json(const stats::RateEstimate& r) {
  return {{"failures", r.failures}, {"exposure_h", r.exposure}, {"rate_per_h", std::isfinite(r.rate) ? nlohmann::json(r.rate) : nlohmann::json(nullptr)},
          {"lower", r.lower}, {"upper", std::isfinite(r.upper) ? nlohmann::json(r.upper) : nlohmann::json(nullptr)},
          {"upper_bound_only", r.upper_bound_only}, {"confidence", r.confidence}, {"text", stats::format_rate(r)}};
}

nlohmann::json cell_json(const CellSummary& c) {
  nlohmann::json j = {{"row", c.row.name}, {"profile", c.row.profile}, {"alternative", c.row.alternative},
                      {"amplify_us", c.amplify_us}, {"runs", c.runs}, {"failures", c.failures}, {"errors", c.errors}, {"idle", c.idle},
                      {"error_kinds", c.error_kinds}, {"median_ttf_s", opt(c.median_s)},
                      {"median_ttf_lower_s", opt(c.median_lower_s)}, {"median_ttf_upper_s", opt(c.median_upper_s)},
                      {"min_ttf_s", opt(c.min_ttf_s)}, {"max_ttf_s", opt(c.max_ttf_s)}, {"exposure_s", c.exposure_s},
                      {"failures_per_hour", rate_json(c.per_hour)}, {"rates_per_s", c.rates}};
  return j;
}

}  // namespace

CellSummary summarize_cell(const BenchRow& row, int amplify_us, std::span<const RunResult> runs) {
  CellSummary c;
  c.row = row;
  c.amplify_us = amplify_us;
  std::vector<stats::RunOutcome> outcomes;
  std::map<std::string, std::vector<double>> rates;
  for (const auto& r : runs) {
    // A run that went its whole budget without a race event did not find the
    // bug either: for time to failure it is a survival, shown as idle.
    const bool idle = r.verdict == Verdict::kError && r.kind == kinds::kNoRaceEvents;
    if (idle) ++c.idle;
    if (r.verdict == Verdict::kFailed || r.verdict == Verdict::kSurvived || idle) {
      const bool failed = r.verdict == Verdict::kFailed;
      // An idle run (no race events) counts as a survival of its exposure.
      const double t = stats::outcome_seconds(r);
      outcomes.push_back(stats::outcome_of(r).value_or(stats::RunOutcome{Duration(std::llround(t * 1000)), false}));
      c.exposure_s += t;
      if (failed) {
        ++c.failures;
        c.min_ttf_s = std::min(c.min_ttf_s.value_or(t), t);
        c.max_ttf_s = std::max(c.max_ttf_s.value_or(t), t);
      }
      for (const char* k : kRateKeys)
        if (auto it = r.rates.find(k); it != r.rates.end()) rates[k].push_back(it->second);
    } else {
      ++c.errors;
      const std::string kind = r.kind.empty() ? to_string(r.verdict) : r.kind;
      if (std::find(c.error_kinds.begin(), c.error_kinds.end(), kind) == c.error_kinds.end()) c.error_kinds.push_back(kind);
      for (const char* k : kRateKeys)  // an error run's rates still say what the stressor did
        if (auto it = r.rates.find(k); it != r.rates.end()) rates[k].push_back(it->second);
    }
  }
  c.runs = outcomes.size();
  if (!outcomes.empty()) {
    const auto km = stats::kaplan_meier(outcomes);
    if (km.median) c.median_s = seconds(*km.median);
    if (km.median_lower) c.median_lower_s = seconds(*km.median_lower);
    if (km.median_upper) c.median_upper_s = seconds(*km.median_upper);
  }
  c.per_hour = stats::failures_per_hour(c.failures, Duration(static_cast<Duration::rep>(std::llround(c.exposure_s * 1000))));
  for (auto& [k, v] : rates) c.rates[k] = stats::median(v);
  return c;
}

Headline make_headline(const std::vector<CellSummary>& cells, const std::optional<CellSummary>& natural) {
  Headline h;
  if (natural) h.natural = natural->per_hour;
  if (cells.empty()) {
    h.text = "no cells";
    return h;
  }
  const int amp = cells.front().amplify_us;  // the widest setting comes first
  const CellSummary* bad = nullptr;
  const CellSummary* best_alt = nullptr;   // fastest alternative (selftest, stress-ng)
  const CellSummary* fastest = nullptr;    // fastest row of all
  // b has a median and it is below a's (or a has none).
  auto faster = [](const CellSummary* a, const CellSummary& b) {
    if (!b.median_s) return false;
    return a == nullptr || !a->median_s || *b.median_s < *a->median_s;
  };
  for (const auto& c : cells) {
    if (c.amplify_us != amp) continue;
    if (c.row.profile == "bad-pmd") bad = &c;
    if (c.row.alternative && (best_alt == nullptr || faster(best_alt, c))) best_alt = &c;
    if (c.median_s && faster(fastest, c)) fastest = &c;
  }
  if (bad == nullptr) {
    h.text = "the bad-pmd row did not run";
    return h;
  }
  h.bad_pmd_median_s = bad->median_s;
  h.bad_pmd_fastest = bad->median_s && fastest == bad;
  std::string text = fmt::format("At race_widen_us={}, numasoak's bad-pmd profile: median time to failure {}", amp,
                                 bad->median_s ? secs(bad->median_s) : median_cell(*bad));
  text += fmt::format(" ({} of {} runs failed)", bad->failures, bad->runs);
  if (best_alt != nullptr) {
    h.best_alternative = best_alt->row.name;
    h.best_alternative_median_s = best_alt->median_s;
    if (best_alt->median_s && bad->median_s) {
      h.ratio = *best_alt->median_s / *bad->median_s;
      text += fmt::format("; the best alternative, {}, {} ({:.1f}x slower)", best_alt->row.name,
                          secs(best_alt->median_s), *h.ratio);
    } else if (bad->median_s) {
      // No alternative reached a median: each is slower than its follow-up.
      double least = 0;
      const CellSummary* shown = best_alt;
      for (const auto& c : cells)
        if (c.amplify_us == amp && c.row.alternative && c.runs > 0) {
          const double follow = c.exposure_s / static_cast<double>(c.runs);
          if (least == 0 || follow < least) {
            least = follow;
            shown = &c;
          }
        }
      text += fmt::format("; no alternative reached a median (best: {}, {} of {} runs failed): more than {:.0f}x slower",
                          shown->row.name, shown->failures, shown->runs, least / *bad->median_s);
      // All the alternatives' exposure together against bad-pmd's: the exact
      // (conditional binomial) lower bound of the failure-rate ratio.
      stats::Tally alt;
      for (const auto& c : cells)
        if (c.amplify_us == amp && c.row.alternative) {
          alt.failures += c.failures;
          alt.exposure += c.exposure_s;
        }
      const auto cmp = stats::compare_rates({bad->failures, bad->exposure_s}, alt);
      if (cmp.informative) {
        h.rate_ratio_lower = cmp.ratio_lower;
        text += fmt::format(" (failure rate {} vs {} for all alternatives together, {} failures in {:.0f} s: ratio >= {:.1f}, exact 95%)",
                            stats::format_rate(bad->per_hour),
                            stats::format_rate(stats::failures_per_hour(alt.failures, Duration(static_cast<Duration::rep>(alt.exposure * 1000)))),
                            alt.failures, alt.exposure, cmp.ratio_lower);
      }
    }
  }
  if (!h.bad_pmd_fastest && fastest != nullptr && fastest != bad)
    text += fmt::format("; NOTE: the fastest row was {} ({})", fastest->row.name, secs(fastest->median_s));
  if (natural)
    text += fmt::format(". Amplifier off: {} failures in {:.1f} min, {}", natural->failures, natural->exposure_s / 60,
                        stats::format_rate(natural->per_hour));
  h.text = text + ".";
  return h;
}

std::string table(const BenchReport& r) {
  std::string out;
  out += fmt::format("numasoak bench{} — {}\n\n", r.quick ? " --quick (proves the bench works; figures mean nothing)" : "", r.machine);
  out += fmt::format("Time to failure, {} (runs interleaved)\n", r.guest);
  out += fmt::format("{:<24} {:>5} {:>9} {:>20} {:>13} {:>26} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "row", "amp", "fail",
                     "median TTF [95%]", "spread", "failures/h", "hugePTE", "THPmig", "hint", "uffd-wp", "race");
  auto line = [&](const CellSummary& c) {
    std::string fail = fmt::format("{}/{}", c.failures, c.runs);
    if (c.errors) fail += fmt::format("+{}e", c.errors);
    if (c.idle) fail += fmt::format(" {}i", c.idle);
    const std::string spread = c.min_ttf_s ? fmt::format("{}-{}", secs(c.min_ttf_s), secs(c.max_ttf_s)) : "-";
    out += fmt::format("{:<24} {:>5} {:>9} {:>20} {:>13} {:>26} {:>8} {:>8} {:>8} {:>8} {:>8}\n", c.row.name,
                       c.amplify_us == 0 ? std::string("off") : std::to_string(c.amplify_us), fail, median_cell(c),
                       spread, short_rate(c.per_hour), rate_cell(c, "numa_huge_pte_updates"),
                       rate_cell(c, "thp_migration_success"), rate_cell(c, "numa_hint_faults"),
                       rate_cell(c, "uffd_wp_ioctls"), rate_cell(c, "race_events"));
  };
  for (const auto& c : r.cells) line(c);
  if (r.natural) line(*r.natural);
  out += "(rates: median events/s per run from the agent telemetry; Ni = runs that survived with no race event;"
         " +Ne = runs with no evidence:";
  std::vector<std::string> kinds;
  for (const auto& c : r.cells)
    for (const auto& k : c.error_kinds)
      if (std::find(kinds.begin(), kinds.end(), c.row.name + ": " + k) == kinds.end()) kinds.push_back(c.row.name + ": " + k);
  for (const auto& k : kinds) out += " " + k + ";";
  out += ")\n\nHarness costs\n";
  for (const auto& c : r.costs) {
    const std::string v = c.measured ? fmt::format("{:.3g} {}", c.value, c.unit) : "not measured";
    out += fmt::format("  {:<48} {:>18}  {}\n", c.name, v, c.note);
  }
  out += "\nScaling (bad-pmd, parallel guests)\n";
  out += fmt::format("  {:>6} {:>16} {:>16} {:>22} {:>14}\n", "guests", "race events/s", "per guest", "harness CPU s/guest-h", "peak RSS MiB");
  for (const auto& s : r.scaling)
    out += fmt::format("  {:>6} {:>16.0f} {:>16.0f} {:>22.1f} {:>14.1f}\n", s.guests, s.aggregate_events_per_s,
                       s.per_guest_events_per_s, s.harness_cpu_s_per_guest_hour, s.peak_rss_mib);
  out += "\n" + r.headline.text + "\n";
  return out;
}

void to_json(nlohmann::json& j, const BenchReport& r) {
  j = nlohmann::json::object();
  j["format"] = "numasoak-bench/1";
  j["machine"] = r.machine;
  j["guest"] = r.guest;
  j["started_at"] = r.started_at;
  j["finished_at"] = r.finished_at;
  j["quick"] = r.quick;
  j["cells"] = nlohmann::json::array();
  for (const auto& c : r.cells) j["cells"].push_back(cell_json(c));
  j["natural"] = r.natural ? cell_json(*r.natural) : nlohmann::json(nullptr);
  j["costs"] = nlohmann::json::array();
  for (const auto& c : r.costs)
    j["costs"].push_back({{"name", c.name}, {"value", c.measured ? nlohmann::json(c.value) : nlohmann::json(nullptr)},
                          {"unit", c.unit}, {"note", c.note}});
  j["scaling"] = nlohmann::json::array();
  for (const auto& s : r.scaling)
    j["scaling"].push_back({{"guests", s.guests}, {"aggregate_race_events_per_s", s.aggregate_events_per_s},
                            {"per_guest_race_events_per_s", s.per_guest_events_per_s},
                            {"harness_cpu_s_per_guest_hour", s.harness_cpu_s_per_guest_hour},
                            {"peak_rss_mib", s.peak_rss_mib}});
  const auto& h = r.headline;
  j["headline"] = {{"text", h.text}, {"bad_pmd_median_ttf_s", opt(h.bad_pmd_median_s)},
                   {"best_alternative", h.best_alternative ? nlohmann::json(*h.best_alternative) : nlohmann::json(nullptr)},
                   {"best_alternative_median_ttf_s", opt(h.best_alternative_median_s)}, {"ratio", opt(h.ratio)},
                   {"bad_pmd_fastest", h.bad_pmd_fastest}, {"rate_ratio_lower", opt(h.rate_ratio_lower)},
                   {"natural_failures_per_hour", h.natural ? rate_json(*h.natural) : nlohmann::json(nullptr)}};
}

}  // namespace numasoak::bench
