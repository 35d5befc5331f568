// Batch: a list of runs through the one Scheduler (run/scheduler.h), at most
// `parallel` at once, on the caller's io_context. The bench's phases are
// batches; a batch also measures what the harness itself costs
// while it runs (CPU seconds of this process, peak RSS) and, per failed run,
// the time from the failure's marker line reaching the host to the verdict.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "result/run_result.h"
#include "run/run.h"
#include "run/scheduler.h"
#include "vm/backend.h"

namespace numasoak::bench {

/// What a batch found, and what the harness cost while it ran.
struct BatchResult {
  std::vector<RunResult> results;            // in plan order
  std::vector<std::optional<double>> verdict_latency_s;  // marker arrival -> verdict, failed runs
  double wall_s = 0;          // the batch, first start to last verdict
  double guest_s = 0;         // sum over runs of guest lifetime (start to verdict)
  double harness_cpu_s = 0;   // user + system CPU of this process during the batch
  std::uint64_t peak_rss_kib = 0;  // VmHWM of this process during the batch (reset at its start)
  bool interrupted = false;
};

/// What the progress line shows: the batch's position and the runs going now.
struct BatchProgress {
  std::size_t done = 0, total = 0;
  std::vector<std::pair<std::string, RunStatus>> running;  // label, status
};

/// Runs a list of plans, at most `parallel` at once (see above).
class Batch {
 public:
  using Progress = std::function<void(const BatchProgress&)>;

  Batch(boost::asio::io_context& io, vm::Backend& backend, int parallel, Progress progress = {});

  // Runs every plan (labels are for the progress line) and returns when all
  // have a result. interrupt() (e.g. from a signal handler on the same
  // io_context) stops the guests; their results are `interrupted` and the
  // plans not yet started are not run.
  BatchResult run(std::vector<RunPlan> plans, std::vector<std::string> labels);
  void interrupt(const std::string& why);

 private:
  void tick(const PlanList& list, const Scheduler& scheduler);

  boost::asio::io_context& io_;
  vm::Backend& backend_;
  int parallel_;
  Progress progress_;
  std::map<std::string, std::string> label_of_;  // run id -> label
  Scheduler* scheduler_ = nullptr;                // while run() runs
  bool interrupted_ = false;
};

// Resets this process's peak RSS (VmHWM) through /proc/self/clear_refs; false
// when the kernel does not allow it.
bool reset_peak_rss();
// VmHWM of this process in KiB (0 when /proc is not readable).
std::uint64_t peak_rss_kib();
// User + system CPU seconds this process used so far (getrusage).
double process_cpu_s();

}  // namespace numasoak::bench
