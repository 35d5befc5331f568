// Each watchdog and end of a run, proven with a real kernel in a real QEMU
// (TCG): a panic, a silent guest, a guest that never starts its workload,
// QEMU killed under the run, and a clean survival.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "guest_fixture.h"

namespace numasoak::testing {
namespace {

TEST(Watchdogs, SysrqPanicIsAFailedRunOfKindPanic) {
  auto plan = small_plan(kernel_61(), image_with_init("panic"), "panic");
  const RunResult r = run_to_end(plan, std::chrono::seconds(120));
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_EQ(r.kind, "panic");
  EXPECT_NE(r.title.find("sysrq triggered crash"), std::string::npos) << r.title;
  ASSERT_TRUE(r.time_to_failure_s.has_value());
  EXPECT_LT(*r.time_to_failure_s, 30.0);
  ASSERT_TRUE(r.uptime_s.has_value());
  // The console log on disk holds the panic.
  std::ifstream log(r.artifacts.console_log);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Kernel panic - not syncing"), std::string::npos);
}

TEST(Watchdogs, SilentGuestIsAHangWithinTheSilenceTimeout) {
  auto plan = small_plan(kernel_61(), image_with_init("silent"), "silent");
  plan.watchdog.silence = std::chrono::seconds(8);
  plan.duration = std::chrono::minutes(5);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_to_end(plan, std::chrono::seconds(120));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_EQ(r.kind, "hang");
  ASSERT_TRUE(r.time_to_failure_s.has_value());
  EXPECT_GE(*r.time_to_failure_s, 7.0);
  EXPECT_LT(*r.time_to_failure_s, 20.0);
  EXPECT_LT(took, 90.0);
}

TEST(Watchdogs, WorkloadThatNeverStartsIsABootFailureWithTheLastLine) {
  auto plan = small_plan(kernel_61(), image_with_init("noworkload"), "noworkload");
  plan.watchdog.boot = std::chrono::seconds(15);
  const RunResult r = run_to_end(plan, std::chrono::seconds(120));
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(r.kind, "boot-failure");
  EXPECT_NE(r.title.find("last console line"), std::string::npos) << r.title;
}

TEST(Watchdogs, QemuKilledIsLostNotAKernelFailure) {
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "killed");
  plan.duration = std::chrono::minutes(5);
  int killed = 0;
  const RunResult r = run_to_end(plan, std::chrono::seconds(120), [&](boost::asio::io_context&, numasoak::Run&) {
    for (int pid : pids_with_cmdline(plan.guest_name)) {
      if (::kill(pid, SIGKILL) == 0) ++killed;
    }
  });
  EXPECT_EQ(killed, 1);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_EQ(r.kind, "lost");
  EXPECT_NE(r.title.find("signal 9"), std::string::npos) << r.title;
  EXPECT_FALSE(r.time_to_failure_s.has_value());
}

TEST(Watchdogs, ChattyGuestSurvivesItsDuration) {
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "chatty");
  plan.duration = std::chrono::seconds(8);
  plan.workload.profile = "quiet";
  const RunResult r = run_to_end(plan, std::chrono::seconds(120));
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  EXPECT_GE(r.exposure_s, 7.5);
  EXPECT_LT(r.exposure_s, 12.0);
  // No orphan QEMU is left behind.
  EXPECT_TRUE(pids_with_cmdline(plan.guest_name).empty());
}

}  // namespace
}  // namespace numasoak::testing
