// A kernel (or a workload set-up) that never exercises the race must not be
// counted as surviving it: the run is an error that says why (issue 10).
// Real kernel, real guest workload; NUMA balancing is switched off in the
// guest and the profile has no migration or uffd-wp stressor, so heartbeats
// arrive but carry no huge-PMD update, THP migration or uffd-wp operation.
#include <gtest/gtest.h>

#include "guest_fixture.h"

namespace numasoak::testing {
namespace {

TEST(NoRaceEvents, RunThatNeverExercisesTheRaceIsAnErrorNotASurvival) {
  auto plan = small_plan(kernel_61(), real_image(), "no-race-events");
  plan.duration = std::chrono::seconds(15);
  plan.workload.profile = "balancing-only";
  plan.workload.knobs["numa_balancing"] = "0";
  const RunResult r = run_to_end(plan, std::chrono::seconds(240));
  EXPECT_EQ(r.verdict, Verdict::kError) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, kinds::kNoRaceEvents) << r.title;
  EXPECT_NE(r.title.find("no race-relevant events"), std::string::npos) << r.title;
  // The workload did run and report: heartbeats, zero race events, time spent.
  ASSERT_TRUE(r.event_totals.count("heartbeats"));
  EXPECT_GT(r.event_totals.at("heartbeats"), 5);
  ASSERT_TRUE(r.event_totals.count("race_events"));
  EXPECT_EQ(r.event_totals.at("race_events"), 0);
  EXPECT_GT(r.exposure_s, 10);
  EXPECT_FALSE(r.time_to_failure_s.has_value());
}

// The control: the same short run with the default profile does exercise
// the race, so the check above is not simply always an error.
TEST(NoRaceEvents, DefaultProfileCountsRaceEvents) {
  auto plan = small_plan(kernel_61_backport(), real_image(), "race-events");
  plan.duration = std::chrono::seconds(15);
  const RunResult r = run_to_end(plan, std::chrono::seconds(240));
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  ASSERT_TRUE(r.event_totals.count("race_events"));
  EXPECT_GT(r.event_totals.at("race_events"), 0);
}

}  // namespace
}  // namespace numasoak::testing
