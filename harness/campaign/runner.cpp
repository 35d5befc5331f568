#include "campaign/runner.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

#include "campaign/decisive.h"
#include "common/clock.h"
#include "common/paths.h"
#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "stats/outcome.h"
#include "stats/stats.h"

namespace numasoak {

CampaignRunner::CampaignRunner(boost::asio::io_context& io, const Campaign& campaign, Store& store,
                               vm::Backend& backend, std::map<std::string, KernelArtifact> kernels,
                               image::ImageArtifact image, vm::Accel accel)
    : io_(io),
      campaign_(campaign),
      store_(store),
      backend_(backend),
      kernels_(std::move(kernels)),
      image_(std::move(image)),
      accel_(accel),
      budget_timer_(io) {}

RunPlan plan_for_row(const Campaign& campaign, const RunRow& row, const std::map<std::string, KernelArtifact>& kernels,
                     const image::ImageArtifact& image, vm::Accel accel) {
  // The store's "kernel" is an arm: the kernel itself, or with a sweep the
  // kernel at one race-window width. The build is the base kernel's.
  const std::optional<CampaignArm> arm = campaign.arm(row.kernel);
  if (!arm || !kernels.count(arm->kernel)) {
    throw usage_error(fmt::format("run {} is of '{}', which the campaign file no longer names", row.run_id, row.kernel),
                      "restore it in kernels or [sweep], or use a new output folder");
  }
  PlanOverrides overrides;
  overrides.amplify_us = arm->amplify_us;
  // Each attempt of a run gets a guest name of its own ("...-try2" from the
  // second): the domain of an attempt killed a moment ago may still be in
  // libvirt's list while it is cleaned up, and a create with its name fails.
  std::string guest = fmt::format("numasoak-{}-{}", campaign.name, sanitize_filename(row.run_id));
  if (row.attempts > 0) guest += fmt::format("-try{}", row.attempts + 1);
  RunPlan plan = make_plan(campaign, campaign.kernel(arm->kernel), kernels.at(arm->kernel), image, accel,
                           {row.run_id, guest, campaign.output_dir / "runs" / sanitize_filename(row.run_id)}, overrides);
  // Results are keyed by arm, as the store planned them.
  plan.kernel = arm->name;
  return plan;
}

int CampaignRunner::max_parallel(const Campaign& c, int host_cores, vm::Accel accel) {
  // A TCG guest keeps one host thread per vCPU busy plus its emulator
  // thread; a KVM guest's vCPUs are the cost.
  const double cost = c.topology.total_cpus() + (accel == vm::Accel::kTcg ? 0.5 : 0.0);
  const double capacity = host_cores * c.oversubscribe;
  const int fit = static_cast<int>(capacity / cost);
  return std::max(1, std::min(c.parallel, fit));
}

void CampaignRunner::start(std::function<void(const CampaignOutcome&)> done) {
  done_ = std::move(done);
  started_ = std::chrono::steady_clock::now();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  max_parallel_ = max_parallel(campaign_, cores, accel_);
  const bool host_limited = max_parallel_ < campaign_.parallel;
  if (backend_.capacity(campaign_.topology)) {
    // Remote hosts bring their own capacity: the backend knows how many
    // guests of this size fit across the hosts that are up (the Scheduler
    // takes the smaller of that and the campaign's parallel).
    max_parallel_ = campaign_.parallel;
  } else if (host_limited) {
    spdlog::warn("running {} guest{} at once, not {}: {} vCPUs each would oversubscribe {} cores (oversubscribe = {})",
                 max_parallel_, max_parallel_ == 1 ? "" : "s", campaign_.parallel, campaign_.topology.total_cpus(),
                 cores, campaign_.oversubscribe);
  }
  scheduler_ = std::make_unique<Scheduler>(io_, backend_, *this, campaign_.topology, max_parallel_);
  max_parallel_ = scheduler_->limit();
  if (auto warning = decisive_limit_warning(campaign_)) spdlog::warn("{}", *warning);
  if (campaign_.budget) {
    budget_timer_.expires_after(*campaign_.budget);
    budget_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      end(CampaignEnd::kBudget, fmt::format("the budget of {} is spent", format_duration(*campaign_.budget)));
    });
  }
  scheduler_->start();
}

std::optional<RunPlan> CampaignRunner::next() {
  if (ending_) return std::nullopt;
  std::string why;
  if (campaign_.stop == CampaignStop::kDecisive && decided(&why)) {
    end(CampaignEnd::kDecided, why);
    return std::nullopt;
  }
  const auto row = store_.next_queued();
  if (!row) return std::nullopt;
  // A plan that cannot be made (the window locator refusing the kernel, an
  // arm the file no longer names) throws out of the loop to the verb, as a
  // one-line Error with its own exit code.
  RunPlan plan = plan_for_row(campaign_, *row, kernels_, image_, accel_);
  // QEMU died under the run, or the harness could not record it: no
  // evidence about the kernel either way, so the run is queued again
  // (interrupted), neither a failure nor a survival; a QEMU that keeps dying
  // ends as an error once the run has been started kMaxAttempts times.
  plan.requeue.lost = row->attempts + 1 < kMaxAttempts;
  plan.requeue.infrastructure = true;
  try {
    store_.mark_running(row->run_id, utc_now());
  } catch (const Error& e) {
    end(CampaignEnd::kInfrastructure, e.what());
    return std::nullopt;
  }
  return plan;
}

void CampaignRunner::idle(bool blocked) {
  if (!ending_) {
    if (blocked && store_.next_queued()) {
      // Every host is down or full: wait for on_capacity, do not end.
      spdlog::warn("no libvirt host can take a run now; waiting for one to come back ({})", backend_.describe());
      return;
    }
    end(CampaignEnd::kCompleted, "every planned run finished");
  }
  budget_timer_.cancel();
  CampaignOutcome o{*ending_, end_reason_, finished_this_session_};
  if (done_) {
    auto d = std::move(done_);
    d(o);
  }
}

void CampaignRunner::finished(const RunPlan& plan, const RunResult& result, const RunTiming&) {
  const std::string& run_id = plan.run_id;
  if (const auto& r = result.requeued) {
    spdlog::warn("{}: {} — {}; re-queued", run_id, r->kind, terminal_safe(r->title));
    if (r->kind == kinds::kInfrastructure) end(CampaignEnd::kInfrastructure, r->title);
  }
  try {
    store_.finish_run(result);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    end(CampaignEnd::kInfrastructure, e.what());
    return;
  }
  ++finished_this_session_;
  const double took = result.boot_s + result.exposure_s;
  mean_run_s_ = mean_run_s_ == 0 ? took : 0.8 * mean_run_s_ + 0.2 * took;
  const char* verdict = to_string(result.verdict);
  if (result.verdict == Verdict::kFailed) {
    spdlog::info("{}: failed after {:.1f}s: {} — {}", run_id, result.time_to_failure_s.value_or(0), result.kind,
                 terminal_safe(result.title));
  } else if (result.verdict == Verdict::kError) {
    spdlog::warn("{}: error: {} — {}", run_id, result.kind, terminal_safe(result.title));
  } else {
    spdlog::info("{}: {} ({:.0f}s of workload)", run_id, verdict, result.exposure_s);
  }
  if (result.verdict == Verdict::kError && result.kind == kinds::kConfig) {
    end(CampaignEnd::kInfrastructure, "the guest refused its configuration: " + result.title);
  }
  // Every finished run is a look: the runs still going stop as soon as the
  // comparison is decided.
  std::string why;
  if (!ending_ && campaign_.stop == CampaignStop::kDecisive && decided(&why)) end(CampaignEnd::kDecided, why);
}

bool CampaignRunner::decided(std::string* why) {
  const auto kernels = store_.kernels();
  if (kernels.size() < 2) return false;
  std::vector<ArmEvidence> arms;
  std::map<std::string, std::size_t> arm_of;
  for (const auto& k : kernels) {
    arm_of[k.name] = arms.size();
    arms.push_back({k.name, {}, {}});
  }
  // Each arm's finished runs (errors say nothing about the kernel and are
  // skipped); the paired test takes the leading ones in start order (a run
  // still queued or going ends the prefix).
  std::map<std::string, bool> blocked;
  std::map<std::string, RunStatus> going_now;
  if (scheduler_)
    for (auto& [id, st] : scheduler_->running()) going_now[id] = st;
  const auto results = store_.finished_runs();
  std::map<std::string, const RunResult*> by_id;
  for (const auto& r : results) by_id[r.run_id] = &r;
  for (const auto& row : store_.runs()) {
    auto arm = arm_of.find(row.kernel);
    if (arm == arm_of.end()) continue;
    ArmEvidence& e = arms[arm->second];
    if (row.state != RunState::kFinished) {
      blocked[row.kernel] = true;
      // The rate test's exposure clock counts the workload time of a run
      // still going, with no failure (yet): at this look it has survived
      // that long.
      if (auto going = going_now.find(row.run_id); going != going_now.end()) {
        e.tally.exposure += std::chrono::duration<double>(going->second.workload_elapsed).count() / 3600;
      }
      continue;
    }
    auto it = by_id.find(row.run_id);
    if (it == by_id.end()) continue;
    const auto o = stats::outcome_of(*it->second);
    if (!o) continue;
    if (!blocked[row.kernel]) e.leading.push_back(*o);
    e.tally.failures += o->failed ? 1 : 0;
    e.tally.exposure += std::chrono::duration<double>(o->time).count() / 3600;
  }
  auto text = decide_campaign(campaign_, arms);
  if (!text) return false;
  *why = *text;
  return true;
}

void CampaignRunner::end(CampaignEnd how, const std::string& why) {
  if (ending_) return;
  ending_ = how;
  end_reason_ = why;
  // Completed: nothing runs. Decided: the answer is known, runs still going
  // add nothing to it. Anything else: stop now. The Scheduler calls idle()
  // once the last guest is gone.
  if (scheduler_) scheduler_->stop(why);
}

void CampaignRunner::interrupt(const std::string& why) { end(CampaignEnd::kInterrupted, why); }

std::string CampaignRunner::status_line() const {
  std::string text;
  int done = 0, total = 0, failures = 0;
  for (const auto& c : store_.counts()) {
    done += c.finished;
    total += c.planned;
    failures += c.failed;
    text += fmt::format("{} {}/{} ({} failed)  ", c.kernel, c.finished, c.planned, c.failed);
  }
  const int left = total - done;
  std::string eta = "?";
  if (mean_run_s_ > 0) {
    eta = format_duration(Duration(static_cast<std::int64_t>(left * mean_run_s_ * 1000 / std::max(1, max_parallel_))));
  }
  if (scheduler_) {
    for (const auto& [id, s] : scheduler_->running())
      text += fmt::format("| {} {} {} ", id, s.phase, format_duration(s.workload_elapsed));
  }
  return fmt::format("[{}/{} runs, {} failed, ETA {}] {}", done, total, failures, eta, text);
}

}  // namespace numasoak
