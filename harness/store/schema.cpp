// The campaign database's schema and its migrations (store/impl.h).
#include "store/impl.h"

#include <array>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"

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

}  // namespace

int Store::Impl::schema_version() {
  Stmt exists(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  exists.step();
  if (exists.integer(0) == 0) return 0;
  Stmt v(db, "SELECT max(version) FROM schema_version");
  return v.step() ? static_cast<int>(v.integer(0)) : 0;
}

void Store::Impl::check_not_newer(int version) {
  if (version > kStoreSchemaVersion) {
    throw usage_error(fmt::format("campaign database {} has schema version {}, newer than this numasoak knows ({})",
                                  db.path(), version, kStoreSchemaVersion),
                      "use the numasoak that made it");
  }
}

void Store::Impl::migrate() {
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
void Store::Impl::recover_interrupted() {
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

}  // namespace numasoak
