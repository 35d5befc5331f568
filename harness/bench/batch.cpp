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
  labels.resize(plans.size());
  label_of_.clear();
  for (std::size_t i = 0; i < plans.size(); ++i) label_of_[plans[i].run_id] = labels[i].empty() ? plans[i].run_id : labels[i];
  interrupted_ = false;
  const Topology topology = plans.empty() ? Topology{} : plans.front().topology;
  PlanList list(std::move(plans));
  Scheduler scheduler(io_, backend_, list, topology, parallel_);
  scheduler_ = &scheduler;

  BatchResult out;
  const bool rss_reset = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  const auto t0 = Clock::now();
  boost::asio::steady_timer ticker(io_);
  std::function<void()> arm = [&] {
    ticker.expires_after(std::chrono::seconds(1));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      tick(list, scheduler);
      arm();
    });
  };
  arm();
  scheduler.start();
  vm::run_loop_until(io_, [&] { return list.done(); });
  ticker.cancel();
  io_.poll();
  scheduler_ = nullptr;
  out.wall_s = since(t0, Clock::now());
  out.harness_cpu_s = process_cpu_s() - cpu0;
  out.peak_rss_kib = rss_reset ? peak_rss_kib() : 0;
  out.interrupted = interrupted_;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& r = list.results()[i];
    if (!r) continue;
    const RunTiming& t = *list.timings()[i];
    out.results.push_back(*r);
    std::optional<double> latency;
    if (r->verdict == Verdict::kFailed && t.workload_started && r->time_to_failure_s) {
      // The marker arrived at workload start + TTF (host clock); the verdict at the run's end.
      latency = since(*t.workload_started, t.ended) - *r->time_to_failure_s;
    }
    out.verdict_latency_s.push_back(latency);
    out.guest_s += since(t.started, t.ended);
  }
  return out;
}

void Batch::interrupt(const std::string& why) {
  interrupted_ = true;
  if (scheduler_) scheduler_->stop(why);
}

void Batch::tick(const PlanList& list, const Scheduler& scheduler) {
  if (!progress_) return;
  BatchProgress p;
  p.done = list.finished_count();
  p.total = list.size();
  for (auto& [id, status] : scheduler.running()) {
    const auto l = label_of_.find(id);
    p.running.emplace_back(l == label_of_.end() ? id : l->second, status);
  }
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
