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
#include "store/impl.h"
#include "store/sqlite.h"

namespace numasoak {

namespace fs = std::filesystem;
using store_detail::Db;
using store_detail::Stmt;
using store_detail::Transaction;
using store_detail::take_lock;

std::string store_detail::dump(const nlohmann::json& j) {
  // Guest text may hold invalid UTF-8: replace it rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RunState store_detail::state_from_string(const std::string& s) {
  if (s == "running") return RunState::kRunning;
  if (s == "finished") return RunState::kFinished;
  if (s == "interrupted") return RunState::kInterrupted;
  return RunState::kQueued;
}

CampaignStatus store_detail::status_from_string(const std::string& s) {
  if (s == "finished") return CampaignStatus::kFinished;
  if (s == "stopped") return CampaignStatus::kStopped;
  if (s == "decided") return CampaignStatus::kDecided;
  return CampaignStatus::kRunning;
}

const char* const store_detail::kRunColumns =
    "r.id, r.kernel, r.sequence, r.state, r.attempts, r.interruptions, r.verdict, r.kind, r.title, r.started_at, "
    "r.finished_at";

RunRow store_detail::read_run_row(const Stmt& s) {
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

void Store::Impl::require_writable() const {
  if (read_only) throw infra_error(fmt::format("campaign database {} is open read-only", db.path()));
}

int Store::Impl::kernel_position(const std::string& name) {
  Stmt s(db, "SELECT position FROM kernels WHERE name = ?");
  s.bind(1, name);
  return s.step() ? static_cast<int>(s.integer(0)) : -1;
}

void Store::Impl::ensure_kernel(const std::string& name) {
  if (kernel_position(name) >= 0) return;
  Stmt(db, "INSERT INTO kernels(name, position) VALUES (?, (SELECT coalesce(max(position) + 1, 0) FROM kernels))")
      .bind(1, name)
      .run();
}

void Store::Impl::touch_campaign() {
  Stmt(db, "UPDATE campaign SET updated_at = ? WHERE id = 1").bind(1, utc_now()).run();
}

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

}  // namespace numasoak
