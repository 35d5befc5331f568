#include "run/scheduler.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace numasoak {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, vm::Backend& backend, WorkSource& source, Topology topology,
                     int limit)
    : io_(io), backend_(backend), source_(source), topology_(std::move(topology)), limit_(std::max(1, limit)) {
  if (const auto room = backend_.capacity(topology_)) limit_ = std::max(1, std::min(limit_, *room));
}

Scheduler::~Scheduler() {
  *alive_ = false;
  backend_.on_capacity({});
}

void Scheduler::start() {
  std::weak_ptr<bool> alive = alive_;
  backend_.on_capacity([this, alive] {
    if (auto a = alive.lock(); a && *a) poke();
  });
  poke();
}

void Scheduler::poke() {
  if (pump_posted_) return;
  pump_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  boost::asio::post(io_, [this, alive] {
    if (auto a = alive.lock(); !a || !*a) return;
    pump_posted_ = false;
    pump();
  });
}

void Scheduler::stop(const std::string& why) {
  stopping_ = true;
  for (auto& [id, slot] : running_)
    if (slot->run && !slot->run->finished()) slot->run->interrupt(why);
  poke();
}

void Scheduler::pump() {
  bool blocked = false;
  while (!stopping_ && static_cast<int>(running_.size()) < limit_) {
    if (!backend_.can_start(topology_)) {
      blocked = true;
      break;
    }
    std::optional<RunPlan> plan = source_.next();
    if (!plan) break;
    start_one(std::move(*plan));
  }
  if (running_.empty()) source_.idle(blocked && !stopping_);
}

void Scheduler::start_one(RunPlan plan) {
  // Where the backend puts this guest, and the accelerator it gets there
  // (each libvirt host decided KVM or TCG for itself): what the run records.
  const vm::Placement where = backend_.place(plan.topology, plan.kernel_image, plan.accel);
  if (where.host) plan.host = *where.host;
  plan.accel = where.accel;

  auto slot = std::make_unique<Slot>();
  Slot* s = slot.get();
  s->timing.started = Clock::now();
  const std::string id = plan.run_id;
  spdlog::debug("starting {}", id);
  std::weak_ptr<bool> alive = alive_;
  s->run = std::make_unique<Run>(io_, backend_, std::move(plan), [this, alive, id](const RunResult& r) {
    // The Run is still on the stack that called us: finish after it unwinds.
    boost::asio::post(io_, [this, alive, id, r] {
      if (auto a = alive.lock(); a && *a) on_done(id, r);
    });
  });
  s->run->on_workload_started([s] { s->timing.workload_started = Clock::now(); });
  running_[id] = std::move(slot);
  s->run->start();
}

void Scheduler::on_done(const std::string& run_id, const RunResult& result) {
  auto it = running_.find(run_id);
  if (it == running_.end()) return;
  std::unique_ptr<Slot> slot = std::move(it->second);
  running_.erase(it);
  slot->timing.ended = Clock::now();
  const RunPlan plan = slot->run->plan();
  const RunTiming timing = slot->timing;
  slot.reset();  // the Run (and its guest) is gone before the source hears of it
  source_.finished(plan, result, timing);
  pump();
}

std::vector<std::pair<std::string, RunStatus>> Scheduler::running() const {
  std::vector<std::pair<std::string, RunStatus>> out;
  for (const auto& [id, slot] : running_)
    if (slot->run && !slot->run->finished()) out.emplace_back(id, slot->run->status());
  return out;
}

std::optional<RunPlan> PlanList::next() {
  if (next_ >= plans_.size()) return std::nullopt;
  index_of_[plans_[next_].run_id] = next_;
  return plans_[next_++];
}

void PlanList::finished(const RunPlan& plan, const RunResult& result, const RunTiming& timing) {
  const auto it = index_of_.find(plan.run_id);
  if (it == index_of_.end()) return;
  results_[it->second] = result;
  timings_[it->second] = timing;
  ++finished_;
  if (hook_) hook_(it->second, result, timing);
}

void PlanList::idle(bool blocked) {
  // A backend with no room now (remote hosts down) gets room back later.
  if (!blocked) done_ = true;
}

}  // namespace numasoak
