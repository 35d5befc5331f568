// The verdict paragraph: every kind of finding says what the data support,
// from per-kernel summaries alone (no database).
#include <gtest/gtest.h>

#include <vector>

#include "report/summary.h"
#include "report/text.h"
#include "sample.h"

using namespace numasoak;
using namespace numasoak::report;
using numasoak::test::errored;
using numasoak::test::failed;
using numasoak::test::survived;

namespace {

std::vector<KernelSummary> summarize(const std::vector<RunResult>& runs, const std::vector<std::string>& kernels) {
  std::vector<KernelSummary> out;
  for (const auto& k : kernels) out.push_back(summarize_kernel(k, runs));
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Verdict, TenOfTenAgainstZeroOfTen) {
  std::vector<RunResult> runs;
  const double ttf[] = {9, 10, 11, 12, 13, 15, 16, 17, 18, 19};
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(failed("6.1", n, ttf[n - 1]));
    runs.push_back(survived("6.1+backport", n, 300));
  }
  const auto kernels = summarize(runs, {"6.1", "6.1+backport"});
  ASSERT_TRUE(kernels[0].median_ttf_s);
  const auto v = compose_verdict(kernels);
  EXPECT_EQ(v.text,
            "6.1 (6.1.192): 10/10 runs failed (bad pmd), median TTF 13 s. "
            "6.1+backport (6.1.192): 0/10 failed in 50 min exposure, rate < 3.6/h (95%). "
            "6.1+backport removes the failure: p < 1e-9.");
  ASSERT_EQ(v.comparisons.size(), 1u);
  EXPECT_EQ(v.comparisons[0].finding, Finding::kRemoves);
  EXPECT_EQ(v.comparisons[0].baseline, "6.1");
  EXPECT_TRUE(v.comparisons[0].rates.significant());
  ASSERT_TRUE(v.comparisons[0].log_rank);
  EXPECT_LT(v.comparisons[0].log_rank->p_value, 1e-3);
}

TEST(Verdict, NoFailuresInEitherBuild) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(survived("6.1", n, 300));
    runs.push_back(survived("6.1+backport", n, 300));
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.1+backport"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kNoFailures);
  EXPECT_EQ(v.text,
            "6.1 (6.1.192): 0/10 failed in 50 min exposure, rate < 3.6/h (95%). "
            "6.1+backport (6.1.192): 0/10 failed in 50 min exposure, rate < 3.6/h (95%). "
            "No failures in either build: the campaign cannot tell them apart; raise duration or amplification.");
}

TEST(Verdict, SimilarRatesThreeAgainstFour) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(n <= 3 ? failed("6.1", n, 60.0 * n) : survived("6.1", n, 300));
    runs.push_back(n <= 4 ? failed("6.12", n, 50.0 * n) : survived("6.12", n, 300));
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.12"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kSimilar);
  EXPECT_FALSE(v.comparisons[0].rates.significant());
  EXPECT_TRUE(contains(v.text, "6.1 (6.1.192): 3/10 runs failed (bad pmd), rate ")) << v.text;
  EXPECT_TRUE(contains(v.text, "median TTF not reached")) << v.text;
  EXPECT_TRUE(contains(v.text, "6.1 and 6.12 fail at similar rates (")) << v.text;
  EXPECT_TRUE(contains(v.text, "the campaign shows no difference.")) << v.text;
  EXPECT_FALSE(contains(v.text, "never shows")) << v.text;
}

TEST(Verdict, OneAgainstZeroIsNotEnough) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(n == 1 ? failed("a", n, 100) : survived("a", n, 300));
    runs.push_back(survived("b", n, 300));
  }
  const auto v = compose_verdict(summarize(runs, {"a", "b"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kInconclusive);
  EXPECT_TRUE(contains(v.text, "Not enough evidence to tell a from b (1/10 vs 0/10 runs failed, p = "))
      << v.text;
  EXPECT_TRUE(contains(v.text, "raise runs, duration or amplification.")) << v.text;
}

TEST(Verdict, OtherKernelIntroducesAFailure) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(survived("6.1", n, 300));
    runs.push_back(failed("6.1+backport", n, 20 + n, "BUG: kernel NULL pointer dereference, address: 0000000000000008",
                          "null-deref"));
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.1+backport"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kIntroduces);
  EXPECT_TRUE(contains(v.comparisons[0].sentence,
                       "6.1+backport fails where 6.1 never does (10/10 runs, \"BUG: kernel NULL pointer dereference"))
      << v.text;
}

TEST(Verdict, SameRateButADifferentCrash) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(n <= 5 ? failed("6.1", n, 30.0 * n) : survived("6.1", n, 300));
    runs.push_back(n <= 5 ? failed("6.1+backport", n, 31.0 * n, "BUG: kernel NULL pointer dereference", "null-deref")
                          : survived("6.1+backport", n, 300));
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.1+backport"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kSimilar);
  EXPECT_TRUE(contains(v.comparisons[0].sentence,
                       "6.1+backport never shows \"bad pmd\"; it fails with \"BUG: kernel NULL pointer dereference\" "
                       "(5 runs)."))
      << v.text;
}

TEST(Verdict, FewerFailuresButAlsoLessRaceActivityIsFlagged) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    auto a = failed("6.1", n, 10 + n);
    a.rates["thp_migration_success"] = 2.0;
    auto b = survived("6.1+backport", n, 300);
    b.rates["thp_migration_success"] = 0.1;
    runs.push_back(a);
    runs.push_back(b);
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.1+backport"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kRemoves);
  ASSERT_TRUE(v.comparisons[0].intensity);
  EXPECT_TRUE(v.comparisons[0].intensity->flagged);
  EXPECT_EQ(v.comparisons[0].intensity_event, "thp_migration_success");
  EXPECT_TRUE(contains(v.text, "Caution: 6.1 saw thp_migration_success 20x as often as 6.1+backport")) << v.text;
}

TEST(Verdict, SignificantReductionAndIncrease) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 20; ++n) {
    runs.push_back(failed("a", n, 5.0 + n));
    runs.push_back(n <= 3 ? failed("b", n, 250) : survived("b", n, 300));
  }
  auto v = compose_verdict(summarize(runs, {"a", "b"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kReduces) << v.text;
  EXPECT_TRUE(contains(v.comparisons[0].sentence, "b fails ")) << v.text;
  EXPECT_TRUE(contains(v.comparisons[0].sentence, "less often than a (3/20 vs 20/20 runs, rate ratio ")) << v.text;

  v = compose_verdict(summarize(runs, {"b", "a"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kWorse) << v.text;
  EXPECT_TRUE(contains(v.comparisons[0].sentence, "as often as b (20/20 vs 3/20 runs")) << v.text;
}

TEST(Verdict, ErrorsAndInterruptionsAreNotEvidence) {
  std::vector<RunResult> runs = {failed("a", 1, 10), errored("a", 2, "boot-failure", "no marker"),
                                 errored("a", 3, "boot-failure", "no marker")};
  RunResult interrupted = survived("a", 4, 100);
  interrupted.verdict = Verdict::kInterrupted;
  runs.push_back(interrupted);
  const auto k = summarize_kernel("a", runs);
  EXPECT_EQ(k.finished, 3);
  EXPECT_EQ(k.failed, 1);
  EXPECT_EQ(k.errors, 2);
  EXPECT_EQ(k.evidence_runs(), 1);
  EXPECT_DOUBLE_EQ(k.exposure_s, 10);
  EXPECT_EQ(describe_kernel(k),
            "a (6.1.192): 1/1 runs failed (bad pmd), median TTF 10 s; 2 runs were errors (boot-failure), not counted.");
}

TEST(Verdict, EveryKernelIsComparedWithTheFirst) {
  std::vector<RunResult> runs;
  for (int n = 1; n <= 10; ++n) {
    runs.push_back(failed("6.1", n, 10 + n));
    runs.push_back(survived("6.1+backport", n, 300));
    runs.push_back(failed("6.1+amplifier", n, 5 + n));
  }
  const auto v = compose_verdict(summarize(runs, {"6.1", "6.1+backport", "6.1+amplifier"}));
  ASSERT_EQ(v.comparisons.size(), 2u);
  EXPECT_EQ(v.comparisons[0].other, "6.1+backport");
  EXPECT_EQ(v.comparisons[0].finding, Finding::kRemoves);
  EXPECT_EQ(v.comparisons[1].baseline, "6.1");
  EXPECT_EQ(v.comparisons[1].other, "6.1+amplifier");
  EXPECT_TRUE(contains(v.text, "6.1+backport removes the failure: p < 1e-9.")) << v.text;
}

TEST(Verdict, NoRunsYet) {
  const std::vector<RunResult> none;
  const auto v = compose_verdict(summarize(none, {"a", "b"}));
  EXPECT_EQ(v.comparisons[0].finding, Finding::kNoEvidence);
  EXPECT_EQ(v.text,
            "a: no finished runs yet. b: no finished runs yet. b cannot be compared with a yet: neither has a failed "
            "or survived run.");
}

TEST(Text, Formats) {
  EXPECT_EQ(format_seconds(14.2), "14 s");
  EXPECT_EQ(format_seconds(3000), "50 min");
  EXPECT_EQ(format_seconds(150), "2 min 30 s");
  EXPECT_EQ(format_seconds(3900), "1 h 05 min");
  EXPECT_EQ(format_number(3.5951), "3.6");
  EXPECT_EQ(format_number(0.004213), "0.0042");
  EXPECT_EQ(format_number(257.3), "257");
  EXPECT_EQ(truncate_text("abcdefghij", 8), "abcde...");
  EXPECT_EQ(truncate_text("abc", 8), "abc");
}

TEST(Text, EscapingNeutralisesGuestText) {
  EXPECT_EQ(html_escape("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;");
  EXPECT_EQ(html_escape("a\x1b[31mb\r\n"), "a\xEF\xBF\xBD[31mb\n");
  EXPECT_EQ(html_escape("bad \xff utf8 \xc3\xa9"), "bad \xEF\xBF\xBD utf8 \xc3\xa9");
  EXPECT_EQ(terminal_safe("red \x1b[31mX\x07\r\nnext"), "red ?[31mX???next");
  EXPECT_EQ(terminal_safe("a\nb", true), "a\nb");
  EXPECT_EQ(terminal_safe("csi \xc2\x9b" "2J"), "csi ?2J");
  EXPECT_EQ(url_encode_path("runs/a b/javascript:x\"<"), "runs/a%20b/javascript%3Ax%22%3C");
}

}  // namespace
