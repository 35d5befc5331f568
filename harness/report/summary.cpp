#include "report/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "report/text.h"
#include "stats/outcome.h"

namespace numasoak::report {

namespace {

std::vector<TitleCount> count_titles(const std::map<std::pair<std::string, std::string>, int>& m) {
  std::vector<TitleCount> out;
  for (const auto& [key, n] : m) out.push_back({key.first, key.second, n});
  std::stable_sort(out.begin(), out.end(), [](const TitleCount& a, const TitleCount& b) { return a.runs > b.runs; });
  return out;
}

std::string plural(int n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

// Titles are guest text of any length; sentences quote a readable prefix.
std::string short_title(const std::string& title) { return truncate_text(title.empty() ? "untitled" : title, 70); }

bool has_title(const KernelSummary& k, const std::string& title) {
  return std::any_of(k.titles.begin(), k.titles.end(), [&](const TitleCount& t) { return t.title == title; });
}

std::string named(const KernelSummary& k) { return k.name; }

std::string counts_of(const KernelSummary& k) { return fmt::format("{}/{}", k.failed, k.evidence_runs()); }

// "rate ratio 6.1/6.12 = 0.70 [0.10, 4.1]"; `invert` states it as b/a.
std::string ratio_text(const stats::RateComparison& c, const std::string& a, const std::string& b, bool invert = false) {
  if (!c.ratio) return "rate ratio ?";
  const auto inv = [](double v) { return v > 0 ? 1.0 / v : INFINITY; };
  if (invert) {
    return fmt::format("rate ratio {}/{} = {} [{}, {}]", b, a, format_number(inv(*c.ratio)),
                       format_number(inv(c.ratio_upper)), format_number(inv(c.ratio_lower)));
  }
  return fmt::format("rate ratio {}/{} = {} [{}, {}]", a, b, format_number(*c.ratio), format_number(c.ratio_lower),
                     format_number(c.ratio_upper));
}

std::string times_text(double x) {
  if (!std::isfinite(x)) return "infinitely";
  return format_number(x) + "x";
}

}  // namespace

const char* to_string(Finding f) {
  switch (f) {
    case Finding::kNoEvidence: return "no-evidence";
    case Finding::kNoFailures: return "no-failures";
    case Finding::kRemoves: return "removes";
    case Finding::kReduces: return "reduces";
    case Finding::kIntroduces: return "introduces";
    case Finding::kWorse: return "worse";
    case Finding::kSimilar: return "similar";
    case Finding::kInconclusive: return "inconclusive";
  }
  return "no-evidence";
}

const std::vector<std::string>& race_event_keys() {
  // THP migrations install the PMD migration entries the race needs; the
  // others are proxies for how hard NUMA balancing walked the page tables.
  static const std::vector<std::string> keys = {"race_events",          "thp_migration_success",
                                                "numa_huge_pte_updates", "pgmigrate_success",
                                                "numa_pages_migrated",   "numa_pte_updates",
                                                "numa_hint_faults"};
  return keys;
}

KernelSummary summarize_kernel(const std::string& name, std::span<const RunResult> runs, double confidence) {
  KernelSummary k;
  k.name = name;
  std::map<std::pair<std::string, std::string>, int> titles, errors;
  std::map<std::string, double> weighted, weight;
  double race_events = 0;
  bool every_run_counted = true;
  for (const auto& r : runs) {
    if (r.kernel != name || r.verdict == Verdict::kInterrupted) continue;
    if (k.release.empty()) k.release = r.kernel_release;
    ++k.finished;
    if (r.verdict == Verdict::kError) {
      ++k.errors;
      ++errors[{r.kind, r.title}];
      continue;
    }
    const bool failed = r.verdict == Verdict::kFailed;
    const double t = stats::outcome_seconds(r);
    if (!r.widened.empty() && std::find(k.widened.begin(), k.widened.end(), r.widened) == k.widened.end())
      k.widened.push_back(r.widened);
    for (auto [key, sum] : {std::pair<const char*, double*>{"race_widen_hits", &k.widen_hits},
                            {"widen_irqs_off", &k.widen_irqs_off}, {"widen_landed", &k.widen_landed}}) {
      const auto it = r.event_totals.find(key);
      if (it != r.event_totals.end() && std::isfinite(it->second) && it->second > 0) *sum += it->second;
    }
    k.outcomes.push_back(*stats::outcome_of(r));
    if (failed) {
      ++k.failed;
      ++titles[{r.kind, r.title}];
    } else {
      ++k.survived;
    }
    const auto events = r.event_totals.find("race_events");
    if (events != r.event_totals.end() && std::isfinite(events->second) && events->second >= 0) {
      // Exposure ends at the failure, but the guest keeps counting until it
      // is stopped a few seconds later: a failed run's events are its mean
      // rate times its time to failure (never more than its total).
      const auto rate = r.rates.find("race_events");
      double counted = events->second;
      if (failed && rate != r.rates.end() && std::isfinite(rate->second) && rate->second >= 0)
        counted = std::min(counted, rate->second * t);
      race_events += counted;
    } else {
      every_run_counted = false;
    }
    for (const auto& [key, rate] : r.rates) {
      if (!std::isfinite(rate)) continue;
      k.run_rates[key].push_back(rate);
      weighted[key] += rate * r.exposure_s;
      weight[key] += r.exposure_s;
    }
  }
  for (const auto& [key, values] : k.run_rates) {
    if (weight[key] > 0) {
      k.event_rates[key] = weighted[key] / weight[key];
    } else {
      double sum = 0;
      for (double v : values) sum += v;
      k.event_rates[key] = sum / static_cast<double>(values.size());
    }
  }
  k.titles = count_titles(titles);
  k.error_titles = count_titles(errors);

  const bool counted = every_run_counted && !k.outcomes.empty();
  if (counted) k.race_events = race_events;
  const auto s = stats::summarize_runs(k.outcomes, confidence, k.race_events);
  k.exposure_s = seconds(s.exposure);
  k.rate = s.rate;
  k.rate_per_million_events = s.rate_per_million_events;
  if (s.median) k.median_ttf_s = seconds(*s.median);
  if (s.median_lower) k.median_lower_s = seconds(*s.median_lower);
  if (s.median_upper) k.median_upper_s = seconds(*s.median_upper);
  return k;
}

std::string describe_widening(const KernelSummary& k, const std::string& widened) {
  if (widened.rfind("none", 0) == 0) return widened;
  std::string s = fmt::format("{}; {:.0f} delays taken", widened, k.widen_hits);
  if (widened.rfind("outside", 0) == 0)
    s += fmt::format(" ({:.0f} with interrupts off), {:.0f} migration entries landed during one", k.widen_irqs_off,
                     k.widen_landed);
  return s;
}

std::string describe_kernel(const KernelSummary& k) {
  std::string out = k.release.empty() ? k.name : fmt::format("{} ({})", k.name, k.release);
  const int n = k.evidence_runs();
  if (n == 0) {
    out += ": no finished runs yet";
  } else if (k.failed == 0) {
    out += fmt::format(": 0/{} failed in {} exposure, rate {} ({}%)", n, format_seconds(k.exposure_s),
                       format_rate_short(k.rate), format_number(k.rate.confidence * 100));
  } else {
    out += fmt::format(": {}/{} runs failed", k.failed, n);
    if (const auto* top = k.top_title()) {
      if (k.titles.size() == 1) {
        out += fmt::format(" ({})", short_title(top->title));
      } else {
        out += fmt::format(" ({} in {}, {})", short_title(top->title), top->runs,
                           plural(static_cast<int>(k.titles.size()) - 1, "other title", "other titles"));
      }
    }
    if (k.median_ttf_s) {
      out += fmt::format(", median TTF {}", format_seconds(*k.median_ttf_s));
    } else {
      out += fmt::format(", rate {}, median TTF not reached", format_rate_short(k.rate));
    }
  }
  if (k.errors > 0) {
    const auto* why = k.error_titles.empty() ? nullptr : &k.error_titles.front();
    out += fmt::format("; {}{}, not counted", k.errors == 1 ? "1 run was an error" : fmt::format("{} runs were errors", k.errors),
                       why && !why->kind.empty() ? fmt::format(" ({})", why->kind) : "");
  }
  return out + ".";
}

std::string describe_campaign_end(const std::string& status, const std::string& stop_reason, bool decisive,
                                  int finished, int planned) {
  const std::string runs = fmt::format("{} of {} planned runs", finished, planned);
  const std::string why = stop_reason.empty() ? "" : fmt::format(" ({})", stop_reason);
  if (status == "decided") {
    // The runner's reason starts "decided: "; the sentence already says so.
    constexpr std::string_view kPrefix = "decided: ";
    const std::string detail =
        stop_reason.rfind(kPrefix, 0) == 0 ? stop_reason.substr(kPrefix.size()) : stop_reason;
    return fmt::format("The campaign stopped after {}: its sequential rule decided{}; the p-values above assume a fixed "
                       "number of runs and are only indicative.",
                       runs, detail.empty() ? "" : fmt::format(" ({})", detail));
  }
  if (status == "stopped") {
    return fmt::format("The campaign stopped after {}{}{}.", runs, why,
                       decisive ? ", before its sequential rule decided" : "");
  }
  if (status == "finished" && decisive) {
    return fmt::format("The campaign ran all {} planned runs without its sequential rule deciding.", planned);
  }
  return {};
}

VerdictText compose_verdict(std::span<const KernelSummary> kernels, double confidence) {
  VerdictText v;
  if (kernels.empty()) {
    v.text = "The campaign has no kernels yet.";
    return v;
  }
  std::vector<std::string> parts;
  for (const auto& k : kernels) parts.push_back(describe_kernel(k));
  if (kernels.size() == 1) parts.push_back("Only one kernel: there is nothing to compare it with.");

  const KernelSummary& a = kernels.front();
  for (size_t i = 1; i < kernels.size(); ++i) {
    const KernelSummary& b = kernels[i];
    Comparison c;
    c.baseline = a.name;
    c.other = b.name;
    c.rates = stats::compare_rates({static_cast<std::uint64_t>(a.failed), a.exposure_s},
                                   {static_cast<std::uint64_t>(b.failed), b.exposure_s}, confidence);
    if (!a.outcomes.empty() && !b.outcomes.empty()) c.log_rank = stats::log_rank_test(a.outcomes, b.outcomes);
    const std::string p = format_p(c.rates.p_two_sided);
    std::string s;

    if (a.evidence_runs() == 0 || b.evidence_runs() == 0) {
      c.finding = Finding::kNoEvidence;
      const std::string why = a.evidence_runs() == 0 && b.evidence_runs() == 0
                                  ? "neither has a failed or survived run"
                                  : (a.evidence_runs() == 0 ? a.name : b.name) + " has no failed or survived run";
      s = fmt::format("{} cannot be compared with {} yet: {}.", b.name, a.name, why);
    } else if (a.failed == 0 && b.failed == 0) {
      c.finding = Finding::kNoFailures;
      s = kernels.size() == 2
              ? "No failures in either build: the campaign cannot tell them apart; raise duration or amplification."
              : fmt::format("No failures in either {} or {}: the campaign cannot tell them apart; raise duration or "
                            "amplification.",
                            a.name, b.name);
    } else if (c.rates.significant() && c.rates.direction == stats::Direction::kAFailsMore) {
      if (b.failed == 0) {
        c.finding = Finding::kRemoves;
        s = fmt::format("{} removes the failure: {}.", named(b), p);
      } else {
        c.finding = Finding::kReduces;
        const double less = c.rates.ratio ? *c.rates.ratio : NAN;
        s = fmt::format("{} fails {} less often than {} ({} vs {} runs, {}): {}.", named(b), times_text(less), a.name,
                        counts_of(b), counts_of(a), ratio_text(c.rates, a.name, b.name), p);
      }
    } else if (c.rates.significant() && c.rates.direction == stats::Direction::kAFailsLess) {
      const auto* top = b.top_title();
      if (a.failed == 0) {
        c.finding = Finding::kIntroduces;
        s = fmt::format("{} fails where {} never does ({} runs, \"{}\"): {}.", named(b), a.name, counts_of(b),
                        top ? short_title(top->title) : "untitled", p);
      } else {
        c.finding = Finding::kWorse;
        const double more = c.rates.ratio && *c.rates.ratio > 0 ? 1.0 / *c.rates.ratio : INFINITY;
        s = fmt::format("{} fails {} as often as {} ({} vs {} runs, {}): {}.", named(b), times_text(more), a.name,
                        counts_of(b), counts_of(a), ratio_text(c.rates, a.name, b.name, true), p);
      }
    } else if (a.failed > 0 && b.failed > 0) {
      c.finding = Finding::kSimilar;
      s = fmt::format("{} and {} fail at similar rates ({} vs {}, {}, {}): the campaign shows no difference.", a.name,
                      b.name, format_rate_short(a.rate), format_rate_short(b.rate), ratio_text(c.rates, a.name, b.name), p);
    } else {
      c.finding = Finding::kInconclusive;
      s = fmt::format(
          "Not enough evidence to tell {} from {} ({} vs {} runs failed, {}); raise runs, duration or amplification.",
          a.name, b.name, counts_of(a), counts_of(b), p);
    }

    // Rates alone can hide a trade: one crash gone, another in its place
    // (the 6.1 backport was reverted for a NULL dereference on the uffd path).
    if (a.failed > 0 && b.failed > 0 && a.top_title() && b.top_title()) {
      if (!has_title(b, a.top_title()->title)) {
        s += fmt::format(" {} never shows \"{}\"; it fails with \"{}\" ({}).", b.name, short_title(a.top_title()->title),
                         short_title(b.top_title()->title), plural(b.top_title()->runs, "run", "runs"));
      } else {
        for (const auto& t : b.titles) {
          if (!has_title(a, t.title)) {
            s += fmt::format(" {} also fails with \"{}\" ({}), which {} does not show.", b.name, short_title(t.title),
                             plural(t.runs, "run", "runs"), a.name);
            break;
          }
        }
      }
    }

    // The same question with exposure counted in race-relevant events: a
    // build that ran the race less often had fewer chances to fail.
    if (a.race_events && b.race_events && a.rate_per_million_events && b.rate_per_million_events &&
        (a.failed > 0 || b.failed > 0)) {
      c.event_rates = stats::compare_rates({static_cast<std::uint64_t>(a.failed), *a.race_events / 1e6},
                                           {static_cast<std::uint64_t>(b.failed), *b.race_events / 1e6}, confidence);
      s += fmt::format(" Per million race-relevant events: {} {}, {} {} ({}).", a.name,
                       format_rate_short(*a.rate_per_million_events), b.name,
                       format_rate_short(*b.rate_per_million_events), format_p(c.event_rates->p_two_sided));
      if (c.event_rates->informative && c.event_rates->significant() != c.rates.significant()) {
        s += c.event_rates->significant()
                 ? " Counted per event the difference is significant, counted per hour it is not."
                 : " Counted per event the difference is not significant: per hour alone overstates it.";
      }
    }

    // Fewer failures only mean something if the race ran as often.
    for (const auto& key : race_event_keys()) {
      auto ia = a.run_rates.find(key);
      auto ib = b.run_rates.find(key);
      if (ia == a.run_rates.end() || ib == b.run_rates.end() || ia->second.empty() || ib->second.empty()) continue;
      c.intensity = stats::compare_intensity(ia->second, ib->second);
      c.intensity_event = key;
      if (c.intensity->flagged) {
        const bool a_higher = c.intensity->higher == stats::IntensityParity::Higher::kA;
        s += fmt::format(" Caution: {} saw {} {} as often as {} ({}/s vs {}/s, medians); the failure rates may not be "
                         "comparable.",
                         a_higher ? a.name : b.name, key, times_text(c.intensity->ratio), a_higher ? b.name : a.name,
                         format_number(a_higher ? c.intensity->median_a : c.intensity->median_b),
                         format_number(a_higher ? c.intensity->median_b : c.intensity->median_a));
      }
      break;
    }
    c.sentence = s;
    parts.push_back(s);
    v.comparisons.push_back(std::move(c));
  }
  for (const auto& part : parts) v.text += (v.text.empty() ? "" : " ") + part;
  return v;
}

}  // namespace numasoak::report
