// Store: a campaign's durable record, `<output_dir>/numasoak.db` (SQLite).
//
// Why a database and not a folder of JSON files: a campaign runs for hours,
// the harness may be killed at any moment, and a re-run must never count a
// run twice. Every state change is one SQLite transaction (WAL, synchronous
// FULL), so after a crash the file holds exactly the changes that completed.
//
// One writer per campaign: Store::open() takes an exclusive flock on
// `<dir>/numasoak.lock` (holding the pid) and refuses a second numasoak with
// "campaign DIR is in use by numasoak pid N". Readers (`numasoak report`)
// use Store::open_read_only(), which takes no lock and writes nothing.
//
// A run's life: planned (queued) -> mark_running() before its guest starts
// -> finish_run(RunResult). A run left `running` by a crashed harness becomes
// `interrupted` on the next open(); interrupted runs are queued again (they
// come back from next_queued()) and count neither as failures nor survivals.
//
// Every failure (disk full, I/O error, corrupt file) is a numasoak::Error of
// kind infrastructure naming the database path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "result/run_result.h"

namespace numasoak {

inline constexpr int kStoreSchemaVersion = 2;
inline constexpr const char* kStoreFileName = "numasoak.db";
inline constexpr const char* kStoreLockName = "numasoak.lock";

/// Where a planned run is: queued, running or finished.
enum class RunState { kQueued, kRunning, kFinished, kInterrupted };
const char* to_string(RunState s);

/// The campaign's state as recorded: running, finished, stopped or decided.
enum class CampaignStatus { kRunning, kFinished, kStopped, kDecided };
const char* to_string(CampaignStatus s);

/// The campaign as recorded: name, file, settings snapshot and status.
struct CampaignRecord {
  std::string name;
  std::string file;            // the campaign file it came from ("" if from flags)
  nlohmann::json config;       // snapshot of the validated campaign
  std::string created_at;      // ISO 8601 UTC
  std::string updated_at;
  CampaignStatus status = CampaignStatus::kRunning;
  std::string stop_reason;     // why it ended early ("decided: p < 0.001", "budget", "Ctrl-C")
};

/// One kernel of the campaign as recorded: name, release, source, manifest.
struct KernelRecord {
  std::string name;            // campaign kernel name ("6.1+backport")
  std::string release;         // uname -r of the built artifact ("6.1.192")
  std::string source;          // where it came from ("linux-source-6.1 + backport")
  nlohmann::json manifest = nlohmann::json::object();  // the build manifest
  int position = 0;            // campaign order; position 0 is the baseline
};

/// One planned run as the scheduler sees it.
struct RunRow {
  std::string run_id;          // "<kernel>-<n>"
  std::string kernel;
  int sequence = 0;            // n, 1-based, per kernel
  RunState state = RunState::kQueued;
  int attempts = 0;            // times mark_running() was called
  int interruptions = 0;       // attempts that ended interrupted
  std::optional<Verdict> verdict;  // set once finished
  std::string kind;
  std::string title;
  std::string started_at;
  std::string finished_at;
};

/// Counts for one kernel. Only finished runs are evidence: failed + survived
/// (+ errors, which are neither).
struct KernelCounts {
  std::string kernel;
  int planned = 0;
  int queued = 0;
  int running = 0;
  int interrupted = 0;        // runs now waiting to be re-run after an interruption
  int finished = 0;           // failed + survived + errors
  int failed = 0;
  int survived = 0;
  int errors = 0;
  double exposure_s = 0;      // workload seconds of failed + survived runs
};

/// One host's share of the campaign: a libvirt URI, or "local" for direct
/// QEMU. Interrupted attempts (the host went away, Ctrl-C) are kept per host
/// although their run is re-run elsewhere: they are counted here, never as
/// evidence.
struct HostFigures {
  std::string host;
  std::string accel;          // "tcg", "kvm", or "kvm,tcg" when both were used there
  int runs = 0;               // finished runs (failed + survived + errors)
  int failed = 0;
  int survived = 0;
  int errors = 0;
  int interrupted = 0;        // attempts that ended interrupted there
  double guest_s = 0;         // boot + workload seconds of every attempt there
};

/// One distinct crash (kernel + kind + title), counted over finished runs.
struct FailureGroup {
  std::string kernel;
  std::string kind;
  std::string title;
  int count = 0;              // occurrences (a run may see the same crash more than once)
  int runs = 0;               // distinct runs that saw it
  std::string first_seen;     // ISO 8601 UTC, when the run that saw it finished
  std::string last_seen;
  std::string example_run_id;
  std::string example_report;  // untrusted guest text
};

/// A campaign's durable record (see above).
class Store {
 public:
  // Opens (creating if needed) `<dir>/numasoak.db` for writing. Takes the
  // campaign's exclusive lock first: throws a usage Error "campaign DIR is in
  // use by numasoak pid N" when another process (or Store) holds it. Runs
  // left `running` by a crashed harness become `interrupted` (re-queued).
  static Store open(const std::filesystem::path& dir);

  // Opens an existing database for reading only, with no lock, alongside a
  // running campaign. Throws a usage Error when there is no database.
  static Store open_read_only(const std::filesystem::path& dir);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& dir() const;
  std::filesystem::path db_path() const;
  bool read_only() const;
  // Runs that the last open() found `running` and turned `interrupted`.
  const std::vector<std::string>& recovered_runs() const;

  // --- campaign ---------------------------------------------------------
  // Creates the campaign row, or updates name/file/config of the existing one
  // (created_at and status are kept).
  void set_campaign(const std::string& name, const std::string& file, const nlohmann::json& config);
  std::optional<CampaignRecord> campaign() const;
  void set_status(CampaignStatus status, const std::string& stop_reason = {});

  // --- kernels ----------------------------------------------------------
  // Inserts or updates a kernel; a new kernel goes after the known ones
  // (record.position is ignored on write).
  void record_kernel(const KernelRecord& record);
  std::vector<KernelRecord> kernels() const;  // in campaign order

  // --- runs ---------------------------------------------------------------
  // Ensures runs 1..runs_per_kernel exist for every kernel (recording unknown
  // kernels in this order). Idempotent: existing runs are left alone; raising
  // runs_per_kernel adds the missing ones. Returns how many were added.
  int plan_runs(const std::vector<std::string>& kernels, int runs_per_kernel);

  // The next run to start: queued or interrupted, interleaved by sequence
  // then kernel order (6.1-1, backport-1, 6.1-2, ...). nullopt when none.
  std::optional<RunRow> next_queued() const;

  // Records that the run's guest is about to start (call BEFORE starting it).
  // Throws when the run is unknown, running or already finished.
  void mark_running(const std::string& run_id, const std::string& started_at = {});

  // Stores a run's result and folds its failures into the failures table,
  // in one transaction. A result with verdict `interrupted` puts the run back
  // in the queue; any other verdict finishes it. Throws when the run is
  // unknown or already finished (a run is never counted twice).
  void finish_run(const RunResult& result);

  std::optional<RunRow> run(const std::string& run_id) const;
  std::vector<RunRow> runs() const;               // every planned run, queue order
  std::vector<KernelCounts> counts() const;       // per kernel, campaign order
  std::vector<RunResult> finished_runs() const;   // kernel order, then sequence
  std::vector<FailureGroup> failures() const;     // per kernel order, most frequent first
  std::vector<HostFigures> hosts() const;         // per host, by name

  /// A consistent view for a series of reads: while a Snapshot lives, reads
  /// on this Store see the database as it was when the snapshot began, even
  /// if the campaign commits runs meanwhile (WAL). Reads only; not nested.
  class Snapshot {
   public:
    explicit Snapshot(const Store& store);
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    ~Snapshot();

   private:
    const Store& store_;
  };
  Snapshot snapshot() const { return Snapshot(*this); }

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace numasoak
