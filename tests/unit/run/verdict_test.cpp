// decide_verdict: every way a run ends, from facts alone (no guest, no
// process, no clock).
#include "run/verdict.h"

#include <gtest/gtest.h>

namespace numasoak {
namespace {

using namespace std::chrono_literals;

FailureRecord failure(std::string kind, double host_s, std::optional<double> uptime = std::nullopt) {
  FailureRecord f;
  f.kind = std::move(kind);
  f.title = f.kind + " title";
  f.host_s = host_s;
  f.uptime_s = uptime;
  return f;
}

vm::ExitInfo exit_with(vm::ExitCause cause, std::string reason, std::string stderr_text = "") {
  return vm::ExitInfo{cause, std::move(reason), std::move(stderr_text)};
}

// A run whose workload started and whose guest was stopped on request.
RunFacts started() {
  RunFacts f;
  f.profile = "bad-pmd";
  f.workload_started = true;
  f.saw_heartbeat = true;
  f.race_events_total = 1000;
  f.exit = exit_with(vm::ExitCause::kClean, "stopped");
  return f;
}

TEST(Verdict, ACrashSignatureIsAFailureWithItsTimeToFailure) {
  for (const char* kind : {"bad-pmd", "panic", "oops", "bug", "soft-lockup"}) {
    RunFacts f = started();
    f.failures = {failure(kind, 12.5, 40.25)};
    const RunVerdict v = decide_verdict(f);
    EXPECT_EQ(v.verdict, Verdict::kFailed) << kind;
    EXPECT_EQ(v.kind, kind);
    EXPECT_EQ(v.title, std::string(kind) + " title");
    ASSERT_TRUE(v.time_to_failure_s);
    EXPECT_DOUBLE_EQ(*v.time_to_failure_s, 12.5);
    ASSERT_TRUE(v.uptime_s);
    EXPECT_DOUBLE_EQ(*v.uptime_s, 40.25);
  }
}

TEST(Verdict, FailuresArePutInTheOrderTheyHappenedAndTheFirstIsTheHeadline) {
  RunFacts f = started();
  f.failures = {failure("oops", 20), failure("bad-pmd", 10), failure("panic", 30)};
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.kind, "bad-pmd");
  EXPECT_DOUBLE_EQ(*v.time_to_failure_s, 10);
  ASSERT_EQ(v.failures.size(), 3u);
  EXPECT_EQ(v.failures[0].kind, "bad-pmd");
  EXPECT_EQ(v.failures[1].kind, "oops");
  EXPECT_EQ(v.failures[2].kind, "panic");
}

TEST(Verdict, LostMemoryExplainedByTheKernelWithinTheReportWindowHasTheKernelsHeadline) {
  RunFacts f = started();
  f.report_window = 5s;
  f.failures = {failure(kinds::kIntegrity, 10, std::nullopt), failure("bad-pmd", 12, 33.0)};
  RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.kind, "bad-pmd");
  EXPECT_DOUBLE_EQ(*v.time_to_failure_s, 10);  // the first failure's time
  EXPECT_DOUBLE_EQ(*v.uptime_s, 33.0);
  // Too late to explain it: the lost memory stays the headline.
  f.failures = {failure(kinds::kIntegrity, 10, 21.0), failure("bad-pmd", 16)};
  v = decide_verdict(f);
  EXPECT_EQ(v.kind, kinds::kIntegrity);
  EXPECT_DOUBLE_EQ(*v.uptime_s, 21.0);
  // A hang explains nothing.
  f.failures = {failure(kinds::kIntegrity, 10), failure(kinds::kHang, 11)};
  EXPECT_EQ(decide_verdict(f).kind, kinds::kIntegrity);
}

TEST(Verdict, AFailureDuringBootCountsAsAtWorkloadStart) {
  RunFacts f = started();
  f.workload_started = false;
  f.failures = {failure("panic", -3.0)};
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kFailed);
  EXPECT_DOUBLE_EQ(*v.time_to_failure_s, 0.0);
}

TEST(Verdict, ASilentGuestIsAHangFailure) {
  RunFacts f = started();
  f.failures = {failure(kinds::kHang, 180)};
  f.stop_reason = "silence watchdog";
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kFailed);
  EXPECT_EQ(v.kind, kinds::kHang);
}

TEST(Verdict, AFailureOutranksEverythingElse) {
  RunFacts f = started();
  f.failures = {failure("bad-pmd", 5)};
  f.interrupted = true;
  f.error = RunError{kinds::kInfrastructure, "disk"};
  f.artifacts_error = RunError{kinds::kInfrastructure, "cannot write result.json"};
  f.exit = exit_with(vm::ExitCause::kHostGone, "host-gone: x");
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kFailed);
}

TEST(Verdict, RunningTheWholeDurationIsASurvivalWithNoTimeToFailure) {
  RunFacts f = started();
  f.duration_reached = true;
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kSurvived);
  EXPECT_TRUE(v.kind.empty());
  EXPECT_TRUE(v.title.empty());
  EXPECT_FALSE(v.time_to_failure_s);
  EXPECT_FALSE(v.uptime_s);
}

TEST(Verdict, AWorkloadThatExercisedNothingIsAnErrorNotASurvival) {
  RunFacts f = started();
  f.duration_reached = true;
  f.race_events_total = 0;
  RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kError);
  EXPECT_EQ(v.kind, kinds::kNoRaceEvents);
  // The quiet profile exercises nothing on purpose; no telemetry, no claim.
  f.profile = "quiet";
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kSurvived);
  f.profile = "bad-pmd";
  f.saw_heartbeat = false;
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kSurvived);
}

TEST(Verdict, QemuDyingAfterTheWorkloadStartedIsLost) {
  RunFacts f = started();
  f.exit = exit_with(vm::ExitCause::kCrashed, "killed by signal 9", "qemu: warning\nqemu: fatal: out of memory\n");
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kError);
  EXPECT_EQ(v.kind, kinds::kLost);
  EXPECT_EQ(v.title, "the guest exited unexpectedly (killed by signal 9): qemu: fatal: out of memory");
  EXPECT_FALSE(v.requeued);
}

TEST(Verdict, QemuKilledBeforeTheWorkloadStartedIsLostNotABootFailure) {
  // bench/chaos: SIGKILL of QEMU during boot said nothing about the kernel
  // but was recorded as a boot failure and never re-queued.
  RunFacts f = started();
  f.workload_started = false;
  f.requeue.lost = true;
  f.exit = exit_with(vm::ExitCause::kCrashed, "killed by signal 9");
  f.exit->signal = 9;
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  ASSERT_TRUE(v.requeued);
  EXPECT_EQ(v.requeued->kind, kinds::kLost);
}

TEST(Verdict, QemuThatDiedUnderLibvirtBeforeTheWorkloadStartedIsLostToo) {
  // bench/chaos --backend libvirt: libvirt reports a killed QEMU as
  // "failed: the emulator exited unexpectedly", without the signal.
  RunFacts f = started();
  f.workload_started = false;
  f.requeue.lost = true;
  f.exit = exit_with(vm::ExitCause::kCrashed, "domain stopped (failed: the emulator exited unexpectedly)");
  f.exit->emulator_died = true;
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  ASSERT_TRUE(v.requeued);
  EXPECT_EQ(v.requeued->kind, kinds::kLost);
  // The same stop without the emulator dying (the guest powered itself off
  // or reset during boot) is still the kernel's boot failure.
  f.exit->emulator_died = false;
  EXPECT_EQ(decide_verdict(f).kind, kinds::kBootFailure);
}

TEST(Verdict, AGuestThatEndsBeforeTheWorkloadIsABootFailureWithTheLastConsoleLine) {
  RunFacts f = started();
  f.workload_started = false;
  f.exit = exit_with(vm::ExitCause::kCrashed, "exit status 1");
  f.last_console_line = "Kernel panic - not syncing: VFS";
  RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.kind, kinds::kBootFailure);
  EXPECT_EQ(v.title, "the guest exited unexpectedly (exit status 1); last console line: Kernel panic - not syncing: VFS");
  f.last_console_line.clear();
  f.exit.reset();
  v = decide_verdict(f);
  EXPECT_EQ(v.title, "the guest exited unexpectedly (no exit status); last console line: (none)");
}

TEST(Verdict, TheBootWatchdogsErrorIsKept) {
  RunFacts f = started();
  f.workload_started = false;
  f.error = RunError{kinds::kBootFailure, "the workload did not start within 2m"};
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kError);
  EXPECT_EQ(v.kind, kinds::kBootFailure);
  EXPECT_EQ(v.title, "the workload did not start within 2m");
}

TEST(Verdict, AGuestThatRefusedItsSetupIsAConfigError) {
  RunFacts f = started();
  f.error = RunError{kinds::kConfig, "the guest refused the setup: bad knob"};
  EXPECT_EQ(decide_verdict(f).kind, kinds::kConfig);
}

TEST(Verdict, AHostThatWentAwayInterruptsTheRunWhateverElseHappened) {
  RunFacts f = started();
  f.exit = exit_with(vm::ExitCause::kHostGone, "host-gone: libvirt host qemu:///system went away (keepalive)");
  f.error = RunError{kinds::kInfrastructure, "x"};
  f.interrupted = true;
  f.stop_reason = "stopped by the user";
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  EXPECT_EQ(v.kind, "interrupted");
  EXPECT_EQ(v.title, "host-gone: libvirt host qemu:///system went away (keepalive)");
  // The reason's text decides nothing: only the cause does.
  f.exit = exit_with(vm::ExitCause::kCrashed, "host-gone: look-alike");
  f.interrupted = false;
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kError);
}

TEST(Verdict, StoppedByTheHarnessIsInterrupted) {
  RunFacts f = started();
  f.interrupted = true;
  f.stop_reason = "stopped by the user";
  f.error = RunError{kinds::kInfrastructure, "x"};
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  EXPECT_EQ(v.title, "stopped by the user");
}

TEST(Verdict, ResultsThatCannotBeWrittenAreAnInfrastructureError) {
  RunFacts f = started();
  f.duration_reached = true;
  f.interrupted = true;
  f.artifacts_error = RunError{kinds::kInfrastructure, "cannot write result.json: No space left on device"};
  const RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kError);
  EXPECT_EQ(v.kind, kinds::kInfrastructure);
  EXPECT_EQ(v.title, "cannot write result.json: No space left on device");
}

TEST(Verdict, ACampaignQueuesRunsWithoutEvidenceAgain) {
  RunFacts f = started();
  f.exit = exit_with(vm::ExitCause::kCrashed, "killed by signal 9");
  f.requeue.lost = true;
  RunVerdict v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  EXPECT_EQ(v.kind, "interrupted");
  EXPECT_EQ(v.title, "lost: the guest exited unexpectedly (killed by signal 9)");
  ASSERT_TRUE(v.requeued);
  EXPECT_EQ(v.requeued->kind, kinds::kLost);
  EXPECT_EQ(v.requeued->title, "the guest exited unexpectedly (killed by signal 9)");
  // Out of attempts: the error is kept.
  f.requeue.lost = false;
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kError);
  // A harness that cannot write is queued again too, a boot failure is not.
  f.error = RunError{kinds::kInfrastructure, "cannot write console.log"};
  f.requeue.infrastructure = true;
  v = decide_verdict(f);
  EXPECT_EQ(v.verdict, Verdict::kInterrupted);
  EXPECT_EQ(v.requeued->kind, kinds::kInfrastructure);
  f.error = RunError{kinds::kBootFailure, "no boot"};
  EXPECT_EQ(decide_verdict(f).verdict, Verdict::kError);
}

}  // namespace
}  // namespace numasoak
