// Exposure in race-relevant events (issue 10): the failure rate per million
// race-relevant events next to the rate per hour, its exact interval, the
// comparison the verdict adds, and the intensity parity warning.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "report/intensity_chart.h"
#include "report/report.h"
#include "report/summary.h"
#include "sample.h"

using namespace numasoak;
using namespace numasoak::report;
using numasoak::test::failed;
using numasoak::test::survived;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

RunResult with_events(RunResult r, double race_events, double per_s) {
  r.event_totals["race_events"] = race_events;
  r.rates["race_events"] = per_s;
  return r;
}

std::vector<KernelSummary> summarize(const std::vector<RunResult>& runs, const std::vector<std::string>& kernels) {
  std::vector<KernelSummary> out;
  for (const auto& k : kernels) out.push_back(summarize_kernel(k, runs));
  return out;
}

// a: 4 failures at 10 s with 0.5 M race events each (2 M in all);
// b: 4 survivals of 90 s with 1.5 M each (6 M).
std::vector<RunResult> four_against_four(double b_events_per_run = 1.5e6) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 4; ++n) {
    runs.push_back(with_events(failed("a", n, 10), 0.5e6, 0.5e6 / 10));
    runs.push_back(with_events(survived("b", n, 90), b_events_per_run, b_events_per_run / 90));
  }
  return runs;
}

TEST(Exposure, PerMillionEventsRateAndExactIntervalByHand) {
  const auto k = summarize(four_against_four(), {"a", "b"});
  ASSERT_TRUE(k[0].race_events);
  EXPECT_DOUBLE_EQ(*k[0].race_events, 2e6);
  ASSERT_TRUE(k[0].rate_per_million_events);
  const auto& ra = *k[0].rate_per_million_events;
  // 4 failures in 2 M events: 2 per 1M. Garwood 95% for k = 4:
  // chi2(0.025; 8) / 2 = 2.17973 / 2 = 1.08987, chi2(0.975; 10) / 2 = 20.4832 / 2 = 10.2416,
  // divided by the exposure of 2 (millions).
  EXPECT_EQ(ra.unit, stats::RateUnit::kPerMillionEvents);
  EXPECT_DOUBLE_EQ(ra.rate, 2.0);
  EXPECT_NEAR(ra.lower, 1.08987 / 2, 1e-4);
  EXPECT_NEAR(ra.upper, 10.2416 / 2, 1e-4);
  EXPECT_FALSE(ra.upper_bound_only);
  // 0 failures in 6 M events: one-sided bound -ln(0.05) / 6 = 2.99573 / 6.
  ASSERT_TRUE(k[1].rate_per_million_events);
  EXPECT_TRUE(k[1].rate_per_million_events->upper_bound_only);
  EXPECT_NEAR(k[1].rate_per_million_events->upper, 2.99573 / 6, 1e-5);
  // Per hour as before: 4 in 40 s, 0 in 360 s.
  EXPECT_DOUBLE_EQ(k[0].rate.rate, 4 / (40.0 / 3600));
}

TEST(Exposure, VerdictComparesPerEventWithItsExactTest) {
  const auto v = compose_verdict(summarize(four_against_four(), {"a", "b"}));
  ASSERT_EQ(v.comparisons.size(), 1u);
  const auto& c = v.comparisons[0];
  ASSERT_TRUE(c.event_rates);
  // Equal rates per event would put each failure on a with p0 = 2 / (2 + 6);
  // all 4 on a: 0.25^4 = 0.00390625, two-sided 0.0078125.
  EXPECT_DOUBLE_EQ(c.event_rates->expected_share_a, 0.25);
  EXPECT_NEAR(c.event_rates->p_two_sided, 0.0078125, 1e-12);
  // Per second: p0 = 40 / 400, 0.1^4 * 2.
  EXPECT_NEAR(c.rates.p_two_sided, 2e-4, 1e-12);
  EXPECT_EQ(c.finding, Finding::kRemoves);
  EXPECT_TRUE(contains(c.sentence,
                       "Per million race-relevant events: a 2.0 per 1M events [0.54, 5.1], b < 0.50 per 1M events "
                       "(p = 0.0078)."))
      << c.sentence;
  EXPECT_FALSE(contains(c.sentence, "Counted per event")) << c.sentence;
}

TEST(Exposure, VerdictSaysWhenPerEventDisagreesWithPerHour) {
  // b ran 90 s per run like a's runs but exercised the race 50x less: per
  // event its 0/4 is weak evidence.
  const auto v = compose_verdict(summarize(four_against_four(0.01e6), {"a", "b"}));
  const auto& c = v.comparisons[0];
  ASSERT_TRUE(c.event_rates);
  EXPECT_TRUE(c.rates.significant());
  EXPECT_FALSE(c.event_rates->significant());
  EXPECT_TRUE(contains(c.sentence, "Counted per event the difference is not significant")) << c.sentence;
}

TEST(Exposure, FailedRunCountsEventsOnlyUpToTheFailure) {
  // Measured: failed at 5.4 s, 3824 race events counted by the time the
  // guest was stopped, 346.2/s over the heartbeats: 346.2 * 5.4 = 1869.48
  // events of exposure. A survivor keeps its total.
  std::vector<RunResult> runs = {with_events(failed("a", 1, 5.4), 3824, 346.2),
                                 with_events(survived("a", 2, 90), 12902, 144.6)};
  const auto k = summarize_kernel("a", runs);
  ASSERT_TRUE(k.race_events);
  EXPECT_NEAR(*k.race_events, 1869.48 + 12902, 1e-6);
}

TEST(Exposure, NoPerEventRateUnlessEveryRunCountedEvents) {
  auto runs = four_against_four();
  runs[1].event_totals.erase("race_events");  // one of b's runs has no count
  const auto k = summarize(runs, {"a", "b"});
  EXPECT_TRUE(k[0].rate_per_million_events);
  EXPECT_FALSE(k[1].race_events);
  EXPECT_FALSE(k[1].rate_per_million_events);
  const auto v = compose_verdict(k);
  EXPECT_FALSE(v.comparisons[0].event_rates);
  EXPECT_FALSE(contains(v.text, "Per million race-relevant events")) << v.text;
}

// Parity: medians of race_events/s, 3x apart -> the verdict says so and
// names the counter; 1.5x apart -> no warning.
std::vector<RunResult> intensity_pair(double a_per_s, double b_per_s) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 5; ++n) {
    runs.push_back(with_events(failed("a", n, 20), a_per_s * 20, a_per_s * (0.85 + 0.05 * n)));
    runs.push_back(with_events(survived("b", n, 90), b_per_s * 90, b_per_s * (0.85 + 0.05 * n)));
  }
  return runs;
}

TEST(Exposure, ParityWarningForThreeTimesNotForOneAndAHalf) {
  const auto three = compose_verdict(summarize(intensity_pair(300, 100), {"a", "b"}));
  ASSERT_TRUE(three.comparisons[0].intensity);
  EXPECT_TRUE(three.comparisons[0].intensity->flagged);
  EXPECT_NEAR(three.comparisons[0].intensity->ratio, 3.0, 1e-9);
  EXPECT_EQ(three.comparisons[0].intensity_event, "race_events");
  EXPECT_TRUE(contains(three.text, "Caution: a saw race_events 3.0x as often as b (300/s vs 100/s, medians); the "
                                   "failure rates may not be comparable."))
      << three.text;

  const auto one_and_a_half = compose_verdict(summarize(intensity_pair(150, 100), {"a", "b"}));
  ASSERT_TRUE(one_and_a_half.comparisons[0].intensity);
  EXPECT_FALSE(one_and_a_half.comparisons[0].intensity->flagged);
  EXPECT_NEAR(one_and_a_half.comparisons[0].intensity->ratio, 1.5, 1e-9);
  EXPECT_FALSE(contains(one_and_a_half.text, "Caution")) << one_and_a_half.text;
}

TEST(Exposure, SummaryJsonHasEventsAndPerEventRates) {
  Report rep;
  rep.kernels = summarize(four_against_four(), {"a", "b"});
  rep.verdict = compose_verdict(rep.kernels);
  const auto j = render_json(rep);
  EXPECT_EQ(j["kernels"][0]["race_events"], 2e6);
  EXPECT_EQ(j["kernels"][0]["failure_rate_per_million_events"]["rate"], 2.0);
  EXPECT_EQ(j["kernels"][0]["failure_rate_per_million_events"]["exposure_million_events"], 2.0);
  EXPECT_EQ(j["kernels"][1]["failure_rate_per_million_events"]["upper_bound_only"], true);
  EXPECT_NEAR(j["comparisons"][0]["per_million_events"]["p_value"].get<double>(), 0.0078125, 1e-12);
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

TEST(Exposure, HtmlShowsIntensitySideBySideWithAChartAndTheWarning) {
  auto runs = intensity_pair(300, 100);
  for (auto& r : runs)
    if (r.kernel == "b") r.kernel = "b<script>";
  Report rep;
  rep.kernels = summarize(runs, {"a", "b<script>"});
  rep.verdict = compose_verdict(rep.kernels);
  const std::string h = render_intensity_section(rep, [](std::size_t i) { return i == 0 ? "#111" : "#222"; });
  EXPECT_TRUE(contains(h, "<svg class=intensity")) << h;
  EXPECT_EQ(count(h, "<circle"), 10u);  // one dot per evidence run
  EXPECT_EQ(count(h, "fill=\"#111\""), 5u);
  EXPECT_EQ(count(h, "fill=\"#222\""), 5u);
  EXPECT_TRUE(contains(h, "median 300")) << h;
  EXPECT_TRUE(contains(h, "median 100")) << h;
  EXPECT_TRUE(contains(h, "&#9888; a ran <code>race_events</code> 3.0x as often as b&lt;script&gt;")) << h;
  EXPECT_FALSE(contains(h, "<script>"));
  // Per-build columns: median events/s, race events up to each failure
  // (min(6000, 300 x {0.9 .. 1.1} x 20 s): 5400 + 5700 + 3 x 6000), failures per 1M events.
  EXPECT_TRUE(contains(h, "<td class=n>300</td><td class=n>29100</td>")) << h;

  const auto none = render_intensity_svg(rep.kernels, "no_such_counter", [](std::size_t) { return "#000"; });
  EXPECT_TRUE(none.empty());
  const auto flat = compose_verdict(summarize(intensity_pair(150, 100), {"a", "b"}));
  Report rep2;
  rep2.kernels = summarize(intensity_pair(150, 100), {"a", "b"});
  rep2.verdict = flat;
  EXPECT_FALSE(contains(render_intensity_section(rep2, [](std::size_t) { return "#000"; }), "&#9888;"));
}

}  // namespace
