// Scheduler: the one place runs start, driven here through a fake backend
// whose guests are timers (no child process, no QEMU): how many run at once,
// the backend's room, waiting for capacity, placement, and stop().
#include "run/scheduler.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "vm/loop.h"

namespace numasoak {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A backend whose guests live `life` and then power off; it counts how
/// many run at once and can be made full.
class FakeBackend : public vm::Backend {
 public:
  explicit FakeBackend(boost::asio::io_context& io, std::chrono::milliseconds life) : io_(io), life_(life) {}

  /// A guest that is a timer.
  class FakeGuest : public vm::Guest {
   public:
    FakeGuest(FakeBackend& b, vm::GuestHandlers h) : b_(b), h_(std::move(h)), timer_(b.io_) {
      ++b_.live;
      b_.peak = std::max(b_.peak, b_.live);
      timer_.expires_after(b_.life_);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) exit("powered off");
      });
    }
    ~FakeGuest() override {
      *alive_ = false;
      if (!exited_) --b_.live;
    }
    void stop(std::chrono::milliseconds) override {
      timer_.cancel();
      boost::asio::post(b_.io_, [this, alive = alive_] {
        if (*alive) exit("stopped on request");
      });
    }
    std::string command() const override { return "[\"fake\"]"; }

   private:
    void exit(const std::string& why) {
      if (exited_) return;
      exited_ = true;
      --b_.live;
      h_.on_exit(vm::ExitInfo{vm::ExitCause::kClean, why, "", 0});
    }
    FakeBackend& b_;
    vm::GuestHandlers h_;
    boost::asio::steady_timer timer_;
    bool exited_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  };

  std::string name() const override { return "fake"; }
  std::unique_ptr<vm::Guest> start(const vm::GuestSpec& spec, vm::GuestHandlers handlers) override {
    names.push_back(spec.name);
    return std::make_unique<FakeGuest>(*this, std::move(handlers));
  }
  std::optional<int> capacity(const Topology&) const override { return room; }
  bool can_start(const Topology&) const override { return open && (!room || live < *room); }
  void on_capacity(std::function<void()> cb) override { capacity_cb = std::move(cb); }
  vm::Placement place(const Topology&, const fs::path&, vm::Accel requested) const override {
    return {std::string("fakehost"), requested == vm::Accel::kKvm ? vm::Accel::kTcg : requested};
  }
  // Room again: tell the scheduler, as a libvirt pool does when a host comes back.
  void reopen() {
    open = true;
    if (capacity_cb) capacity_cb();
  }

  int live = 0, peak = 0;
  bool open = true;
  std::optional<int> room;
  std::vector<std::string> names;
  std::function<void()> capacity_cb;

 private:
  boost::asio::io_context& io_;
  std::chrono::milliseconds life_;
};

struct SchedulerTest : ::testing::Test {
  void SetUp() override {
    dir = fs::temp_directory_path() / ("numasoak-scheduler-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::vector<RunPlan> plans(int n, vm::Accel accel = vm::Accel::kTcg) {
    std::vector<RunPlan> out;
    for (int i = 0; i < n; ++i) {
      RunPlan p;
      p.run_id = "k-" + std::to_string(i + 1);
      p.guest_name = "numasoak-test-" + p.run_id;
      p.kernel = "k";
      p.out_dir = dir / p.run_id;
      p.topology.nodes = {NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}};
      p.duration = 10s;
      p.accel = accel;
      p.stop_grace = 1s;
      out.push_back(p);
    }
    return out;
  }
  Topology topo() const { return Topology{{NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}}}; }

  fs::path dir;
  boost::asio::io_context io;
};

/// A PlanList that also records what the scheduler told it.
struct RecordingList : PlanList {
  using PlanList::PlanList;
  void finished(const RunPlan& plan, const RunResult& result, const RunTiming& timing) override {
    seen.push_back(plan);
    PlanList::finished(plan, result, timing);
  }
  void idle(bool blocked) override {
    idles.push_back(blocked);
    PlanList::idle(blocked);
  }
  std::vector<RunPlan> seen;
  std::vector<bool> idles;
};

TEST_F(SchedulerTest, RunsEveryPlanAtMostLimitAtOnceAndRecordsThePlacement) {
  FakeBackend backend(io, 30ms);
  RecordingList list(plans(5, vm::Accel::kKvm));
  Scheduler s(io, backend, list, topo(), 2);
  s.start();
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return list.done(); }));
  EXPECT_EQ(backend.peak, 2);
  EXPECT_EQ(backend.live, 0);
  EXPECT_EQ(backend.names.size(), 5u);
  ASSERT_EQ(list.seen.size(), 5u);
  for (const auto& p : list.seen) {
    EXPECT_EQ(p.host, "fakehost");
    EXPECT_EQ(p.accel, vm::Accel::kTcg);  // what the place gave, not what was asked
  }
  for (const auto& r : list.results()) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "fakehost");
  }
  for (const auto& t : list.timings()) {
    ASSERT_TRUE(t);
    EXPECT_GE(t->ended, t->started);
  }
  EXPECT_EQ(list.idles, std::vector<bool>{false});
}

TEST_F(SchedulerTest, TheBackendsRoomLowersTheLimit) {
  FakeBackend backend(io, 20ms);
  backend.room = 1;
  PlanList list(plans(3));
  Scheduler s(io, backend, list, topo(), 4);
  EXPECT_EQ(s.limit(), 1);
  s.start();
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return list.done(); }));
  EXPECT_EQ(backend.peak, 1);
  EXPECT_EQ(list.finished_count(), 3u);
}

TEST_F(SchedulerTest, AFullBackendIsWaitedForNotTheEnd) {
  FakeBackend backend(io, 20ms);
  backend.open = false;
  RecordingList list(plans(2));
  Scheduler s(io, backend, list, topo(), 2);
  s.start();
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return !list.idles.empty(); }));
  ASSERT_EQ(list.idles, std::vector<bool>{true});
  EXPECT_FALSE(list.done());
  EXPECT_TRUE(backend.names.empty());
  io.restart();
  backend.reopen();
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return list.done(); }));
  EXPECT_EQ(list.finished_count(), 2u);
}

TEST_F(SchedulerTest, StopInterruptsTheRunsGoingAndStartsNoMore) {
  FakeBackend backend(io, 60s);  // guests that would outlive the test
  RecordingList list(plans(4));
  Scheduler s(io, backend, list, topo(), 2);
  s.start();
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return backend.live == 2; }));
  EXPECT_EQ(s.running().size(), 2u);
  s.stop("stopped by the test");
  ASSERT_TRUE(vm::run_loop_until(io, [&] { return list.done(); }));
  EXPECT_EQ(backend.names.size(), 2u);
  EXPECT_EQ(list.finished_count(), 2u);
  int interrupted = 0, never = 0;
  for (const auto& r : list.results()) {
    if (!r) {
      ++never;
      continue;
    }
    if (r->verdict == Verdict::kInterrupted) ++interrupted;
  }
  EXPECT_EQ(interrupted, 2);
  EXPECT_EQ(never, 2);
  EXPECT_TRUE(s.running().empty());
}

}  // namespace
}  // namespace numasoak
