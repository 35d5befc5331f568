// The Store's reads: the campaign, its kernels, runs, counts and failures.
#include "store/impl.h"

#include <fmt/format.h>
#include <map>
#include <set>

#include "common/error.h"

namespace numasoak {

namespace fs = std::filesystem;
using store_detail::Db;
using store_detail::Stmt;
using store_detail::Transaction;
using store_detail::kRunColumns;
using store_detail::read_run_row;
using store_detail::state_from_string;
using store_detail::status_from_string;

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

std::optional<RunRow> Store::next_queued() const {
  Stmt s(impl_->db, fmt::format("SELECT {} FROM runs r JOIN kernels k ON k.name = r.kernel "
                                "WHERE r.state IN ('queued', 'interrupted') ORDER BY r.sequence, k.position LIMIT 1",
                                kRunColumns));
  if (!s.step()) return std::nullopt;
  return read_run_row(s);
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
