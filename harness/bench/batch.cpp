#include "bench/batch.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <sys/resource.h>

#include "vm/loop.h"

namespace numasoak::bench {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
}  // namespace

Batch::Batch(boost::asio::io_context& io, vm::Backend& backend, int parallel, Progress progress)
    : io_(io), backend_(backend), parallel_(parallel < 1 ? 1 : parallel), progress_(std::move(progress)) {}

BatchResult Batch::run(std::vector<RunPlan> plans, std::vector<std::string> labels) {
  plans_ = std::move(plans);
  labels_ = std::move(labels);
  labels_.resize(plans_.size());
  results_.assign(plans_.size(), std::nullopt);
  latency_.assign(plans_.size(), std::nullopt);
  guest_s_.assign(plans_.size(), 0.0);
  slots_.clear();
  next_ = done_ = 0;

  BatchResult out;
  const bool rss_reset = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  const auto t0 = Clock::now();
  boost::asio::steady_timer ticker(io_);
  std::function<void()> arm = [&] {
    ticker.expires_after(std::chrono::seconds(1));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      tick();
      arm();
    });
  };
  arm();
  start_next();
  // Until every plan has a result, or an interrupt left plans unstarted
  // and no guest running.
  vm::run_loop_until(io_, [&] {
    return done_ >= plans_.size() || (interrupted_ && next_ < plans_.size() && slots_.empty());
  });
  ticker.cancel();
  io_.poll();
  out.wall_s = since(t0, Clock::now());
  out.harness_cpu_s = process_cpu_s() - cpu0;
  out.peak_rss_kib = rss_reset ? peak_rss_kib() : 0;
  out.interrupted = interrupted_;
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    if (!results_[i]) continue;
    out.results.push_back(*results_[i]);
    out.verdict_latency_s.push_back(latency_[i]);
    out.guest_s += guest_s_[i];
  }
  return out;
}

void Batch::interrupt(const std::string& why) {
  interrupted_ = true;
  interrupt_why_ = why;
  for (auto& s : slots_)
    if (s->run && !s->run->finished()) s->run->interrupt(why);
}

void Batch::start_next() {
  while (!interrupted_ && next_ < plans_.size() && static_cast<int>(slots_.size()) < parallel_) {
    auto slot = std::make_unique<Slot>();
    Slot* s = slot.get();
    s->index = next_++;
    s->started = Clock::now();
    s->run = std::make_unique<Run>(io_, backend_, plans_[s->index], [this, s](const RunResult& r) {
      const auto now = Clock::now();
      results_[s->index] = r;
      guest_s_[s->index] = since(s->started, now);
      if (r.verdict == Verdict::kFailed && s->have_workload && r.time_to_failure_s) {
        // The marker arrived at workload start + TTF (host clock); the verdict now.
        latency_[s->index] = since(s->workload_started, now) - *r.time_to_failure_s;
      }
      ++done_;
      // The Run is still on the stack that called us: let it unwind first.
      boost::asio::post(io_, [this, s] {
        for (auto it = slots_.begin(); it != slots_.end(); ++it)
          if (it->get() == s) {
            slots_.erase(it);
            break;
          }
        start_next();
      });
    });
    s->run->on_workload_started([s] {
      s->workload_started = Clock::now();
      s->have_workload = true;
    });
    slots_.push_back(std::move(slot));
    s->run->start();
  }
}

void Batch::tick() {
  if (!progress_) return;
  BatchProgress p;
  p.done = done_;
  p.total = plans_.size();
  for (const auto& s : slots_)
    if (s->run && !s->run->finished()) p.running.emplace_back(labels_[s->index], s->run->status());
  progress_(p);
}

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

std::uint64_t peak_rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

double process_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

}  // namespace numasoak::bench
