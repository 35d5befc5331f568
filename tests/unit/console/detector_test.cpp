#include "console/detector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace numasoak::console {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Feeds lines 1 ms apart from `start`, returns the detector for inspection.
void feed_all(Detector& d, const std::vector<std::string>& lines, Duration start = Duration{0}) {
  Duration t = start;
  for (const auto& l : lines) {
    d.feed(l, t);
    t += milliseconds(1);
  }
}

std::vector<Failure> run(const std::vector<std::string>& lines, DetectorOptions o = {}) {
  Detector d(o);
  feed_all(d, lines);
  d.finish();
  return d.take_completed();
}

const std::vector<std::string> kSeed = {
    "[2437548.196018] mm/pgtable-generic.c:50: bad pmd 00000000af22fc02(dffffffe71fbfe02)",
    "[2437548.235022] Call Trace:",
    "[2437548.238234]  <TASK>",
    "[2437548.241060]  dump_stack_lvl+0x46/0x61",
    "[2437548.245689]  panic+0x106/0x2e5",
    "[2437548.249497]  pmd_clear_bad+0x3c/0x3c",
    "[2437548.253967]  change_pmd_range.isra.0+0x34d/0x3a7",
    "[2437548.259537]  change_p4d_range+0x156/0x20e",
    "[2437548.264392]  change_protection_range+0x116/0x1a9",
};

TEST(Detector, CleanLinesGiveNothing) {
  const auto f = run({"[    0.000000] Linux version 6.1.0", "[    1.871193] Run /init as init process",
                      "[    2.062450] reboot: Power down"});
  EXPECT_TRUE(f.empty());
}

TEST(Detector, SeedTraceIsOneBadPmdInChangePmdRange) {
  const auto f = run(kSeed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "bad-pmd");
  EXPECT_EQ(f[0].title, "bad pmd in change_pmd_range");
  EXPECT_EQ(f[0].guilty_frame, "change_pmd_range");
  EXPECT_EQ(f[0].source, "mm/pgtable-generic.c:50");
  EXPECT_EQ(f[0].line, 1u);
  ASSERT_TRUE(f[0].uptime_s);
  EXPECT_NEAR(*f[0].uptime_s, 2437548.196018, 1e-6);
  EXPECT_EQ(f[0].report_lines, kSeed.size());
  EXPECT_EQ(f[0].followed_by, std::vector<std::string>{"pmd-clear-bad"});  // joined, not counted twice
  EXPECT_FALSE(f[0].ends_run());
}

TEST(Detector, GuiltyFrameSkipsQuestionableFrames) {
  const auto f = run({"[1.0] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)", "[1.0] Call Trace:",
                      "[1.0]  <TASK>", "[1.0]  ? stale_function+0x1/0x2", "[1.0]  dump_stack_lvl+0x46/0x61",
                      "[1.0]  real_caller+0x10/0x20"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].guilty_frame, "real_caller");
}

TEST(Detector, BadPmdWithoutTraceHasPlainTitle) {
  const auto f = run({"[27.5] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)",
                      "numasoak-workload: toucher 2 ok", "[28.0] random: crng init done"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "bad pmd");
  EXPECT_EQ(f[0].guilty_frame, "");
  EXPECT_EQ(f[0].report_lines, 3u);
}

TEST(Detector, FirstMarkerIsKnownBeforeTheReportCompletes) {
  Detector d;
  d.feed("[ 1.0] booting", seconds(1));
  EXPECT_FALSE(d.first_marker());
  d.feed(kSeed[0], seconds(2));
  ASSERT_TRUE(d.first_marker());
  EXPECT_EQ(d.first_marker()->kind, "bad-pmd");
  EXPECT_EQ(d.first_marker()->title, "bad pmd");  // provisional: no frame yet
  EXPECT_EQ(d.first_marker()->line, 2u);
  EXPECT_EQ(d.first_marker()->host_time, seconds(2));
  EXPECT_TRUE(d.take_completed().empty());
  EXPECT_TRUE(d.collecting());
  const auto markers = d.take_markers();
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_TRUE(d.take_markers().empty());
}

TEST(Detector, ReportCompletesAfterTheWindow) {
  DetectorOptions o;
  o.report_window = seconds(5);
  Detector d(o);
  d.feed(kSeed[0], seconds(10));
  d.feed("[x] within the window", seconds(12));
  d.advance(milliseconds(14999));
  EXPECT_TRUE(d.take_completed().empty());
  d.advance(seconds(15));
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].report_lines, 2u);
  // A line after the window is not attached to anything.
  d.feed("[x] too late", seconds(16));
  d.finish();
  EXPECT_TRUE(d.take_completed().empty());
}

TEST(Detector, LateLineCompletesTheReportBeforeItIsConsidered) {
  Detector d;
  d.feed(kSeed[0], seconds(0));
  d.feed("[x] after window, fed without advance()", seconds(6));
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].report.find("after window"), std::string::npos);
}

TEST(Detector, ReportCompletesAfterMaxLines) {
  DetectorOptions o;
  o.report_max_lines = 10;
  Detector d(o);
  d.feed(kSeed[0], Duration{0});
  for (int i = 0; i < 8; ++i) d.feed("[x] line " + std::to_string(i), Duration{0});
  EXPECT_TRUE(d.take_completed().empty());
  d.feed("[x] tenth", Duration{0});
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].report_lines, 10u);
  EXPECT_FALSE(d.collecting());
}

TEST(Detector, ReportTextIsBounded) {
  DetectorOptions o;
  o.report_max_bytes = 1000;
  Detector d(o);
  d.feed(kSeed[0], Duration{0});
  for (int i = 0; i < 100; ++i) d.feed(std::string(100, 'q'), Duration{0});
  d.finish();
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_LE(f[0].report.size(), 1000u + 64);
  EXPECT_NE(f[0].report.find("truncated"), std::string::npos);
  EXPECT_EQ(f[0].report_lines, 101u);
}

TEST(Detector, CallerIdsKeepInterleavedReportsApart) {
  const auto f = run({
      "[1.000][ T100] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)",
      "[1.001][  T200] INFO: task numasoak-work:200 blocked for more than 2 seconds.",
      "[1.002][ T100] Call Trace:",
      "[1.003][  T200] Call Trace:",
      "[1.004][  T200]  <TASK>",
      "[1.005][  T200]  __schedule+0x1/0x2",
      "[1.006][  T200]  schedule+0x1/0x2",
      "[1.007][ T100]  <TASK>",
      "[1.008][ T100]  pmd_clear_bad+0x3c/0x3c",
      "[1.009][  T200]  rwsem_down_write_slowpath+0x1/0x2",
      "[1.010][  T200]  do_truncate+0x1/0x2",
      "[1.011][ T100]  change_pmd_range.isra.0+0x34d/0x3a7",
      "[1.012][    C1] unrelated line from CPU 1",
      "no caller id: attached to both",
  });
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].kind, "bad-pmd");
  EXPECT_EQ(f[0].title, "bad pmd in change_pmd_range");
  EXPECT_EQ(f[0].caller, "T100");
  EXPECT_EQ(f[1].kind, "hung-task");
  EXPECT_EQ(f[1].title, "INFO: task hung in do_truncate");
  EXPECT_EQ(f[1].caller, "T200");
  EXPECT_EQ(f[0].report.find("T200"), std::string::npos);
  EXPECT_EQ(f[1].report.find("T100"), std::string::npos);
  EXPECT_EQ(f[0].report.find("CPU 1"), std::string::npos);
  EXPECT_NE(f[0].report.find("no caller id"), std::string::npos);
  EXPECT_NE(f[1].report.find("no caller id"), std::string::npos);
}

TEST(Detector, OopsThenPanicIsOneFatalFailure) {
  const auto f = run({
      "[5.0] BUG: kernel NULL pointer dereference, address: 0000000000000008",
      "[5.0] #PF: supervisor read access in kernel mode",
      "[5.0] Oops: 0000 [#1] PREEMPT SMP NOPTI",
      "[5.0] CPU: 0 PID: 231 Comm: numasoak-uffd Not tainted 6.1.160 #1",
      "[5.0] RIP: 0010:change_pte_range+0x5c/0x4a0",
      "[5.0] Call Trace:",
      "[5.0]  <TASK>",
      "[5.0]  change_protection+0x2b0/0x3a0",
      "[5.0]  uffd_wp_range+0x5c/0x90",
      "[5.0]  </TASK>",
      "[5.0] ---[ end trace 0000000000000000 ]---",
      "[5.0] Kernel panic - not syncing: Fatal exception",
      "[5.0] Kernel Offset: disabled",
      "[5.0] ---[ end Kernel panic - not syncing: Fatal exception ]---",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "bug");
  EXPECT_EQ(f[0].title, "BUG: kernel NULL pointer dereference in change_pte_range");
  EXPECT_EQ(f[0].followed_by, (std::vector<std::string>{"oops", "panic"}));
  EXPECT_TRUE(f[0].ends_run());
  EXPECT_EQ(f[0].report_lines, 14u);
}

TEST(Detector, KernelBugUsesTheFaultingFunction) {
  const auto f = run({
      "[9.0] ------------[ cut here ]------------",
      "[9.0] kernel BUG at mm/huge_memory.c:2123!",
      "[9.0] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
      "[9.0] RIP: 0010:__split_huge_pmd+0x9a/0x1e0",
      "[9.0] Call Trace:",
      "[9.0]  split_huge_pmd_address+0x3c/0x50",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "kernel-bug");
  EXPECT_EQ(f[0].title, "kernel BUG in __split_huge_pmd");
  EXPECT_EQ(f[0].source, "mm/huge_memory.c:2123");
  EXPECT_EQ(f[0].line, 2u);
}

TEST(Detector, WarningIsOneFailureWithItsEndTrace) {
  const auto f = run({
      "[0.0] ------------[ cut here ]------------",
      "[0.0] WARNING: CPU: 1 PID: 0 at arch/x86/kernel/smpboot.c:432 topology_sane.isra.0+0x6b/0x80",
      "[0.0] RIP: 0010:topology_sane.isra.0+0x6b/0x80",
      "[0.0] Call Trace:",
      "[0.0]  <TASK>",
      "[0.0]  set_cpu_sibling_map+0x1df/0x660",
      "[0.0]  </TASK>",
      "[0.0] ---[ end trace 0000000000000000 ]---",
      "[0.5] smp: Brought up 2 nodes, 2 CPUs",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "WARNING in topology_sane");
  EXPECT_EQ(f[0].source, "arch/x86/kernel/smpboot.c:432");
  EXPECT_EQ(f[0].severity, Severity::kWarning);
}

TEST(Detector, SoftLockupTitleIsStableAcrossRuns) {
  auto lockup = [](const char* cpu, const char* secs, const char* comm) {
    return run({std::string("[50.0] watchdog: BUG: soft lockup - CPU#") + cpu + " stuck for " + secs + "s! [" + comm +
                    "]",
                "[50.0] Modules linked in:", "[50.0] RIP: 0010:lkdtm_SOFTLOCKUP+0x10/0x20",
                "[50.0] Call Trace:", "[50.0]  lkdtm_do_action+0x1/0x2"});
  };
  const auto a = lockup("0", "22", "sh:101");
  const auto b = lockup("1", "48", "cat:2345");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].title, "BUG: soft lockup in lkdtm_SOFTLOCKUP");
  EXPECT_EQ(a[0].title, b[0].title);
}

TEST(Detector, SoftLockupWithoutFrameKeepsANormalisedTitle) {
  const auto f = run({"watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [stress-ng:123]"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "BUG: soft lockup");
}

TEST(Detector, NewMarkerFromTheSamePrinterEndsThePreviousReport) {
  const auto f = run({
      "[27.5] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)",
      "[27.6] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff3bfe00)",
      "[27.7] BUG: Bad rss-counter state mm:00000000c1b5e6a4 type:MM_ANONPAGES val:-512",
  });
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].report_lines, 1u);
  EXPECT_EQ(f[1].report_lines, 1u);
  EXPECT_EQ(f[2].kind, "bad-rss");
  EXPECT_EQ(f[0].line, 1u);
  EXPECT_EQ(f[2].line, 3u);
}

TEST(Detector, PanicWithoutOpenReportIsItsOwnFailure) {
  const auto f = run({"[1.9] sysrq: Trigger a crash", "[1.9] Kernel panic - not syncing: sysrq triggered crash",
                      "[1.9] Call Trace:", "[1.9]  dump_stack_lvl+0x44/0x5c", "[1.9]  panic+0x118/0x2f4",
                      "[1.9]  ? _printk+0x68/0x83", "[1.9]  sysrq_handle_crash+0x16/0x20"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "kernel panic: sysrq triggered crash");
  EXPECT_EQ(f[0].guilty_frame, "sysrq_handle_crash");
  EXPECT_TRUE(f[0].ends_run());
}

TEST(Detector, OpenReportsAreBounded) {
  DetectorOptions o;
  o.max_open_reports = 2;
  Detector d(o);
  d.feed("[1.0][ T1] BUG: Bad page state in process a", Duration{0});
  d.feed("[1.0][ T2] BUG: Bad page state in process b", Duration{0});
  EXPECT_TRUE(d.take_completed().empty());
  d.feed("[1.0][ T3] BUG: Bad page state in process c", Duration{0});
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].caller, "T1");
}

TEST(Detector, CompletedFailuresComeInLineOrder) {
  DetectorOptions o;
  o.report_max_lines = 2;
  Detector d(o);
  d.feed("[1.0][ T1] BUG: Bad page state in process a", Duration{0});
  d.feed("[1.0][ T2] BUG: Bad page state in process b", Duration{0});
  d.feed("[1.0][ T2] second line of b: b completes first", Duration{0});
  d.finish();
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].caller, "T1");
  EXPECT_EQ(f[1].caller, "T2");
}

TEST(Detector, WarningWithoutFileTakesTheFunctionFromTheMarker) {
  const auto f = run({"[1.0] WARNING: CPU: 0 PID: 1 at change_pte_range.constprop.0+0x1/0x2",
                      "[1.0] RIP: 0010:something_else+0x1/0x2"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "WARNING in change_pte_range");
  EXPECT_EQ(f[0].source, "");
}

TEST(Detector, HungTaskSkipsSchedulerFrames) {
  const auto f = run({"[9.0] INFO: task numasoak-work:214 blocked for more than 2 seconds.",
                      "[9.0]       Not tainted 6.1.192 #1", "[9.0] task:numasoak-work state:D stack:0 pid:214",
                      "[9.0] Call Trace:", "[9.0]  <TASK>", "[9.0]  __schedule+0x2e2/0x8a0", "[9.0]  schedule+0x5a/0xd0",
                      "[9.0]  rwsem_down_write_slowpath+0x31e/0x6e0", "[9.0]  down_write+0x5c/0x60",
                      "[9.0]  do_truncate+0x7a/0xd0", "[9.0]  path_openat+0x8a3/0xdf0"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "INFO: task hung in do_truncate");
}

TEST(Detector, PmdClearBadInATraceWithoutBadPmdLine) {
  // A debugging dump_stack() in pmd_clear_bad, without the pr_err line.
  const auto f = run({"[3.0][ T77] CPU: 1 PID: 77 Comm: numasoak-work Not tainted 6.1.192 #1",
                      "[3.0][ T77] Call Trace:", "[3.0][ T77]  <TASK>", "[3.0][ T77]  dump_stack_lvl+0x46/0x61",
                      "[3.0][ T77]  pmd_clear_bad+0x3c/0x3c", "[3.0][ T77]  change_pmd_range.isra.0+0x34d/0x3a7",
                      "[3.0][ T77]  change_p4d_range+0x156/0x20e"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "pmd-clear-bad");
  EXPECT_EQ(f[0].title, "pmd_clear_bad in change_pmd_range");
  EXPECT_EQ(f[0].line, 5u);
}

TEST(Detector, ReportTextIsNeutralised) {
  Detector d;
  d.feed(kSeed[0], Duration{0});
  d.feed("evil \x1b]0;title\x07 line", Duration{0});
  d.finish();
  auto f = d.take_completed();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].report.find('\x1b'), std::string::npos);
}

// Issue 17 ---------------------------------------------------------------------------------------

TEST(Detector, WarningAfterALeadMessageIsThatMessagesReport) {
  const auto f = run({
      "[   12.1][   T83] ------------[ cut here ]------------",
      "[   12.1][   T83] refcount_t: underflow; use-after-free.",
      "[   12.1][   T83] WARNING: CPU: 0 PID: 83 at lib/refcount.c:28 refcount_warn_saturate+0x97/0x110",
      "[   12.1][   T83] RIP: 0010:refcount_warn_saturate+0x97/0x110",
      "[   12.1][   T83] Call Trace:",
      "[   12.1][   T83]  <TASK>",
      "[   12.1][   T83]  lkdtm_REFCOUNT_DEC_NEGATIVE+0x56/0x70",
      "[   12.1][   T83]  lkdtm_do_action+0x11/0x20",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "refcount");
  EXPECT_EQ(f[0].title, "refcount_t: underflow; use-after-free in lkdtm_REFCOUNT_DEC_NEGATIVE");
  EXPECT_EQ(f[0].source, "lib/refcount.c:28");
  EXPECT_EQ(f[0].followed_by, std::vector<std::string>{"warning"});
}

TEST(Detector, KasanRangeRetitlesTheGeneralProtectionFault) {
  const auto f = run({
      "[   20.0][   T90] general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN",
      "[   20.0][   T90] KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]",
      "[   20.0][   T90] CPU: 1 PID: 90 Comm: sh Not tainted 6.1.192+ #2",
      "[   20.0][   T90] RIP: 0010:_raw_spin_lock+0x1b/0x40",
      "[   20.0][   T90] Call Trace:",
      "[   20.0][   T90]  <TASK>",
      "[   20.0][   T90]  change_pmd_range.isra.0+0x1a2/0x9c0",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "kasan");
  EXPECT_EQ(f[0].title, "KASAN: null-ptr-deref in change_pmd_range");  // past the lock wrapper
  EXPECT_EQ(f[0].severity, Severity::kFatal);
}

TEST(Detector, LockWrapperIsTheFrameOnlyWhenNothingElseIs) {
  const auto f = run({
      "[ 20.0] BUG: kernel NULL pointer dereference, address: 0000000000000000",
      "[ 20.0] RIP: 0010:_raw_spin_lock+0x1b/0x40",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "BUG: kernel NULL pointer dereference in _raw_spin_lock");
}

TEST(Detector, LockdepTitleComesFromTheBacktracePastLockFrames) {
  std::vector<std::string> lines = {
      "[ 30.0] ============================================",
      "[ 30.0] WARNING: possible recursive locking detected",
      "[ 30.0] --------------------------------------------",
      "[ 30.0] sh/83 is trying to acquire lock:",
      "[ 30.0] ffffffff82a0b0c0 (lock_me_up){+.+.}-{2:2}, at: lkdtm_SPINLOCKUP+0x1d/0x40",
  };
  for (int i = 0; i < 80; ++i) lines.push_back("[ 30.0]        filler line of the dependency chain");
  for (const char* l : {"[ 30.0] stack backtrace:", "[ 30.0] Call Trace:", "[ 30.0]  <TASK>", "[ 30.0]  dump_stack_lvl+0x5b/0x77",
                        "[ 30.0]  __lock_acquire.cold+0x12/0x2b", "[ 30.0]  lock_acquire+0xc4/0x2d0",
                        "[ 30.0]  _raw_spin_lock+0x2f/0x40", "[ 30.0]  lkdtm_SPINLOCKUP+0x1d/0x40",
                        "[ 30.0]  lkdtm_do_action+0x11/0x20"}) {
    lines.emplace_back(l);
  }
  const auto f = run(lines);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "lockdep");
  EXPECT_EQ(f[0].title, "possible deadlock in lkdtm_SPINLOCKUP");
}

TEST(Detector, LockdepWithoutBacktraceNamesWhereTheLockWasTaken) {
  const auto f = run({
      "[ 30.0] WARNING: lock held when returning to user space!",
      "[ 30.0] ------------------------------------------------",
      "[ 30.0] sh/83 is leaving the kernel with locks still held!",
      "[ 30.0] 1 lock held by sh/83:",
      "[ 30.0]  #0: ffffffff82a0b0c0 (lock_me_up){+.+.}-{2:2}, at: lkdtm_SPINLOCKUP+0x1d/0x40",
  });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "lock held when returning to user space in lkdtm_SPINLOCKUP");
}

TEST(Detector, SecondBootBannerWithoutAReportIsAnUnexpectedReboot) {
  const std::string banner = "[    0.000000] Linux version 6.1.192+ (root@vm) (gcc 12.2.0, GNU ld 2.40) #2 SMP Tue Nov 24";
  // One boot: nothing. A program printing /proc/version mid-run (not at uptime 0): nothing.
  EXPECT_TRUE(run({banner, "[    5.0] numasoak: workload started",
                   "[    6.0] Linux version 6.1.192+ (root@vm) (gcc 12.2.0) #2 SMP"}).empty());
  // A reboot after a panic is the panic's consequence.
  const auto after_panic = run({banner, "[    5.0] Kernel panic - not syncing: sysrq triggered crash", banner});
  ASSERT_EQ(after_panic.size(), 1u);
  EXPECT_EQ(after_panic[0].kind, "panic");
  // A reboot with nothing before it is a failure, and it ends the run; a guest that reboots again with
  // nothing said (the first unexpected-reboot report explains nothing) fails once per reboot.
  const auto silent = run({banner, "[    5.0] numasoak: workload started", banner, "[    0.000000] Command line: x", banner});
  ASSERT_EQ(silent.size(), 2u);
  EXPECT_EQ(silent[0].kind, "unexpected-reboot");
  EXPECT_EQ(silent[0].title, "unexpected kernel reboot");
  EXPECT_EQ(silent[0].line, 3u);
  EXPECT_TRUE(silent[0].ends_run());
  EXPECT_EQ(silent[1].kind, "unexpected-reboot");
  EXPECT_EQ(silent[1].line, 5u);
  // The panic explains the reboot after it, not the one after that.
  const auto explained = run({banner, "[    5.0] Kernel panic - not syncing: x", banner, banner});
  ASSERT_EQ(explained.size(), 2u);
  EXPECT_EQ(explained[0].kind, "panic");
  EXPECT_EQ(explained[1].kind, "unexpected-reboot");
  EXPECT_EQ(explained[1].line, 4u);
}

TEST(Detector, LeadJoinsOnlyTheWarningRightAfterIt) {
  const auto f = run({
      "[ 12.1] list_del corruption, ffff888004b1fd70->next is LIST_POISON1 (dead000000000100)",
      "[ 12.1] WARNING: CPU: 0 PID: 83 at lib/list_debug.c:56 __list_del_entry_valid+0x9f/0xc0",
      "[ 12.1] Call Trace:",
      "[ 12.1]  __list_del_entry_valid+0x9f/0xc0",
      "[ 12.1]  lkdtm_CORRUPT_LIST_DEL+0x90/0xd0",
      "[ 12.2] WARNING: CPU: 0 PID: 83 at mm/mprotect.c:12 change_pte_range+0x1/0x2",
  });
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].title, "list_del corruption in lkdtm_CORRUPT_LIST_DEL");
  EXPECT_EQ(f[1].title, "WARNING in change_pte_range");
}

// 6.12's SLUB report: what was overwritten, the BUG line, the object dump (longer than report_max_lines),
// then a WARNING at mm/slub.c and the Call Trace: one failure, titled as 6.1 titles it.
TEST(Detector, SlubReportKeepsItsDumpAndItsWarningTogether) {
  std::vector<std::string> lines = {
      "[ 2.5] [Poison overwritten] 0xffff888000d9ce00-0xffff888000d9ce03 @offset=19968. First byte 0xf0 instead of 0x6b",
      "[ 2.5] =============================================================================",
      "[ 2.5] BUG kmalloc-1k (Not tainted): Object corrupt",
  };
  for (int i = 0; i < 300; ++i) {
    lines.push_back("[ 2.5] Object   ffff888000d9cc00: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk");
  }
  for (const char* l : {"[ 2.5] WARNING: CPU: 0 PID: 1 at mm/slub.c:1127 object_err+0x24e/0x330",
                        "[ 2.5] RIP: 0010:object_err+0x24e/0x330", "[ 2.5] Call Trace:", "[ 2.5]  <TASK>",
                        "[ 2.5]  check_bytes_and_report+0x157/0x170", "[ 2.5]  get_partial_node.part.0+0x157/0x230",
                        "[ 2.5]  __kmalloc_cache_noprof+0xf7/0x180", "[ 2.5]  lkdtm_WRITE_AFTER_FREE+0x71/0xa0",
                        "[ 2.5]  </TASK>"}) {
    lines.push_back(l);
  }
  const auto f = run(lines);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "slab");
  EXPECT_EQ(f[0].title, "SLUB: Poison overwritten in lkdtm_WRITE_AFTER_FREE");
  EXPECT_EQ(f[0].report_lines, lines.size());
  // Lines that are not the dump still count: a report without a dump ends at report_max_lines.
  std::vector<std::string> chatter = {"[ 3.0] BUG kmalloc-64 (Not tainted): Poison overwritten"};
  for (int i = 0; i < 300; ++i) chatter.push_back("[ 3.0] some other line " + std::to_string(i));
  chatter.push_back("[ 3.0] WARNING: CPU: 0 PID: 1 at mm/slub.c:1127 object_err+0x24e/0x330");
  const auto g = run(chatter);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].report_lines, DetectorOptions{}.report_max_lines);
  EXPECT_EQ(g[1].kind, "warning");
  // A WARNING from elsewhere, later in an open SLUB report, is a failure of its own.
  const auto h = run({"[ 4.0] BUG kmalloc-64 (Not tainted): Poison overwritten", "[ 4.0] a", "[ 4.0] b", "[ 4.0] c",
                      "[ 4.0] d", "[ 4.0] e", "[ 4.0] f", "[ 4.0] g", "[ 4.0] h", "[ 4.0] i", "[ 4.0] j", "[ 4.0] k",
                      "[ 4.0] l", "[ 4.0] WARNING: CPU: 0 PID: 1 at mm/mprotect.c:12 change_pte_range+0x1/0x2"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].title, "WARNING in change_pte_range");
}

// KASAN reports a NULL access before it runs; the page fault that follows in the same task is part of that
// report and makes it fatal. After a use-after-free report (the access does not fault) or from another
// task, a NULL dereference is a failure of its own.
TEST(Detector, KasanNullDerefTakesTheFaultThatFollowsInTheSameTask) {
  const std::vector<std::string> kasan = {
      "[ 40.0][  T61] ==================================================================",
      "[ 40.0][  T61] BUG: KASAN: null-ptr-deref in __lock_acquire+0xc0/0x32a0",
      "[ 40.0][  T61] Call Trace:",
      "[ 40.0][  T61]  kasan_report+0xd7/0x180",
      "[ 40.0][  T61]  __lock_acquire+0xc0/0x32a0",
      "[ 40.0][  T61]  change_protection+0x1a2/0x2b0",
      "[ 40.0][  T61] ==================================================================",
  };
  auto same = kasan;
  same.push_back("[ 40.0][  T61] BUG: kernel NULL pointer dereference, address: 0000000000000018");
  same.push_back("[ 40.0][  T61] Oops: 0000 [#1] PREEMPT SMP KASAN");
  const auto f = run(same);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "KASAN: null-ptr-deref in change_protection");
  EXPECT_TRUE(f[0].ends_run());
  auto other = kasan;
  other.push_back("[ 40.0][  T60] BUG: kernel NULL pointer dereference, address: 0000000000000018");
  EXPECT_EQ(run(other).size(), 2u);
  auto uaf = kasan;
  uaf[1] = "[ 40.0][  T61] BUG: KASAN: slab-use-after-free in change_protection+0x1a2/0x2b0";
  uaf.push_back("[ 40.0][  T61] BUG: kernel NULL pointer dereference, address: 0000000000000018");
  const auto g = run(uaf);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_FALSE(g[0].ends_run());
}

}  // namespace
}  // namespace numasoak::console
