// `numasoak compare` as a user runs it, with real guests: killed with
// SIGKILL mid-campaign with two guests running and run again, it keeps every
// finished run once, re-runs the two interrupted ones and leaves no QEMU
// behind; Ctrl-C stops it cleanly with a consistent database and says how
// to resume.
#include <gtest/gtest.h>

#include <csignal>

#include "cli_fixture.h"
#include "guest_fixture.h"
#include "store/store.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;

TEST(Campaign, SigkilledHarnessResumesWithoutCountingTwiceOrLeavingQemu) {
  // Two guests at once (2 x 2.5 TCG cores fit 2 cores x 2.5).
  const fs::path dir = write_campaign("killed", 3, "8s", "parallel = 2\noversubscribe = 2.5\n");
  {
    Compare c(dir / "c.toml");
    ASSERT_TRUE(c.wait_for("6.1-1: survived", std::chrono::seconds(300))) << c.log;
    // Wait until a new guest has started next to the one still running.
    size_t running = 0;
    for (int i = 0; i < 3 && running != 2; ++i) {
      ASSERT_TRUE(c.wait_for("started qemu pid", std::chrono::seconds(120))) << c.log;
      running = pids_with_cmdline("numasoak-killed-").size();
    }
    ASSERT_EQ(running, 2u) << "two guests must be running at the kill\n" << c.log;
    // Kill the harness hard with both guests running.
    const auto guests = pids_with_cmdline("numasoak-killed-");
    ::kill(c.child.id(), SIGKILL);
    std::error_code ec;
    c.child.wait(ec);
    // PR_SET_PDEATHSIG takes both guests down with the harness.
    EXPECT_TRUE(all_exit_within(guests, std::chrono::seconds(10))) << "a QEMU outlived the harness";
  }
  EXPECT_TRUE(pids_with_cmdline("numasoak-killed-").empty());
  std::string first_finished_at;
  {
    Store s = Store::open_read_only(dir / "out");
    auto r = s.run("6.1-1");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->state, RunState::kFinished);
    first_finished_at = r->finished_at;
  }

  Compare again(dir / "c.toml");
  const int rc = again.finish(std::chrono::seconds(400));
  EXPECT_EQ(rc, 0) << again.log;
  Store s = Store::open_read_only(dir / "out");
  const auto runs = s.runs();
  ASSERT_EQ(runs.size(), 6u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.state, RunState::kFinished) << r.run_id;
    ASSERT_TRUE(r.verdict.has_value()) << r.run_id;
    EXPECT_EQ(*r.verdict, Verdict::kSurvived) << r.run_id << " " << r.kind << " " << r.title;
  }
  // The run finished before the kill was kept, not re-run.
  EXPECT_EQ(s.run("6.1-1")->finished_at, first_finished_at);
  EXPECT_EQ(s.run("6.1-1")->attempts, 1);
  // The two runs killed with the harness were re-run: each counted once.
  int reran = 0;
  for (const auto& r : runs) reran += r.interruptions;
  EXPECT_EQ(reran, 2);
  EXPECT_EQ(s.finished_runs().size(), 6u);
  int survived = 0;
  for (const auto& k : s.counts()) survived += k.survived;
  EXPECT_EQ(survived, 6);
  EXPECT_TRUE(pids_with_cmdline("numasoak-killed-").empty());
}

TEST(Campaign, CtrlCStopsCleanlyAndSaysHowToResume) {
  const fs::path dir = write_campaign("ctrlc", 2, "60s");
  Compare c(dir / "c.toml");
  ASSERT_TRUE(c.wait_for("campaign ctrlc: 4 runs planned", std::chrono::seconds(300))) << c.log;
  ::kill(c.child.id(), SIGINT);
  const int rc = c.finish(std::chrono::seconds(120));
  EXPECT_EQ(rc, 3) << c.log;
  EXPECT_NE(c.log.find("resume with: numasoak compare"), std::string::npos) << c.log;
  Store s = Store::open_read_only(dir / "out");
  for (const auto& r : s.runs()) {
    // Nothing half-done: a run is queued, interrupted (to re-run) or finished.
    EXPECT_NE(r.state, RunState::kRunning) << r.run_id;
  }
  EXPECT_TRUE(s.finished_runs().empty());
  EXPECT_TRUE(pids_with_cmdline("numasoak-ctrlc-").empty());
  EXPECT_EQ(s.campaign()->status, CampaignStatus::kStopped);
}

}  // namespace
}  // namespace numasoak::testing
