#include "run/watchdog.h"

#include <algorithm>

namespace numasoak {

Watchdog::Watchdog(boost::asio::io_context& io, StarvedClock starved) : timer_(io), starved_(std::move(starved)) {}

std::optional<Duration> Watchdog::sample() {
  const auto now = std::chrono::steady_clock::now();
  if (!last_sample_ || now - sampled_at_ >= std::chrono::seconds(1)) {
    last_sample_ = starved_ ? starved_() : std::nullopt;
    sampled_at_ = now;
  }
  return last_sample_;
}

void Watchdog::arm(Duration timeout, std::function<void()> on_expiry) {
  on_expiry_ = std::move(on_expiry);
  timeout_ = timeout;
  extended_ = Duration(0);
  mark_ = sample();
  wait(timeout);
}

void Watchdog::cancel() {
  on_expiry_ = nullptr;
  timer_.cancel();
}

void Watchdog::wait(Duration d) {
  timer_.expires_after(d);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !on_expiry_) return;
    // A fresh reading: the cached one may predate this window's end.
    last_sample_.reset();
    const auto now = sample();
    if (now && mark_ && *now - *mark_ >= kSignificant && extended_ < kMaxExtension * timeout_) {
      const Duration owed = std::min(*now - *mark_, kMaxExtension * timeout_ - extended_);
      extended_ += owed;
      mark_ = now;
      wait(owed);
      return;
    }
    auto fire = std::move(on_expiry_);
    on_expiry_ = nullptr;
    fire();
  });
}

}  // namespace numasoak
