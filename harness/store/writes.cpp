// The Store's writes: the campaign, its kernels, planning and finishing runs.
#include "store/impl.h"

#include <fmt/format.h>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"

namespace numasoak {

namespace fs = std::filesystem;
using store_detail::Db;
using store_detail::Stmt;
using store_detail::Transaction;
using store_detail::dump;

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

}  // namespace numasoak
