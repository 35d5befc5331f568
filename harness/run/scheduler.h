// Scheduler: the one place runs are started, for every verb. `run`, `compare`
// and `bench` all hand their work to it; only where the work comes from and
// where the results go differ, behind WorkSource (a campaign's store queue in
// campaign/runner, a plain list in PlanList and bench/batch).
//
// It runs at most `limit` guests at once and never more than the backend has
// room for (vm::Backend::capacity / can_start, as Ninja's CanRunMore): when
// the backend is full it waits for on_capacity instead of ending. It places
// each guest (vm::Backend::place: which host, which accelerator there) and
// records that in the plan. Every Run lives on the caller's io_context; no
// threads, no sleeps. A finished Run is destroyed before its source hears of
// it, and the source is asked for more work after every finished run and
// every on_capacity.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "result/run_result.h"
#include "run/plan.h"
#include "run/run.h"
#include "vm/backend.h"

namespace numasoak {

/// When one scheduled run started, reached its workload and ended (host
/// steady clock), for sources that measure (bench: verdict latency, guest time).
struct RunTiming {
  std::chrono::steady_clock::time_point started{}, ended{};
  std::optional<std::chrono::steady_clock::time_point> workload_started;
};

/// Where a Scheduler's runs come from and where their results go.
class WorkSource {
 public:
  virtual ~WorkSource() = default;
  /// The next run to start now, or nullopt when there is none now. Asked
  /// only when the backend has room for one more guest.
  virtual std::optional<RunPlan> next() = 0;
  /// A run that next() gave ended with `result` (its Run is already gone).
  virtual void finished(const RunPlan& plan, const RunResult& result, const RunTiming& timing) = 0;
  /// Nothing runs and nothing was started: `blocked` when the backend had no
  /// room (the scheduler waits for on_capacity), else next() had no work.
  virtual void idle(bool blocked) = 0;
};

/// Starts the runs a WorkSource gives, as many at once as fit (see above).
class Scheduler {
 public:
  Scheduler(boost::asio::io_context& io, vm::Backend& backend, WorkSource& source, Topology topology, int limit);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Asks the source for work (from the io_context, never inline).
  void start();
  // Stops every running guest (their runs end `interrupted`, unless they
  // had already failed) and starts no more; the source still hears of each
  // and then idle().
  void stop(const std::string& why);
  // Asks the source again (from the io_context): it may have more now.
  void poke();

  // Guests at once: the caller's limit, or fewer when the backend's hosts
  // have less room in all (remote libvirt hosts bring their own capacity).
  int limit() const { return limit_; }
  std::size_t running_count() const { return running_.size(); }
  // The runs going now and what each is doing, for progress lines.
  std::vector<std::pair<std::string, RunStatus>> running() const;
  bool stopping() const { return stopping_; }

 private:
  /// One run going.
  struct Slot {
    std::unique_ptr<Run> run;
    RunTiming timing;
  };
  void pump();
  void start_one(RunPlan plan);
  void on_done(const std::string& run_id, const RunResult& result);

  boost::asio::io_context& io_;
  vm::Backend& backend_;
  WorkSource& source_;
  Topology topology_;
  int limit_;
  std::map<std::string, std::unique_ptr<Slot>> running_;  // by run id
  bool stopping_ = false;
  bool pump_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for handlers posted past our lifetime
};

/// A WorkSource over a plain list of plans, run in order: `run` (one plan)
/// and anything else that has its plans up front.
class PlanList : public WorkSource {
 public:
  explicit PlanList(std::vector<RunPlan> plans) : plans_(std::move(plans)), results_(plans_.size()) {}

  std::optional<RunPlan> next() override;
  void finished(const RunPlan& plan, const RunResult& result, const RunTiming& timing) override;
  void idle(bool blocked) override;

  // Every plan started has its result and nothing more will start.
  bool done() const { return done_; }
  // Results in plan order; nullopt for plans never started (a stop came first).
  const std::vector<std::optional<RunResult>>& results() const { return results_; }
  const std::vector<std::optional<RunTiming>>& timings() const { return timings_; }
  std::size_t finished_count() const { return finished_; }
  std::size_t size() const { return plans_.size(); }
  // Hook for each result as it comes (after it is stored here).
  void on_result(std::function<void(std::size_t index, const RunResult&, const RunTiming&)> hook) {
    hook_ = std::move(hook);
  }

 private:
  std::vector<RunPlan> plans_;
  std::vector<std::optional<RunResult>> results_;
  std::vector<std::optional<RunTiming>> timings_ = std::vector<std::optional<RunTiming>>(plans_.size());
  std::map<std::string, std::size_t> index_of_;  // run id -> plan index
  std::function<void(std::size_t, const RunResult&, const RunTiming&)> hook_;
  std::size_t next_ = 0, finished_ = 0;
  bool done_ = false;
};

}  // namespace numasoak
