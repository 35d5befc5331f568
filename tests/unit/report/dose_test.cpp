// The "Dose-response" section of a [sweep] campaign's report: rebuilt from
// the store's campaign snapshot (config.sweep.arms), in the terminal table,
// summary.json and report.html (with its log-log SVG), names escaped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/paths.h"
#include "report/dose.h"
#include "report/report.h"
#include "sample.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace numasoak;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The snapshot campaign_to_json writes for `kernel` swept over `widths`.
json sweep_config(const std::string& kernel, const std::vector<int>& widths) {
  json j = {{"name", "dose"}, {"stop", "fixed"}};
  j["sweep"]["amplify_us"] = widths;
  for (int w : widths) {
    const std::string arm = w == 0 ? kernel + "@off" : kernel + "@" + std::to_string(w) + "us";
    j["sweep"]["arms"].push_back({{"name", arm}, {"kernel", kernel}, {"amplify_us", w}});
  }
  return j;
}

RunResult with_events(RunResult r, double events) {
  r.event_totals["race_events"] = events;
  r.rates["race_events"] = events / std::max(1.0, r.exposure_s);
  return r;
}

class DoseReport : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_private_dir("numasoak-dose-report-test"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A sweep of a kernel whose name is hostile markup: 3/3 failed at 200 us,
  // 1/3 at 20 us, none at 2 us or off.
  void make_sweep(const std::string& k) {
    Store s = Store::open(dir_);
    s.set_campaign("dose", "dose.toml", sweep_config(k, {200, 20, 2, 0}));
    const std::vector<std::string> arms = {k + "@200us", k + "@20us", k + "@2us", k + "@off"};
    s.plan_runs(arms, 3);
    auto finish = [&](RunResult r) {
      s.mark_running(r.run_id);
      s.finish_run(r);
    };
    for (int n = 1; n <= 3; ++n) {
      finish(with_events(test::failed(arms[0], n, 4.0 * n), 400.0 * n));
      finish(with_events(n == 1 ? test::failed(arms[1], n, 60) : test::survived(arms[1], n, 90), 9000));
      finish(with_events(test::survived(arms[2], n, 90), 9000));
      finish(with_events(test::survived(arms[3], n, 90), 9000));
    }
  }
  fs::path dir_;
};

TEST_F(DoseReport, SweepGetsATableAFitAndAnEscapedSvg) {
  const std::string k = "6.1<b>&\"x\"";
  make_sweep(k);
  const Store store = Store::open_read_only(dir_);
  const auto rep = report::build_report(store);
  ASSERT_EQ(rep.dose.size(), 1u);
  const auto& d = rep.dose[0];
  EXPECT_EQ(d.kernel, k);
  ASSERT_EQ(d.response.rows.size(), 4u);
  EXPECT_EQ(d.response.rows[0].observed.width_us, 200);
  EXPECT_EQ(d.response.rows[0].observed.failures, 3u);
  EXPECT_EQ(d.response.rows[0].observed.runs, 3);
  EXPECT_NEAR(d.response.rows[0].observed.exposure_h, (4.0 + 8 + 12) / 3600, 1e-12);
  EXPECT_EQ(d.response.rows[1].observed.failures, 1u);
  EXPECT_EQ(d.response.rows[3].observed.width_us, 0);
  ASSERT_TRUE(d.response.rows[2].per_million_events);
  EXPECT_TRUE(d.response.rows[2].per_million_events->upper_bound_only);
  ASSERT_TRUE(d.response.fit) << d.response.no_fit_reason;
  EXPECT_GT(d.response.fit->b, 0);

  const std::string term = report::render_terminal(rep);
  EXPECT_TRUE(contains(term, "Dose-response of")) << term;
  EXPECT_TRUE(contains(term, "200 us")) << term;
  EXPECT_TRUE(contains(term, "off")) << term;
  EXPECT_TRUE(contains(term, "natural window, assumed 0.1 us")) << term;

  const std::string html = report::render_html(rep);
  // NUMASOAK_KEEP_DOSE_SVG=FILE keeps the plot for a look in a browser.
  if (const char* keep = std::getenv("NUMASOAK_KEEP_DOSE_SVG")) write_file_atomic(keep, report::render_dose_svg(d));
  EXPECT_TRUE(contains(html, "<h2>Dose-response</h2>"));
  EXPECT_TRUE(contains(html, "<svg class=dose"));
  EXPECT_TRUE(contains(html, "class=natural"));   // the extrapolated point
  EXPECT_TRUE(contains(html, "class=bound"));     // 2 us: no failure, upper bound
  EXPECT_TRUE(contains(html, "class=fit"));
  EXPECT_TRUE(contains(html, "class=off"));       // the unwidened arm, measured, at the natural width
  EXPECT_FALSE(contains(html, "6.1<b>")) << "a kernel name reached the page unescaped";
  EXPECT_TRUE(contains(html, "6.1&lt;b&gt;&amp;&quot;x&quot;@200us"));
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_FALSE(contains(lower, "<script"));

  const json j = report::render_json(rep);
  ASSERT_EQ(j["dose_response"].size(), 1u);
  EXPECT_EQ(j["dose_response"][0]["rows"][1]["arm"], k + "@20us");
  EXPECT_EQ(j["dose_response"][0]["fit"]["natural_width_us"], stats::kNaturalWindowUs);
}

TEST_F(DoseReport, ACampaignWithoutASweepHasNoSection) {
  test::make_sample_campaign(dir_);
  const auto rep = report::build_report(Store::open_read_only(dir_));
  EXPECT_TRUE(rep.dose.empty());
  EXPECT_FALSE(contains(report::render_html(rep), "Dose-response"));
  EXPECT_FALSE(contains(report::render_terminal(rep), "Dose-response"));
  EXPECT_TRUE(report::render_json(rep)["dose_response"].empty());
}

TEST(DoseSections, NoFailuresAtAnyWidthSaysSoAndStillPlotsTheBounds) {
  report::KernelSummary a, b;
  a.name = "k@50us";
  a.survived = 3;
  a.exposure_s = 270;
  b.name = "k@off";
  b.survived = 3;
  b.exposure_s = 270;
  const std::vector<report::KernelSummary> kernels = {a, b};
  const auto sections = report::dose_sections(sweep_config("k", {50, 0}), kernels);
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_FALSE(sections[0].response.fit);
  const std::string text = report::render_dose_terminal(sections);
  EXPECT_TRUE(contains(text, "no fit: no failures at any width")) << text;
  const std::string svg = report::render_dose_svg(sections[0]);
  EXPECT_TRUE(contains(svg, "class=bound"));
  EXPECT_FALSE(contains(svg, "class=natural"));
}

TEST(DoseSections, ArmsWithoutRunsYetCountAsNoExposure) {
  const auto sections = report::dose_sections(sweep_config("k", {200, 0}), {});
  ASSERT_EQ(sections.size(), 1u);
  ASSERT_EQ(sections[0].response.rows.size(), 2u);
  EXPECT_FALSE(sections[0].response.rows[0].per_hour.has_exposure());
  EXPECT_TRUE(report::render_dose_svg(sections[0]).empty());
  EXPECT_TRUE(contains(report::render_dose_html(sections), "<h2>Dose-response</h2>"));
}

TEST(DoseSections, ASnapshotWithoutASweepGivesNone) {
  EXPECT_TRUE(report::dose_sections(json::object(), {}).empty());
  EXPECT_TRUE(report::dose_sections(json{{"sweep", "nonsense"}}, {}).empty());
  EXPECT_TRUE(report::dose_sections(json(nullptr), {}).empty());
}

}  // namespace
