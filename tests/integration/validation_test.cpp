// Can numasoak fail a wrong fix? (issue 16) Real debug kernels, the real
// guest workload with the transitions worker, real consoles:
// - the first stable backport as 6.1.160 took it (6.1+seed-series, NOT A FIX)
//   on a debug kernel is the NULL dereference syzkaller found, named by the
//   detector as KASAN reports it;
// - the right backport on the same debug kernel survives the same workload,
//   which exercised every walker x transition pair the kernel can do;
// - the protection oracle is not a formality: a guest that skips the
//   protection it then checks is a `protection` failure, end to end.
#include <gtest/gtest.h>

#include "guest_fixture.h"
#include "spec/protocol.h"

namespace numasoak::testing {
namespace {

RunPlan transitions_plan(const std::string& kernel, const std::string& id, Duration duration) {
  auto plan = small_plan(kernel_called(kernel), real_image(), id);
  plan.duration = duration;
  plan.workload.profile = "transitions";
  plan.workload.amplify_us = 200;
  plan.workload.amplify_uffd_us = 200;
  // A KASAN + lockdep guest boots in ~30 s under TCG on a loaded host.
  plan.watchdog.boot = std::chrono::minutes(3);
  plan.watchdog.silence = std::chrono::minutes(2);
  return plan;
}

TEST(Validation, SeedSeriesOnADebugKernelIsTheNullDerefThatGotItReverted) {
  const RunResult r = run_to_end(transitions_plan("6.1+seed-series:debug", "seed-series", std::chrono::seconds(60)),
                                 std::chrono::seconds(420));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, "kasan") << r.title;
  EXPECT_EQ(r.title, "KASAN: null-ptr-deref in change_protection");
  ASSERT_FALSE(r.failures.empty());
  // The report is the real one: the lock taken from a none pmd, on a uffd-wp walk.
  EXPECT_NE(r.failures.front().report.find("_raw_spin_lock"), std::string::npos);
  EXPECT_NE(r.failures.front().report.find("uffd_wp_range"), std::string::npos);
}

TEST(Validation, RightBackportOnADebugKernelSurvivesEveryWalkerAndTransition) {
  const RunResult r = run_to_end(transitions_plan("6.1+backport:debug", "backport-debug", std::chrono::seconds(60)),
                                 std::chrono::seconds(420));
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  namespace proto = nsw::protocol;
  int exercised = 0, possible = 0;
  for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
    for (std::size_t t = 0; t < proto::kTransitions.size(); ++t)
      for (std::size_t m = 0; m < proto::kMemory.size(); ++m) {
        if (!proto::matrix_impossible(w, t, m).empty()) continue;
        ++possible;
        const std::string key = "matrix." + std::string(proto::kWalkers[w]) + "." + std::string(proto::kTransitions[t]) +
                                "." + std::string(proto::kMemory[m]);
        ASSERT_TRUE(r.event_totals.count(key)) << key;
        if (r.event_totals.at(key) > 0) ++exercised;
      }
  // All of them, in a minute (45 possible cells; measured: all 45 in 60-90 s).
  EXPECT_GE(exercised, possible - 3) << exercised << " of " << possible;
  EXPECT_GT(r.event_totals.at("oracle_checks"), 5);
  EXPECT_EQ(r.event_totals.at("protection_events"), 0);
}

TEST(Protection, GuestThatSkipsTheProtectionItChecksIsAProtectionFailure) {
  auto plan = transitions_plan("6.1+backport", "skip-protect", std::chrono::seconds(40));
  plan.workload.knobs["oracle_skip_protect"] = "1";
  plan.watchdog.boot = std::chrono::seconds(90);
  const RunResult r = run_to_end(plan, std::chrono::seconds(240));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, kinds::kProtection) << r.title;
  EXPECT_NE(r.title.find("did not trap"), std::string::npos) << r.title;
}

// The control for the test above: the same plain kernel and workload with
// the protection in place is not a protection failure.
TEST(Protection, TheSameGuestWithTheProtectionInPlaceSurvives) {
  const RunResult r = run_to_end(transitions_plan("6.1+backport", "protect", std::chrono::seconds(40)),
                                 std::chrono::seconds(240));
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  EXPECT_GT(r.event_totals.at("oracle_checks"), 5);
}

}  // namespace
}  // namespace numasoak::testing
