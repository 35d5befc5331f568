// Watchdog on a real io_context and real timers; the starvation readings
// come from a function the test controls (what /proc/<pid>/task/*/schedstat
// would say for an overloaded host), so each rule is checked exactly.
#include "run/watchdog.h"

#include <gtest/gtest.h>

namespace numasoak {
namespace {

using namespace std::chrono_literals;

struct Fired {
  bool fired = false;
  double after_ms = 0;
};

// Arms `w` for `timeout` and runs the loop until it fires.
Fired run(boost::asio::io_context& io, Watchdog& w, Duration timeout) {
  Fired f;
  const auto t0 = std::chrono::steady_clock::now();
  w.arm(timeout, [&] {
    f.fired = true;
    f.after_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  });
  io.run();
  return f;
}

TEST(Watchdog, FiresOnTimeWhenTheGuestIsNotStarved) {
  boost::asio::io_context io;
  Watchdog w(io, [] { return Duration(1234); });  // constant: no new starvation
  const Fired f = run(io, w, 300ms);
  ASSERT_TRUE(f.fired);
  EXPECT_GE(f.after_ms, 300);
  EXPECT_LT(f.after_ms, 1000);  // not stretched (stretching would add >= 500 ms)
  EXPECT_EQ(w.extended(), Duration(0));
}

TEST(Watchdog, WithoutStarvationFiguresItCountsWallTime) {
  boost::asio::io_context io;
  Watchdog w(io, [] { return std::optional<Duration>(); });
  const Fired f = run(io, w, 200ms);
  ASSERT_TRUE(f.fired);
  EXPECT_LT(f.after_ms, 1000);
}

TEST(Watchdog, TimeTheGuestWasStarvedIsAddedToTheDeadline) {
  boost::asio::io_context io;
  int calls = 0;
  // At arm: 0. From the first expiry on: starved 700 ms in that window.
  Watchdog w(io, [&] { return Duration(calls++ == 0 ? 0 : 700); });
  const Fired f = run(io, w, 300ms);
  ASSERT_TRUE(f.fired);
  EXPECT_GE(f.after_ms, 1000);  // 300 + 700
  EXPECT_LT(f.after_ms, 2500);
  EXPECT_EQ(w.extended(), Duration(700));
}

TEST(Watchdog, StarvationBelowTheThresholdIsNoise) {
  boost::asio::io_context io;
  int calls = 0;
  Watchdog w(io, [&] { return calls++ == 0 ? Duration(0) : Watchdog::kSignificant - Duration(1); });
  const Fired f = run(io, w, 200ms);
  ASSERT_TRUE(f.fired);
  EXPECT_EQ(w.extended(), Duration(0));
}

TEST(Watchdog, AHostThatNeverRunsTheGuestStillEndsIt) {
  boost::asio::io_context io;
  Duration starved{0};
  // Every reading: another 10 s starved, far more than the timeout.
  Watchdog w(io, [&] { return starved += 10s; });
  const Fired f = run(io, w, 100ms);
  ASSERT_TRUE(f.fired);
  EXPECT_EQ(w.extended(), Watchdog::kMaxExtension * Duration(100));
  EXPECT_GE(f.after_ms, 100.0 * (1 + Watchdog::kMaxExtension));
}

TEST(Watchdog, RearmingRestartsAndCancelStops) {
  boost::asio::io_context io;
  Watchdog w(io, [] { return Duration(0); });
  int fired = 0;
  w.arm(50ms, [&] { fired += 100; });
  w.arm(50ms, [&] { fired += 1; });  // replaces the first
  io.run();
  EXPECT_EQ(fired, 1);
  io.restart();
  w.arm(50ms, [&] { fired += 10; });
  w.cancel();
  io.run();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace numasoak
