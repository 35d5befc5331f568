// `numasoak compare` as a user runs it, with real guests: killed with
// SIGKILL mid-campaign and run again, it keeps every finished run once,
// re-runs the interrupted one and leaves no QEMU behind; Ctrl-C stops it
// cleanly with a consistent database and says how to resume.
#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/process.hpp>
#include <csignal>
#include <fstream>

#include "guest_fixture.h"
#include "store/store.h"

namespace numasoak::testing {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;

fs::path write_campaign(const std::string& name, int runs, const std::string& duration) {
  const fs::path dir = fs::temp_directory_path() / ("numasoak-campaign-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "c.toml") << "name = \"" << name << "\"\n"
                                << "kernels = [\"6.1\", \"6.1+backport\"]\n"
                                << "runs_per_kernel = " << runs << "\n"
                                << "duration = \"" << duration << "\"\n"
                                << "accel = \"tcg\"\n"
                                << "output = \"" << (dir / "out").string() << "\"\n"
                                << "[workload]\nprofile = \"quiet\"\n";
  return dir;
}

// Starts `numasoak compare FILE`, reads its stderr line by line and calls
// `on_line` for each until it returns true (then returns the child, still
// running) or the stream ends. Every line goes to `log`.
struct Compare {
  boost::asio::io_context io;
  bp::async_pipe err{io};
  bp::child child;
  std::string log;
  explicit Compare(const fs::path& file)
      : child(bp::exe = NUMASOAK_CLI, bp::args = {"-v", "compare", file.string()}, bp::std_out > bp::null,
              bp::std_err > err, io) {}

  // Reads until `want` appears in a line or `limit` passes; true when found.
  bool wait_for(const std::string& want, std::chrono::seconds limit) {
    boost::asio::streambuf buf;
    bool found = false, done = false;
    std::function<void()> read = [&] {
      boost::asio::async_read_until(err, buf, '\n', [&](const boost::system::error_code& ec, size_t n) {
        if (ec) {
          done = true;
          return;
        }
        std::string line(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_begin(buf.data()) + n);
        buf.consume(n);
        log += line;
        if (line.find(want) != std::string::npos) {
          found = true;
          return;
        }
        read();
      });
    };
    read();
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!found && !done && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
    return found;
  }

  int finish(std::chrono::seconds limit) {
    wait_for("\x01never\x01", limit);  // drain stderr to EOF
    std::error_code ec;
    child.wait(ec);
    return child.exit_code();
  }
};

TEST(Campaign, SigkilledHarnessResumesWithoutCountingTwiceOrLeavingQemu) {
  const fs::path dir = write_campaign("killed", 2, "8s");
  {
    Compare c(dir / "c.toml");
    ASSERT_TRUE(c.wait_for("6.1-1: survived", std::chrono::seconds(300))) << c.log;
    // The next run is being started or running now: kill the harness hard.
    ::kill(c.child.id(), SIGKILL);
    std::error_code ec;
    c.child.wait(ec);
  }
  // PR_SET_PDEATHSIG took the guest down with the harness.
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
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.state, RunState::kFinished) << r.run_id;
    ASSERT_TRUE(r.verdict.has_value()) << r.run_id;
    EXPECT_EQ(*r.verdict, Verdict::kSurvived) << r.run_id << " " << r.kind << " " << r.title;
  }
  // The run finished before the kill was kept, not re-run.
  EXPECT_EQ(s.run("6.1-1")->finished_at, first_finished_at);
  EXPECT_EQ(s.run("6.1-1")->attempts, 1);
  // Every run counted once.
  EXPECT_EQ(s.finished_runs().size(), 4u);
  int survived = 0;
  for (const auto& k : s.counts()) survived += k.survived;
  EXPECT_EQ(survived, 4);
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
