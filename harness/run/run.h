// Run: one guest, one kernel, one verdict.
//
// Boots the guest through a Backend, streams its console through the
// LineAssembler into the Detector and its agent channel into Telemetry,
// keeps the watchdogs (boot, silence, duration) and, when the guest is gone,
// hands what it saw to decide_verdict() (run/verdict.h) for the RunResult,
// with artifacts in its own folder. Everything happens on the
// caller's io_context; a Run never blocks and never sleeps.
//
// Timeline (host steady clock; wall-clock jumps change nothing):
//   start ──boot──▶ workload started ──duration──▶ survived
//                        └─ first failure marker ─ report window ─▶ failed
// Time to failure is measured from "workload started" to the arrival of the
// first failure's marker line (and also reported as guest uptime); the
// first marker also ends the exposure.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/campaign.h"
#include "console/detector.h"
#include "console/line_assembler.h"
#include "result/run_result.h"
#include "run/agent_feed.h"
#include "run/plan.h"
#include "run/verdict.h"
#include "run/watchdog.h"
#include "vm/backend.h"

namespace numasoak {

/// A run's live state for the status line.
struct RunStatus {
  std::string phase;             // "booting", "running", "collecting", "stopping", "done"
  Duration elapsed{0};           // since the guest started
  Duration workload_elapsed{0};  // since the workload started (0 before)
  Duration remaining{0};
  double race_events_per_s = 0;  // race-relevant events per second, last heartbeat
  int failures = 0;
};

/// One guest from start to RunResult (see above).
class Run {
 public:
  using Done = std::function<void(const RunResult&)>;

  Run(boost::asio::io_context& io, vm::Backend& backend, RunPlan plan, Done done);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Starts the guest. Errors that prevent even starting end the run at once
  // with verdict error (done is called from the io_context, never inline).
  void start();
  // Stops the guest; the run ends as `interrupted` (not a failure, not a
  // survival) unless it had already found a failure.
  void interrupt(const std::string& why);
  // What the run is doing now, for progress lines.
  RunStatus status() const;
  // Called once, from the io_context, when the workload has started.
  void on_workload_started(std::function<void()> hook) { started_hook_ = std::move(hook); }
  const RunPlan& plan() const { return plan_; }
  bool finished() const { return finished_; }

 private:
  using Clock = std::chrono::steady_clock;
  Duration now() const { return std::chrono::duration_cast<Duration>(Clock::now() - started_); }

  void on_console(std::string_view bytes);
  void on_agent(std::string_view bytes);
  void on_event(vm::GuestEvent ev);
  void on_exit(const vm::ExitInfo& info);
  void on_console_line(std::string_view line);
  void workload_started();
  void take_detector_output();
  void record_failure(FailureRecord f);
  void request_stop(const std::string& why, Duration delay = Duration(0));
  void arm_silence();
  void flush_logs();
  std::optional<Duration> starved() const;
  static std::string starved_note(const Watchdog& w);
  void fail_infrastructure(const std::string& message);
  std::string last_console_line() const;
  // What the run saw, for decide_verdict (run/verdict.h), and its answer.
  RunFacts facts() const;
  void apply(RunVerdict v);
  void finish();
  // Writes report.txt and result.json; the error when it cannot.
  std::optional<std::string> write_artifacts();
  double host_s(Duration t) const;

  boost::asio::io_context& io_;
  vm::Backend& backend_;
  RunPlan plan_;
  Done done_;
  std::function<void()> started_hook_;
  std::unique_ptr<vm::Guest> guest_;
  RunResult result_;
  std::map<std::string, size_t> failure_counts_;  // "kind — title" -> times seen: logged once per run

  console::LineAssembler console_lines_;
  console::Detector detector_;
  AgentFeed agent_;

  std::ofstream console_log_;
  std::ofstream agent_log_;
  std::uint64_t console_bytes_ = 0;
  std::uint64_t console_dropped_ = 0;
  std::string last_lines_[8];  // the last console lines, for boot failures
  size_t last_line_pos_ = 0;

  Clock::time_point started_{};
  std::optional<Duration> workload_started_;
  std::optional<Duration> workload_ended_;
  std::optional<RunError> error_;       // the first harness-side error
  std::optional<vm::ExitInfo> exit_;    // how the guest ended
  std::string stop_reason_;
  std::optional<Duration> stop_at_;  // when a planned stop happens (run clock)
  bool duration_reached_ = false;
  bool interrupted_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  // Boot and silence count only time the guest could run (run/watchdog.h);
  // the duration is the host's monotonic time.
  Watchdog boot_timer_, silence_timer_;
  // tick_timer_ flushes the logs every kFlushEvery: a full disk stops the
  // run within seconds, and a killed harness leaves logs up to date.
  boost::asio::steady_timer duration_timer_, report_timer_, tick_timer_;
  static constexpr Duration kFlushEvery{2000};
};

}  // namespace numasoak
