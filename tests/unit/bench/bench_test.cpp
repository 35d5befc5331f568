// numasoak bench's pure parts: the plan's interleaving, ldd parsing for the
// bench image, cell summaries (Kaplan-Meier median, spread, rates, errors),
// the headline and the table/JSON. The bench itself runs as the ctest
// `bench_quick` (real guests).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/bench_image.h"
#include "bench/plan.h"
#include "bench/summary.h"

namespace numasoak::bench {
namespace {

RunResult failed(double ttf, double race = 100) {
  RunResult r;
  r.verdict = Verdict::kFailed;
  r.kind = "bad-pmd";
  r.time_to_failure_s = ttf;
  r.exposure_s = ttf;
  r.rates["race_events"] = race;
  r.rates["thp_migration_success"] = race / 2;
  return r;
}

RunResult survived(double t, double race = 50) {
  RunResult r;
  r.verdict = Verdict::kSurvived;
  r.exposure_s = t;
  r.rates["race_events"] = race;
  return r;
}

RunResult error(const std::string& kind) {
  RunResult r;
  r.verdict = Verdict::kError;
  r.kind = kind;
  r.exposure_s = kind == "no-race-events" ? 60 : 0;
  return r;
}

TEST(BenchPlan, RowsCoverTheWorkloadItsStressorsAndTheAlternatives) {
  const auto& rows = bench_rows();
  ASSERT_GE(rows.size(), 7u);
  EXPECT_EQ(rows.front().profile, "bad-pmd");
  int alternatives = 0;
  for (const auto& r : rows) alternatives += r.alternative ? 1 : 0;
  EXPECT_EQ(alternatives, 3);
}

TEST(BenchPlan, CasesAreInterleavedRoundByRound) {
  const std::vector<BenchRow> rows = {{"a", "pa", false}, {"b", "pb", true}};
  const auto cases = interleaved_cases(rows, 200, 3, std::chrono::seconds(10));
  ASSERT_EQ(cases.size(), 6u);
  const std::vector<std::string> order = {"a", "b", "a", "b", "a", "b"};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(cases[i].row.name, order[i]);
    EXPECT_EQ(cases[i].index, static_cast<int>(i / 2));
    EXPECT_EQ(cases[i].amplify_us, 200);
  }
}

TEST(BenchPlan, QuickIsSmall) {
  const auto q = BenchOptions::quick_options();
  EXPECT_EQ(q.runs, 1);
  EXPECT_EQ(q.amplify_us.size(), 1u);
  EXPECT_LE(q.budget, std::chrono::seconds(30));
}

TEST(BenchImage, ParseLddKeepsAbsolutePathsAndTheLoader) {
  const std::string listing =
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f62)\n"
      "\tlibgone.so.1 => not found\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f6294dae000)\n"
      "\tlibevil.so => /lib/../../etc/shadow (0x1)\n";
  const auto libs = parse_ldd(listing);
  ASSERT_EQ(libs.size(), 2u);
  EXPECT_EQ(libs[0], "/lib/x86_64-linux-gnu/libm.so.6");
  EXPECT_EQ(libs[1], "/lib64/ld-linux-x86-64.so.2");
  EXPECT_TRUE(parse_ldd("").empty());
}

TEST(BenchSummary, MedianSpreadRatesAndErrors) {
  const BenchRow row{"bad-pmd", "bad-pmd", false};
  const std::vector<RunResult> runs = {failed(10, 100), failed(30, 300), failed(20, 200), survived(60, 10),
                                       error("boot-failure")};
  const auto c = summarize_cell(row, 200, runs);
  EXPECT_EQ(c.runs, 4u);
  EXPECT_EQ(c.failures, 3u);
  EXPECT_EQ(c.errors, 1u);
  ASSERT_EQ(c.error_kinds.size(), 1u);
  EXPECT_EQ(c.error_kinds[0], "boot-failure");
  ASSERT_TRUE(c.median_s);
  EXPECT_DOUBLE_EQ(*c.median_s, 20.0);  // S drops to 0.5 at t = 20 (4 at risk, then 3)
  EXPECT_DOUBLE_EQ(*c.min_ttf_s, 10.0);
  EXPECT_DOUBLE_EQ(*c.max_ttf_s, 30.0);
  EXPECT_DOUBLE_EQ(c.exposure_s, 120.0);
  EXPECT_DOUBLE_EQ(c.rates.at("race_events"), 150.0);  // median of 100, 300, 200, 10
  EXPECT_NEAR(c.per_hour.rate, 3.0 / (120.0 / 3600.0), 1e-9);
}

TEST(BenchSummary, AnIdleRunIsASurvivalNotAnError) {
  const auto c = summarize_cell({"x", "x", true}, 200, std::vector<RunResult>{error("no-race-events"), error("config")});
  EXPECT_EQ(c.runs, 1u);
  EXPECT_EQ(c.idle, 1u);
  EXPECT_EQ(c.errors, 1u);
  ASSERT_EQ(c.error_kinds.size(), 1u);
  EXPECT_EQ(c.error_kinds[0], "config");
}

TEST(BenchSummary, NoFailuresGivesAnUpperBoundAndNoMedian) {
  const auto c = summarize_cell({"x", "x", true}, 200, std::vector<RunResult>{survived(60), survived(60)});
  EXPECT_FALSE(c.median_s);
  EXPECT_EQ(c.failures, 0u);
  EXPECT_TRUE(c.per_hour.upper_bound_only);
  EXPECT_NEAR(c.per_hour.upper, 2.9957 / (120.0 / 3600.0), 0.01);
}

TEST(BenchSummary, HeadlineRatioAgainstTheBestAlternative) {
  std::vector<CellSummary> cells;
  cells.push_back(summarize_cell({"bad-pmd", "bad-pmd", false}, 200, std::vector<RunResult>{failed(10), failed(10), failed(12)}));
  cells.push_back(summarize_cell({"slow alt", "a1", true}, 200, std::vector<RunResult>{failed(40), failed(40), failed(50)}));
  cells.push_back(summarize_cell({"never alt", "a2", true}, 200, std::vector<RunResult>{survived(60), survived(60)}));
  const auto natural = summarize_cell({"bad-pmd", "bad-pmd", false}, 0, std::vector<RunResult>{survived(300)});
  const Headline h = make_headline(cells, natural);
  ASSERT_TRUE(h.ratio);
  EXPECT_DOUBLE_EQ(*h.ratio, 4.0);
  EXPECT_EQ(*h.best_alternative, "slow alt");
  EXPECT_TRUE(h.bad_pmd_fastest);
  ASSERT_TRUE(h.natural);
  EXPECT_TRUE(h.natural->upper_bound_only);
  EXPECT_NE(h.text.find("4.0x slower"), std::string::npos) << h.text;
  EXPECT_NE(h.text.find("Amplifier off"), std::string::npos) << h.text;
}

TEST(BenchSummary, HeadlineSaysWhenAnotherRowIsFaster) {
  std::vector<CellSummary> cells;
  cells.push_back(summarize_cell({"bad-pmd", "bad-pmd", false}, 200, std::vector<RunResult>{failed(30), failed(30)}));
  cells.push_back(summarize_cell({"fast alt", "a1", true}, 200, std::vector<RunResult>{failed(5), failed(5)}));
  const Headline h = make_headline(cells, std::nullopt);
  EXPECT_FALSE(h.bad_pmd_fastest);
  ASSERT_TRUE(h.ratio);
  EXPECT_LT(*h.ratio, 1.0);
  EXPECT_NE(h.text.find("fastest row was fast alt"), std::string::npos) << h.text;
}

TEST(BenchSummary, HeadlineWhenNoAlternativeFails) {
  std::vector<CellSummary> cells;
  cells.push_back(summarize_cell({"bad-pmd", "bad-pmd", false}, 200, std::vector<RunResult>{failed(10), failed(10)}));
  cells.push_back(summarize_cell({"alt", "a1", true}, 200, std::vector<RunResult>{survived(60), survived(60)}));
  const Headline h = make_headline(cells, std::nullopt);
  EXPECT_FALSE(h.ratio);
  EXPECT_NE(h.text.find("more than 6x slower"), std::string::npos) << h.text;
  ASSERT_TRUE(h.rate_ratio_lower);
  EXPECT_GT(*h.rate_ratio_lower, 1.0);  // 2 failures in 20 s against 0 in 120 s
  EXPECT_NE(h.text.find("ratio >= "), std::string::npos) << h.text;
}

TEST(BenchSummary, TableAndJsonCarryEveryPart) {
  BenchReport r;
  r.machine = "2 cores, TCG";
  r.cells.push_back(summarize_cell({"bad-pmd", "bad-pmd", false}, 200, std::vector<RunResult>{failed(10)}));
  r.natural = summarize_cell({"bad-pmd", "bad-pmd", false}, 0, std::vector<RunResult>{survived(30)});
  r.costs.push_back({"boot", 3.5, "s", "median", true});
  r.costs.push_back({"cold build", 0, "", "not cached", false});
  r.scaling.push_back({2, 800, 400, 12.5, 30});
  r.headline = make_headline(r.cells, r.natural);
  const std::string t = table(r);
  for (const char* s : {"2 cores, TCG", "bad-pmd", "off", "boot", "not measured", "800", r.headline.text.c_str()})
    EXPECT_NE(t.find(s), std::string::npos) << s << "\n" << t;
  const nlohmann::json j = r;
  EXPECT_EQ(j["format"], "numasoak-bench/1");
  EXPECT_EQ(j["cells"].size(), 1u);
  EXPECT_EQ(j["cells"][0]["failures"], 1);
  EXPECT_TRUE(j["costs"][1]["value"].is_null());
  EXPECT_EQ(j["scaling"][0]["guests"], 2);
  EXPECT_TRUE(j["natural"]["failures_per_hour"]["upper_bound_only"].get<bool>());
}

}  // namespace
}  // namespace numasoak::bench
