#include "console/scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace numasoak::console {
namespace {

TEST(ScanBytes, ReplaysTimeFromPrintkTimestamps) {
  // Two reports from the same (unknown) printer: the first one ends after its
  // 5 s window of guest time, before the second marker arrives.
  const std::string log =
      "[   10.000000] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)\n"
      "[   12.000000] attached: 2 s later\n"
      "[   16.000000] not attached: 6 s later\n"
      "[   17.000000] BUG: Bad rss-counter state mm:00000000c1b5e6a4 type:MM_ANONPAGES val:-512\n";
  const auto f = scan_bytes(log);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].report_lines, 2u);
  EXPECT_EQ(f[0].host_time, Duration{0});
  EXPECT_EQ(f[1].host_time, std::chrono::seconds(7));
}

TEST(ScanBytes, ClockDoesNotRunBackwardsAfterAReboot) {
  const std::string log =
      "[  100.000000] boot 1\n"
      "[    0.000000] Linux version 6.1 (boot 2)\n"
      "[    1.000000] kernel BUG at mm/mprotect.c:12!\n";
  const auto f = scan_bytes(log);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].host_time, std::chrono::seconds(1));  // 100 -> 0 is no step back, 0 -> 1 is 1 s
  ASSERT_TRUE(f[0].uptime_s);
  EXPECT_DOUBLE_EQ(*f[0].uptime_s, 1.0);
}

// Random lines built from pieces of real markers, prefixes and garbage: the
// scanner must neither crash nor keep more than its bounds, and every title
// must be short and printable.
TEST(ScanBytes, SurvivesMarkerSoup) {
  const std::string pieces[] = {
      "[  12.345678] ", "[ T12]", "[    C1] ", "<3>", "Nov 24 12:00:00 h kernel: ", "BUG: ", "kernel BUG at ",
      "mm/x.c:12!", "bad pmd ", "(____ptrval____)", "(efffffffff57fe00)", "00000000af22fc02", "WARNING: CPU: 1 PID: 2 at ",
      "Kernel panic - not syncing: ", "Oops: 0000 [#1] ", "general protection fault", "Call Trace:", " <TASK>",
      " foo.isra.0+0x1/0x2", " ? bar+0x1/0x2", "RIP: 0010:", "pc : ", "INFO: task a:1 blocked for more than 2 seconds.",
      "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a:1]", "UBSAN: x in y.c:1:2", "\n", "\r\n", "\x1b[31m",
      "\xff\xfe", std::string(1, '\0'), std::string(300, 'A'), "pmd_clear_bad+0x3c/0x3c", "---[ end trace ",
      "rcu: INFO: rcu_sched self-detected stall on CPU", "Unable to handle kernel NULL pointer dereference",
  };
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    std::string log;
    while (log.size() < 200000) log += pieces[rng() % std::size(pieces)];
    DetectorOptions o;
    o.report_max_bytes = 4096;
    const auto failures = scan_bytes(log, o);
    EXPECT_FALSE(failures.empty());
    for (const auto& f : failures) {
      EXPECT_FALSE(f.kind.empty());
      EXPECT_FALSE(f.title.empty());
      EXPECT_LE(f.title.size(), 160u);
      EXPECT_LE(f.report.size(), 4096u + 64);
      EXPECT_EQ(f.title.find('\x1b'), std::string::npos);
      EXPECT_EQ(f.report.find('\x1b'), std::string::npos);
      EXPECT_GE(f.line, 1u);
    }
  }
}

}  // namespace
}  // namespace numasoak::console
