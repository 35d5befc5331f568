// CampaignRunner: a campaign's runs, from the Store's queue through the one
// Scheduler (run/scheduler.h) and back into the Store.
//
// Runs are taken from the Store's queue, which interleaves kernels (A, B, C,
// A, B, C ...) so drift of the machine hits every build alike. The store's
// kernels are the campaign's arms (Campaign::arms): with a [sweep], each
// kernel at each race-window width is an arm of its own, run on the base
// kernel's artifact (`kernels` is keyed by kernel, not arm) at the arm's width. At most
// `parallel` guests run at once, and never more busy vCPUs than the host's
// cores x oversubscribe (a TCG guest also costs its emulator thread), or
// than the backend has room for (vm::Backend capacity / can_start /
// on_capacity / place: a libvirt pool brings its hosts' capacity and waits
// for hosts that are down instead of ending). Every
// state change reaches the database before the next step: a run is marked
// running before its guest starts and its result is stored before another
// run is scheduled. The campaign ends when the queue is empty, the budget
// is spent, the sequential rule decides (stop = "decisive"), or on Ctrl-C.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/campaign.h"
#include "image/image.h"
#include "kernel/build.h"
#include "run/run.h"
#include "run/scheduler.h"
#include "store/store.h"
#include "vm/backend.h"

namespace numasoak {

/// How a campaign ended.
enum class CampaignEnd { kCompleted, kDecided, kBudget, kInterrupted, kInfrastructure };

/// How a campaign ended, why, and how many runs this session finished.
struct CampaignOutcome {
  CampaignEnd end = CampaignEnd::kCompleted;
  std::string reason;   // for people: "all 8 runs finished", "decided after 6 runs: ..."
  int runs_this_session = 0;
};

// The plan of one queued run: its arm's base kernel and artifact, at the
// arm's width (a [sweep]) or the campaign's; the plan's kernel is the arm's
// name, which the result and the store key it by. Throws a usage Error when
// the row's arm is not in the campaign (a file changed under a resumed
// campaign). Pure apart from make_plan's own lookups.
RunPlan plan_for_row(const Campaign& campaign, const RunRow& row, const std::map<std::string, KernelArtifact>& kernels,
                     const image::ImageArtifact& image, vm::Accel accel);

/// A campaign's queued runs as the Scheduler's work source (see above).
class CampaignRunner : public WorkSource {
 public:
  CampaignRunner(boost::asio::io_context& io, const Campaign& campaign, Store& store, vm::Backend& backend,
                 std::map<std::string, KernelArtifact> kernels, image::ImageArtifact image, vm::Accel accel);

  // Starts scheduling; `done` is called once when the campaign ends.
  void start(std::function<void(const CampaignOutcome&)> done);
  // Ctrl-C: stops the guests; their runs become `interrupted` (re-run on resume).
  void interrupt(const std::string& why);
  // One line for the live status: runs done/total per kernel, failures, ETA.
  std::string status_line() const;

  // A run whose QEMU died under it (kind "lost") is re-queued until it has
  // been started this many times; then its error is kept.
  static constexpr int kMaxAttempts = 3;

  // How many guests fit at once on this host (pure; tested).
  static int max_parallel(const Campaign& c, int host_cores, vm::Accel accel);

  // WorkSource: the next queued run's plan (marked running in the store),
  // its result into the store, and the end of the campaign.
  std::optional<RunPlan> next() override;
  void finished(const RunPlan& plan, const RunResult& result, const RunTiming& timing) override;
  void idle(bool blocked) override;

 private:
  bool decided(std::string* why);
  void end(CampaignEnd how, const std::string& why);

  boost::asio::io_context& io_;
  const Campaign& campaign_;
  Store& store_;
  vm::Backend& backend_;
  std::map<std::string, KernelArtifact> kernels_;
  image::ImageArtifact image_;
  vm::Accel accel_;
  int max_parallel_ = 1;
  std::unique_ptr<Scheduler> scheduler_;
  std::function<void(const CampaignOutcome&)> done_;
  std::optional<CampaignEnd> ending_;
  std::string end_reason_;
  int finished_this_session_ = 0;
  std::chrono::steady_clock::time_point started_;
  double mean_run_s_ = 0;
  boost::asio::steady_timer budget_timer_;
};

}  // namespace numasoak
