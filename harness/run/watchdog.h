// Watchdog: a deadline measured in time the guest could have run.
//
// A boot or silence watchdog that counts wall time alone calls an overloaded
// host's guest "hung": its vCPU threads were runnable but waited for a host
// CPU. The watchdog therefore asks, when it expires, how long the guest
// spent starved meanwhile (the backend's Guest::starved(), e.g. run-queue
// wait from /proc/<pid>/task/*/schedstat) and, if that is significant,
// waits that long again before firing. A guest that hangs idle (sleeping,
// deadlocked) or spinning on a CPU it does get is not starved, so it fires
// on time. The extension is capped at kMaxExtension x the timeout, so a
// permanently overloaded host still ends the run.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "common/duration.h"

namespace numasoak {

/// Fires when the guest was silent (or did not boot) for too long, host starvation excepted.
class Watchdog {
 public:
  // Cumulative time the guest was starved of host CPU, or nullopt when the
  // backend cannot tell (then the watchdog counts wall time only).
  using StarvedClock = std::function<std::optional<Duration>()>;

  static constexpr int kMaxExtension = 4;
  // Starvation below this in one window is noise, not a reason to wait.
  static constexpr Duration kSignificant{500};

  Watchdog(boost::asio::io_context& io, StarvedClock starved);

  // (Re)starts the deadline: `on_expiry` runs once `timeout` of unstarved
  // time has passed, unless arm() or cancel() comes first.
  void arm(Duration timeout, std::function<void()> on_expiry);
  void cancel();
  // Time added to the current deadline for starvation so far.
  Duration extended() const { return extended_; }

 private:
  void wait(Duration d);
  std::optional<Duration> sample();

  boost::asio::steady_timer timer_;
  StarvedClock starved_;
  std::function<void()> on_expiry_;
  Duration timeout_{0};
  Duration extended_{0};
  std::optional<Duration> mark_;  // starvation at the start of the current wait
  // The last sample, reused for a second: arm() runs on every console chunk.
  std::chrono::steady_clock::time_point sampled_at_{};
  std::optional<Duration> last_sample_;
};

}  // namespace numasoak
