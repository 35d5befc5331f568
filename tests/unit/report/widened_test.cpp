// How each kernel's race window was widened, in the report (issue 15): a
// verdict on a kernel whose delay was never taken says nothing about its fix,
// so the terminal table, report.html and summary.json say how the window was
// widened and how many delays the runs took.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/summary.h"
#include "sample.h"

using namespace numasoak;
using namespace numasoak::report;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

RunResult widened(RunResult r, const std::string& how, double hits, double irqs_off, double landed) {
  r.widened = how;
  r.event_totals["race_widen_hits"] = hits;
  r.event_totals["widen_irqs_off"] = irqs_off;
  r.event_totals["widen_landed"] = landed;
  return r;
}

const std::string kOutside =
    "outside: kprobe at change_protection+0xd64 and 8 copies (include/linux/pgtable.h:1370 (pmd_read_atomic in "
    "change_pmd_range)), after the single read (numa 200 us, uffd 0 us)";

Report two_kernels() {
  std::vector<RunResult> runs = {
      widened(test::failed("6.1-bare", 1, 2.0), "outside: kprobe at change_protection+0xc87 <b>", 30, 30, 0),
      widened(test::failed("6.1-bare", 2, 3.0), "outside: kprobe at change_protection+0xc87 <b>", 12, 12, 1),
      widened(test::survived("6.1+backport-bare", 1, 60), kOutside, 6588, 6588, 1),
      widened(test::survived("6.1+backport-bare", 2, 60), kOutside, 7000, 7000, 0),
      widened(test::errored("6.1+backport-bare", 3, "boot", "no boot"), "outside: other", 5, 5, 5),
  };
  Report rep;
  rep.kernels = {summarize_kernel("6.1-bare", runs), summarize_kernel("6.1+backport-bare", runs)};
  rep.verdict = compose_verdict(rep.kernels);
  return rep;
}

TEST(Widened, TheSummarySumsTheDelaysOfTheEvidenceRuns) {
  const Report rep = two_kernels();
  const auto& bare = rep.kernels[0];
  const auto& fix = rep.kernels[1];
  ASSERT_EQ(bare.widened.size(), 1u);
  EXPECT_EQ(bare.widen_hits, 42);
  EXPECT_EQ(bare.widen_landed, 1);
  // The errored run is not evidence: its way of widening and its counts are left out.
  ASSERT_EQ(fix.widened.size(), 1u);
  EXPECT_EQ(fix.widened[0], kOutside);
  EXPECT_EQ(fix.widen_hits, 13588);
  EXPECT_EQ(fix.widen_irqs_off, 13588);
  EXPECT_EQ(fix.widen_landed, 1);
}

TEST(Widened, TheTerminalHtmlAndJsonSayHowAndHowOften) {
  const Report rep = two_kernels();
  const std::string term = render_terminal(rep);
  EXPECT_TRUE(contains(term, "window 6.1+backport-bare: outside: kprobe at change_protection+0xd64")) << term;
  EXPECT_TRUE(contains(term, "13588 delays taken")) << term;
  const std::string html = render_html(rep);
  EXPECT_TRUE(contains(html, "window: outside: kprobe at change_protection+0xd64")) << html;
  EXPECT_FALSE(contains(html, "0xc87 <b>")) << "guest-derived text must be escaped";
  EXPECT_TRUE(contains(html, "0xc87 &lt;b&gt;"));
  const auto j = render_json(rep);
  EXPECT_EQ(j["kernels"][1]["widened"][0], kOutside);
  EXPECT_EQ(j["kernels"][1]["widen"]["hits"], 13588);
}

TEST(Widened, AnUnwidenedKernelSaysSoWithoutCounts) {
  std::vector<RunResult> runs = {widened(test::survived("6.1", 1, 60), "none", 0, 0, 0)};
  Report rep;
  rep.kernels = {summarize_kernel("6.1", runs)};
  rep.verdict = compose_verdict(rep.kernels);
  const std::string term = render_terminal(rep);
  EXPECT_TRUE(contains(term, "window 6.1: none\n")) << term;
  EXPECT_FALSE(contains(term, "delays taken")) << term;
}

}  // namespace
