#include "store/store.h"

#include "common/clock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "common/error.h"
#include "store/sqlite.h"

namespace numasoak {

namespace fs = std::filesystem;
using store_detail::Db;
using store_detail::Stmt;
using store_detail::Transaction;

namespace {

// Version 1. A later version adds an entry to kMigrations (SQL taking the
// database from version i+1 to i+2) and bumps kStoreSchemaVersion.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE schema_version (
  version    INTEGER NOT NULL,
  applied_at TEXT NOT NULL
);
CREATE TABLE campaign (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  name        TEXT NOT NULL,
  file        TEXT NOT NULL,
  config      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped', 'decided')),
  stop_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE kernels (
  name     TEXT PRIMARY KEY,
  position INTEGER NOT NULL UNIQUE,
  release  TEXT NOT NULL DEFAULT '',
  source   TEXT NOT NULL DEFAULT '',
  manifest TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE runs (
  id                TEXT PRIMARY KEY,
  kernel            TEXT NOT NULL REFERENCES kernels(name),
  sequence          INTEGER NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'interrupted')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  interruptions     INTEGER NOT NULL DEFAULT 0,
  verdict           TEXT CHECK (verdict IS NULL OR verdict IN ('failed', 'survived', 'error')),
  kind              TEXT NOT NULL DEFAULT '',
  title             TEXT NOT NULL DEFAULT '',
  time_to_failure_s REAL,
  uptime_s          REAL,
  boot_s            REAL,
  exposure_s        REAL,
  host              TEXT NOT NULL DEFAULT '',
  accel             TEXT NOT NULL DEFAULT '',
  started_at        TEXT NOT NULL DEFAULT '',
  finished_at       TEXT NOT NULL DEFAULT '',
  telemetry         TEXT,
  artifacts         TEXT,
  result            TEXT,
  UNIQUE (kernel, sequence),
  CHECK ((state = 'finished') = (verdict IS NOT NULL))
);
CREATE INDEX runs_by_state ON runs(state);
CREATE TABLE failures (
  kernel         TEXT NOT NULL REFERENCES kernels(name),
  kind           TEXT NOT NULL,
  title          TEXT NOT NULL,
  count          INTEGER NOT NULL,
  runs           INTEGER NOT NULL,
  first_seen     TEXT NOT NULL,
  last_seen      TEXT NOT NULL,
  example_run    TEXT NOT NULL REFERENCES runs(id),
  example_report TEXT NOT NULL,
  PRIMARY KEY (kernel, kind, title)
);
)sql";

// kMigrations[i] upgrades a version i+1 database to version i+2.
constexpr std::array<const char*, 1> kMigrations{
    // 2: every interrupted attempt with its host, so per-host figures keep
    // the attempts a host lost after the run was re-run elsewhere.
    R"sql(
CREATE TABLE interruptions (
  run_id   TEXT NOT NULL REFERENCES runs(id),
  host     TEXT NOT NULL DEFAULT '',
  accel    TEXT NOT NULL DEFAULT '',
  at       TEXT NOT NULL,
  guest_s  REAL NOT NULL DEFAULT 0,
  reason   TEXT NOT NULL DEFAULT ''
);
)sql",
};

std::string dump(const nlohmann::json& j) {
  // Guest text may hold invalid UTF-8: replace it rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RunState state_from_string(const std::string& s) {
  if (s == "running") return RunState::kRunning;
  if (s == "finished") return RunState::kFinished;
  if (s == "interrupted") return RunState::kInterrupted;
  return RunState::kQueued;
}

CampaignStatus status_from_string(const std::string& s) {
  if (s == "finished") return CampaignStatus::kFinished;
  if (s == "stopped") return CampaignStatus::kStopped;
  if (s == "decided") return CampaignStatus::kDecided;
  return CampaignStatus::kRunning;
}

constexpr const char* kRunColumns =
    "r.id, r.kernel, r.sequence, r.state, r.attempts, r.interruptions, r.verdict, r.kind, r.title, r.started_at, "
    "r.finished_at";

RunRow read_run_row(const Stmt& s) {
  RunRow r;
  r.run_id = s.text(0);
  r.kernel = s.text(1);
  r.sequence = static_cast<int>(s.integer(2));
  r.state = state_from_string(s.text(3));
  r.attempts = static_cast<int>(s.integer(4));
  r.interruptions = static_cast<int>(s.integer(5));
  if (!s.is_null(6)) r.verdict = verdict_from_string(s.text(6));
  r.kind = s.text(7);
  r.title = s.text(8);
  r.started_at = s.text(9);
  r.finished_at = s.text(10);
  return r;
}

// The campaign's exclusive lock: flock on <dir>/numasoak.lock, which holds
// the owner's pid so the refusal can name it. The kernel drops the flock when
// the process dies, however it dies, so a stale file never blocks a resume.
int take_lock(const fs::path& dir) {
  const fs::path path = dir / kStoreLockName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw infra_error(fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)),
                      fmt::format("check that {} is writable", dir.string()));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    if (err == EWOULDBLOCK) {
      char buf[32] = {};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      ::close(fd);
      const bool numeric = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
      throw usage_error(numeric ? fmt::format("campaign {} is in use by numasoak pid {}", dir.string(), pid)
                                : fmt::format("campaign {} is in use by another numasoak", dir.string()));
    }
    ::close(fd);
    throw infra_error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    throw infra_error(fmt::format("cannot write lock file {}: {}", path.string(), std::strerror(err)),
                      "check free space and permissions");
  }
  return fd;
}

}  // namespace

const char* to_string(RunState s) {
  switch (s) {
    case RunState::kQueued: return "queued";
    case RunState::kRunning: return "running";
    case RunState::kFinished: return "finished";
    case RunState::kInterrupted: return "interrupted";
  }
  return "queued";
}

const char* to_string(CampaignStatus s) {
  switch (s) {
    case CampaignStatus::kRunning: return "running";
    case CampaignStatus::kFinished: return "finished";
    case CampaignStatus::kStopped: return "stopped";
    case CampaignStatus::kDecided: return "decided";
  }
  return "running";
}

/// The Store's database, folder and lock.
struct Store::Impl {
  fs::path dir;
  Db db;
  bool read_only = false;
  int lock_fd = -1;
  std::vector<std::string> recovered;
  int schema = kStoreSchemaVersion;  // an older one only when opened read-only

  ~Impl() {
    db = Db();  // close the database before dropping the lock
    if (lock_fd >= 0) ::close(lock_fd);
  }

  int schema_version() {
    Stmt exists(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    exists.step();
    if (exists.integer(0) == 0) return 0;
    Stmt v(db, "SELECT max(version) FROM schema_version");
    return v.step() ? static_cast<int>(v.integer(0)) : 0;
  }

  void check_not_newer(int version) {
    if (version > kStoreSchemaVersion) {
      throw usage_error(fmt::format("campaign database {} has schema version {}, newer than this numasoak knows ({})",
                                    db.path(), version, kStoreSchemaVersion),
                        "use the numasoak that made it");
    }
  }

  void migrate() {
    Transaction tx(db);
    int version = schema_version();
    check_not_newer(version);
    if (version == 0) {
      Stmt tables(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      tables.step();
      if (tables.integer(0) != 0) {
        throw usage_error(fmt::format("{} is not a numasoak campaign database", db.path()),
                          "move it aside or choose another output folder");
      }
      db.exec(kSchemaV1);
      version = 1;
      Stmt(db, "INSERT INTO schema_version(version, applied_at) VALUES (1, ?)").bind(1, utc_now()).run();
    }
    for (; version < kStoreSchemaVersion; ++version) {
      if (static_cast<size_t>(version - 1) >= kMigrations.size()) break;
      db.exec(kMigrations[version - 1]);
      Stmt(db, "INSERT INTO schema_version(version, applied_at) VALUES (?, ?)")
          .bind(1, version + 1)
          .bind(2, utc_now())
          .run();
    }
    tx.commit();
  }

  // A harness that died mid-run left rows `running`: nobody runs them now.
  void recover_interrupted() {
    Transaction tx(db);
    Stmt sel(db, "SELECT id FROM runs WHERE state = 'running' ORDER BY sequence, id");
    while (sel.step()) recovered.push_back(sel.text(0));
    Stmt(db, "UPDATE runs SET state = 'interrupted', interruptions = interruptions + 1 WHERE state = 'running'").run();
    tx.commit();
    if (!recovered.empty()) {
      std::string list;
      for (const auto& r : recovered) list += (list.empty() ? "" : ", ") + r;
      spdlog::warn("campaign {}: {} run{} left running by an earlier numasoak {} queued again: {}", dir.string(),
                   recovered.size(), recovered.size() == 1 ? "" : "s", recovered.size() == 1 ? "is" : "are", list);
    }
  }

  void require_writable() const {
    if (read_only) throw infra_error(fmt::format("campaign database {} is open read-only", db.path()));
  }

  int kernel_position(const std::string& name) {
    Stmt s(db, "SELECT position FROM kernels WHERE name = ?");
    s.bind(1, name);
    return s.step() ? static_cast<int>(s.integer(0)) : -1;
  }

  void ensure_kernel(const std::string& name) {
    if (kernel_position(name) >= 0) return;
    Stmt(db, "INSERT INTO kernels(name, position) VALUES (?, (SELECT coalesce(max(position) + 1, 0) FROM kernels))")
        .bind(1, name)
        .run();
  }

  void touch_campaign() {
    Stmt(db, "UPDATE campaign SET updated_at = ? WHERE id = 1").bind(1, utc_now()).run();
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Store Store::open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw infra_error(fmt::format("cannot create campaign folder {}: {}", dir.string(), ec.message()),
                      "check the output_dir and its permissions");
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->lock_fd = take_lock(dir);
  impl->db = Db((dir / kStoreFileName).string(), false);
  {
    // journal_mode answers with a row; WAL keeps readers (report) and the
    // writer out of each other's way; FULL syncs every commit to the disk.
    Stmt wal(impl->db, "PRAGMA journal_mode = WAL");
    wal.step();
  }
  impl->db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  impl->migrate();
  impl->recover_interrupted();
  return Store(std::move(impl));
}

Store Store::open_read_only(const fs::path& dir) {
  const fs::path path = dir / kStoreFileName;
  if (!fs::is_regular_file(path)) {
    throw usage_error(fmt::format("{} has no campaign database ({})", dir.string(), kStoreFileName),
                      "give the output folder of a campaign, which numasoak run creates");
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->read_only = true;
  impl->db = Db(path.string(), true);
  const int version = impl->schema_version();
  if (version == 0) throw usage_error(fmt::format("{} is not a numasoak campaign database", path.string()));
  impl->check_not_newer(version);
  // Version 1 lacks only the interruptions table, which hosts() does
  // without: a report of an older campaign needs no upgrade.
  impl->schema = version;
  return Store(std::move(impl));
}

const fs::path& Store::dir() const { return impl_->dir; }
fs::path Store::db_path() const { return impl_->dir / kStoreFileName; }
bool Store::read_only() const { return impl_->read_only; }
const std::vector<std::string>& Store::recovered_runs() const { return impl_->recovered; }

void Store::set_campaign(const std::string& name, const std::string& file, const nlohmann::json& config) {
  impl_->require_writable();
  auto& db = impl_->db;
  const std::string now = utc_now();
  Transaction tx(db);
  Stmt(db,
       "INSERT INTO campaign(id, name, file, config, created_at, updated_at, status) VALUES (1, ?1, ?2, ?3, ?4, ?4, "
       "'running') ON CONFLICT(id) DO UPDATE SET name = ?1, file = ?2, config = ?3, updated_at = ?4")
      .bind(1, name)
      .bind(2, file)
      .bind(3, dump(config))
      .bind(4, now)
      .run();
  tx.commit();
}

std::optional<CampaignRecord> Store::campaign() const {
  Stmt s(impl_->db, "SELECT name, file, config, created_at, updated_at, status, stop_reason FROM campaign WHERE id = 1");
  if (!s.step()) return std::nullopt;
  CampaignRecord c;
  c.name = s.text(0);
  c.file = s.text(1);
  c.config = nlohmann::json::parse(s.text(2), nullptr, false);
  if (c.config.is_discarded()) c.config = nlohmann::json::object();
  c.created_at = s.text(3);
  c.updated_at = s.text(4);
  c.status = status_from_string(s.text(5));
  c.stop_reason = s.text(6);
  return c;
}

void Store::set_status(CampaignStatus status, const std::string& stop_reason) {
  impl_->require_writable();
  auto& db = impl_->db;
  Transaction tx(db);
  Stmt(db, "UPDATE campaign SET status = ?, stop_reason = ?, updated_at = ? WHERE id = 1")
      .bind(1, to_string(status))
      .bind(2, stop_reason)
      .bind(3, utc_now())
      .run();
  if (db.changes() == 0) {
    throw infra_error(fmt::format("campaign database {}: set_status before set_campaign", db.path()));
  }
  tx.commit();
}

void Store::record_kernel(const KernelRecord& k) {
  impl_->require_writable();
  auto& db = impl_->db;
  Transaction tx(db);
  impl_->ensure_kernel(k.name);
  Stmt(db, "UPDATE kernels SET release = ?, source = ?, manifest = ? WHERE name = ?")
      .bind(1, k.release)
      .bind(2, k.source)
      .bind(3, dump(k.manifest.is_null() ? nlohmann::json::object() : k.manifest))
      .bind(4, k.name)
      .run();
  tx.commit();
}

std::vector<KernelRecord> Store::kernels() const {
  Stmt s(impl_->db, "SELECT name, release, source, manifest, position FROM kernels ORDER BY position");
  std::vector<KernelRecord> out;
  while (s.step()) {
    KernelRecord k;
    k.name = s.text(0);
    k.release = s.text(1);
    k.source = s.text(2);
    k.manifest = nlohmann::json::parse(s.text(3), nullptr, false);
    if (k.manifest.is_discarded()) k.manifest = nlohmann::json::object();
    k.position = static_cast<int>(s.integer(4));
    out.push_back(std::move(k));
  }
  return out;
}

int Store::plan_runs(const std::vector<std::string>& kernel_names, int runs_per_kernel) {
  impl_->require_writable();
  auto& db = impl_->db;
  Transaction tx(db);
  int added = 0;
  for (const auto& k : kernel_names) {
    impl_->ensure_kernel(k);
    for (int n = 1; n <= runs_per_kernel; ++n) {
      Stmt(db, "INSERT OR IGNORE INTO runs(id, kernel, sequence, state) VALUES (?, ?, ?, 'queued')")
          .bind(1, fmt::format("{}-{}", k, n))
          .bind(2, k)
          .bind(3, n)
          .run();
      added += db.changes();
    }
  }
  if (added > 0) impl_->touch_campaign();
  tx.commit();
  return added;
}

std::optional<RunRow> Store::next_queued() const {
  Stmt s(impl_->db, fmt::format("SELECT {} FROM runs r JOIN kernels k ON k.name = r.kernel "
                                "WHERE r.state IN ('queued', 'interrupted') ORDER BY r.sequence, k.position LIMIT 1",
                                kRunColumns));
  if (!s.step()) return std::nullopt;
  return read_run_row(s);
}

void Store::mark_running(const std::string& run_id, const std::string& started_at) {
  impl_->require_writable();
  auto& db = impl_->db;
  Transaction tx(db);
  Stmt(db,
       "UPDATE runs SET state = 'running', attempts = attempts + 1, started_at = ? "
       "WHERE id = ? AND state IN ('queued', 'interrupted')")
      .bind(1, started_at.empty() ? utc_now() : started_at)
      .bind(2, run_id)
      .run();
  if (db.changes() != 1) {
    auto row = run(run_id);
    throw infra_error(row ? fmt::format("run {} cannot start: it is {}", run_id, to_string(row->state))
                          : fmt::format("run {} is not planned in campaign {}", run_id, impl_->dir.string()));
  }
  tx.commit();
}

void Store::finish_run(const RunResult& r) {
  impl_->require_writable();
  auto& db = impl_->db;
  Transaction tx(db);
  auto row = run(r.run_id);
  if (!row) throw infra_error(fmt::format("run {} is not planned in campaign {}", r.run_id, impl_->dir.string()));
  if (row->state == RunState::kFinished) {
    throw infra_error(fmt::format("run {} is already finished: a run is never counted twice", r.run_id));
  }
  if (row->kernel != r.kernel) {
    throw infra_error(fmt::format("run {} belongs to kernel {}, not {}", r.run_id, row->kernel, r.kernel));
  }
  const nlohmann::json result = r;
  const std::string finished_at = r.finished_at.empty() ? utc_now() : r.finished_at;

  if (r.verdict == Verdict::kInterrupted) {
    // No evidence: back into the queue, keeping what it saw for diagnosis.
    Stmt(db,
         "UPDATE runs SET state = 'interrupted', interruptions = interruptions + 1, result = ?, finished_at = ? "
         "WHERE id = ?")
        .bind(1, dump(result))
        .bind(2, finished_at)
        .bind(3, r.run_id)
        .run();
    Stmt(db, "INSERT INTO interruptions(run_id, host, accel, at, guest_s, reason) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, r.run_id)
        .bind(2, r.host)
        .bind(3, r.accel)
        .bind(4, finished_at)
        .bind(5, r.boot_s + r.exposure_s)
        .bind(6, r.title)
        .run();
    impl_->touch_campaign();
    tx.commit();
    return;
  }

  Stmt(db,
       "UPDATE runs SET state = 'finished', verdict = ?, kind = ?, title = ?, time_to_failure_s = ?, uptime_s = ?, "
       "boot_s = ?, exposure_s = ?, host = ?, accel = ?, started_at = coalesce(nullif(?, ''), started_at), "
       "finished_at = ?, telemetry = ?, artifacts = ?, result = ? WHERE id = ?")
      .bind(1, to_string(r.verdict))
      .bind(2, r.kind)
      .bind(3, r.title)
      .bind(4, r.time_to_failure_s)
      .bind(5, r.uptime_s)
      .bind(6, r.boot_s)
      .bind(7, r.exposure_s)
      .bind(8, r.host)
      .bind(9, r.accel)
      .bind(10, r.started_at)
      .bind(11, finished_at)
      .bind(12, dump(nlohmann::json{{"event_totals", r.event_totals}, {"rates", r.rates}}))
      .bind(13, dump(result["artifacts"]))
      .bind(14, dump(result))
      .bind(15, r.run_id)
      .run();

  if (r.verdict == Verdict::kFailed) {
    // Fold this run's failures into the per-(kernel, kind, title) groups:
    // `count` adds every occurrence, `runs` adds one per distinct crash.
    /// One (kernel, kind, title) group being folded.
    struct Group {
      int count = 0;
      std::string report;
    };
    std::map<std::pair<std::string, std::string>, Group> groups;
    for (const auto& f : r.failures) {
      auto& g = groups[{f.kind, f.title}];
      if (g.count++ == 0) g.report = f.report;
    }
    if (groups.empty()) groups[{r.kind, r.title}] = Group{1, {}};
    for (const auto& [key, g] : groups) {
      Stmt(db,
           "INSERT INTO failures(kernel, kind, title, count, runs, first_seen, last_seen, example_run, example_report) "
           "VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?7) "
           "ON CONFLICT(kernel, kind, title) DO UPDATE SET count = count + excluded.count, runs = runs + 1, "
           "last_seen = max(last_seen, excluded.last_seen), first_seen = min(first_seen, excluded.first_seen), "
           "example_run = CASE WHEN example_report = '' AND excluded.example_report <> '' "
           "THEN excluded.example_run ELSE example_run END, "
           "example_report = CASE WHEN example_report = '' THEN excluded.example_report ELSE example_report END")
          .bind(1, r.kernel)
          .bind(2, key.first)
          .bind(3, key.second)
          .bind(4, g.count)
          .bind(5, finished_at)
          .bind(6, r.run_id)
          .bind(7, g.report)
          .run();
    }
  }
  impl_->touch_campaign();
  tx.commit();
}

Store::Snapshot::Snapshot(const Store& store) : store_(store) {
  // A deferred transaction takes its read snapshot at the first read.
  store_.impl_->db.exec("BEGIN DEFERRED");
  Stmt(store_.impl_->db, "SELECT count(*) FROM schema_version").run();
}

Store::Snapshot::~Snapshot() {
  try {
    store_.impl_->db.exec("COMMIT");
  } catch (const Error&) {
    // Nothing was written; the connection rolls back on its own.
  }
}

std::optional<RunRow> Store::run(const std::string& run_id) const {
  Stmt s(impl_->db, fmt::format("SELECT {} FROM runs r WHERE r.id = ?", kRunColumns));
  s.bind(1, run_id);
  if (!s.step()) return std::nullopt;
  return read_run_row(s);
}

std::vector<RunRow> Store::runs() const {
  Stmt s(impl_->db, fmt::format("SELECT {} FROM runs r JOIN kernels k ON k.name = r.kernel "
                                "ORDER BY r.sequence, k.position",
                                kRunColumns));
  std::vector<RunRow> out;
  while (s.step()) out.push_back(read_run_row(s));
  return out;
}

std::vector<KernelCounts> Store::counts() const {
  Stmt s(impl_->db,
         "SELECT k.name, count(r.id), "
         "coalesce(sum(r.state = 'queued'), 0), coalesce(sum(r.state = 'running'), 0), "
         "coalesce(sum(r.state = 'interrupted'), 0), coalesce(sum(r.state = 'finished'), 0), "
         "coalesce(sum(r.verdict = 'failed'), 0), coalesce(sum(r.verdict = 'survived'), 0), "
         "coalesce(sum(r.verdict = 'error'), 0), "
         "coalesce(sum(CASE WHEN r.verdict IN ('failed', 'survived') THEN r.exposure_s END), 0) "
         "FROM kernels k LEFT JOIN runs r ON r.kernel = k.name GROUP BY k.name ORDER BY k.position");
  std::vector<KernelCounts> out;
  while (s.step()) {
    KernelCounts c;
    c.kernel = s.text(0);
    c.planned = static_cast<int>(s.integer(1));
    c.queued = static_cast<int>(s.integer(2));
    c.running = static_cast<int>(s.integer(3));
    c.interrupted = static_cast<int>(s.integer(4));
    c.finished = static_cast<int>(s.integer(5));
    c.failed = static_cast<int>(s.integer(6));
    c.survived = static_cast<int>(s.integer(7));
    c.errors = static_cast<int>(s.integer(8));
    c.exposure_s = s.real(9);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<RunResult> Store::finished_runs() const {
  Stmt s(impl_->db,
         "SELECT r.id, r.result FROM runs r JOIN kernels k ON k.name = r.kernel WHERE r.state = 'finished' "
         "ORDER BY k.position, r.sequence");
  std::vector<RunResult> out;
  while (s.step()) {
    auto j = nlohmann::json::parse(s.text(1), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      throw infra_error(fmt::format("campaign database {}: run {} has an unreadable result", impl_->db.path(), s.text(0)),
                        "the database is damaged");
    }
    out.push_back(j.get<RunResult>());
  }
  return out;
}

std::vector<FailureGroup> Store::failures() const {
  Stmt s(impl_->db,
         "SELECT f.kernel, f.kind, f.title, f.count, f.runs, f.first_seen, f.last_seen, f.example_run, "
         "f.example_report FROM failures f JOIN kernels k ON k.name = f.kernel "
         "ORDER BY k.position, f.runs DESC, f.count DESC, f.title");
  std::vector<FailureGroup> out;
  while (s.step()) {
    FailureGroup g;
    g.kernel = s.text(0);
    g.kind = s.text(1);
    g.title = s.text(2);
    g.count = static_cast<int>(s.integer(3));
    g.runs = static_cast<int>(s.integer(4));
    g.first_seen = s.text(5);
    g.last_seen = s.text(6);
    g.example_run_id = s.text(7);
    g.example_report = s.text(8);
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<HostFigures> Store::hosts() const {
  // Finished runs and interrupted attempts, one row each, grouped by host.
  const std::string interrupted =
      impl_->schema >= 2 ? " UNION ALL SELECT host, accel, 0, 0, 0, 0, 1, guest_s FROM interruptions WHERE host != ''" : "";
  Stmt s(impl_->db,
         "SELECT host, group_concat(DISTINCT nullif(accel, '')), sum(fin), sum(failed), sum(survived), sum(errors), "
         "sum(intr), sum(guest_s) FROM ("
         "  SELECT host, accel, 1 AS fin, verdict = 'failed' AS failed, verdict = 'survived' AS survived, "
         "         verdict = 'error' AS errors, 0 AS intr, coalesce(boot_s, 0) + coalesce(exposure_s, 0) AS guest_s "
         "  FROM runs WHERE state = 'finished'" +
             interrupted + ") GROUP BY host ORDER BY host");
  std::vector<HostFigures> out;
  while (s.step()) {
    HostFigures h;
    h.host = s.text(0);
    h.accel = s.text(1);
    h.runs = static_cast<int>(s.integer(2));
    h.failed = static_cast<int>(s.integer(3));
    h.survived = static_cast<int>(s.integer(4));
    h.errors = static_cast<int>(s.integer(5));
    h.interrupted = static_cast<int>(s.integer(6));
    h.guest_s = s.real(7);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace numasoak
