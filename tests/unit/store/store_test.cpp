// Store: the campaign database keeps every state change durable and never
// counts a run twice, across reopen, crash (SIGKILL), a second numasoak on
// the same folder and a full disk.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/paths.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace numasoak;

namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_private_dir("numasoak-store-test"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

RunResult failed_run(const std::string& kernel, int n, double ttf, const std::string& title = "bad pmd") {
  RunResult r;
  r.run_id = kernel + "-" + std::to_string(n);
  r.kernel = kernel;
  r.kernel_release = "6.1.192";
  r.host = "local";
  r.accel = "tcg";
  r.verdict = Verdict::kFailed;
  r.kind = "bad-pmd";
  r.title = title;
  r.time_to_failure_s = ttf;
  r.uptime_s = ttf + 3;
  r.boot_s = 2.5;
  r.exposure_s = ttf;
  r.failures.push_back({"bad-pmd", title, ttf, ttf + 3, "", "mm/pgtable-generic.c:51: bad pmd (0000000012345678)"});
  r.event_totals = {{"numa_pages_migrated", 1000}};
  r.rates = {{"numa_pages_migrated", 1000 / ttf}};
  r.started_at = "2025-01-01T00:00:00Z";
  r.finished_at = "2025-01-01T00:01:00Z";
  r.artifacts.dir = "runs/" + r.run_id;
  r.artifacts.console_log = "runs/" + r.run_id + "/console.log";
  return r;
}

RunResult survived_run(const std::string& kernel, int n, double exposure) {
  RunResult r;
  r.run_id = kernel + "-" + std::to_string(n);
  r.kernel = kernel;
  r.verdict = Verdict::kSurvived;
  r.exposure_s = exposure;
  r.finished_at = "2025-01-01T00:05:00Z";
  return r;
}

TEST_F(StoreTest, PlanRunFinishReopen) {
  {
    Store s = Store::open(dir_);
    s.set_campaign("default", "configs/default.toml", nlohmann::json{{"runs_per_kernel", 3}});
    s.record_kernel({"6.1", "6.1.192", "linux-source-6.1", {{"sha", "abc"}}, 0});
    EXPECT_EQ(s.plan_runs({"6.1", "6.1+backport"}, 3), 6);
    EXPECT_EQ(s.plan_runs({"6.1", "6.1+backport"}, 3), 0) << "planning is idempotent";
    EXPECT_EQ(s.plan_runs({"6.1", "6.1+backport"}, 4), 2) << "raising the count adds only the missing runs";

    // Interleaved: sequence first, then kernel order.
    auto next = s.next_queued();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->run_id, "6.1-1");
    s.mark_running("6.1-1");
    EXPECT_EQ(s.next_queued()->run_id, "6.1+backport-1");
    s.finish_run(failed_run("6.1", 1, 14.0));
    s.mark_running("6.1+backport-1");
    s.finish_run(survived_run("6.1+backport", 1, 180));
    EXPECT_EQ(s.next_queued()->run_id, "6.1-2");
    EXPECT_THROW(s.finish_run(failed_run("6.1", 1, 14.0)), Error) << "a run is never finished twice";
    EXPECT_THROW(s.mark_running("6.1-1"), Error);
    EXPECT_THROW(s.mark_running("nope-1"), Error);
  }
  Store s = Store::open(dir_);
  EXPECT_TRUE(s.recovered_runs().empty());
  auto c = s.campaign();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "default");
  EXPECT_EQ(c->config["runs_per_kernel"], 3);
  EXPECT_EQ(c->status, CampaignStatus::kRunning);
  s.set_status(CampaignStatus::kDecided, "p < 0.001 after 2 runs");
  EXPECT_EQ(s.campaign()->status, CampaignStatus::kDecided);
  EXPECT_EQ(s.campaign()->stop_reason, "p < 0.001 after 2 runs");

  auto kernels = s.kernels();
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].name, "6.1");
  EXPECT_EQ(kernels[0].release, "6.1.192");
  EXPECT_EQ(kernels[0].manifest["sha"], "abc");
  EXPECT_EQ(kernels[1].name, "6.1+backport");
  EXPECT_EQ(kernels[1].position, 1);

  auto counts = s.counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].planned, 4);
  EXPECT_EQ(counts[0].finished, 1);
  EXPECT_EQ(counts[0].failed, 1);
  EXPECT_EQ(counts[0].queued, 3);
  EXPECT_DOUBLE_EQ(counts[0].exposure_s, 14.0);
  EXPECT_EQ(counts[1].survived, 1);
  EXPECT_DOUBLE_EQ(counts[1].exposure_s, 180.0);

  auto runs = s.finished_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run_id, "6.1-1");
  EXPECT_EQ(runs[0].verdict, Verdict::kFailed);
  EXPECT_EQ(runs[0].title, "bad pmd");
  ASSERT_TRUE(runs[0].time_to_failure_s);
  EXPECT_DOUBLE_EQ(*runs[0].time_to_failure_s, 14.0);
  EXPECT_EQ(runs[0].failures.size(), 1u);
  EXPECT_EQ(runs[0].artifacts.console_log, "runs/6.1-1/console.log");
  EXPECT_DOUBLE_EQ(runs[0].rates.at("numa_pages_migrated"), 1000 / 14.0);
  EXPECT_EQ(runs[1].verdict, Verdict::kSurvived);

  auto row = s.run("6.1-1");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, RunState::kFinished);
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(s.runs().size(), 8u);
}

TEST_F(StoreTest, RunLeftRunningBecomesInterruptedAndIsRequeued) {
  {
    Store s = Store::open(dir_);
    s.plan_runs({"a", "b"}, 2);
    s.mark_running("a-1");
    s.finish_run(failed_run("a", 1, 10));
    s.mark_running("b-1");  // the harness "dies" with b-1 running
  }
  Store s = Store::open(dir_);
  ASSERT_EQ(s.recovered_runs(), std::vector<std::string>{"b-1"});
  auto row = s.run("b-1");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, RunState::kInterrupted);
  EXPECT_EQ(row->interruptions, 1);
  EXPECT_FALSE(row->verdict);

  auto counts = s.counts();
  EXPECT_EQ(counts[1].kernel, "b");
  EXPECT_EQ(counts[1].interrupted, 1);
  EXPECT_EQ(counts[1].finished, 0);
  EXPECT_EQ(counts[1].failed, 0);
  EXPECT_EQ(counts[1].survived, 0);
  EXPECT_EQ(s.finished_runs().size(), 1u) << "the interrupted run is not evidence";

  // It is re-queued at its place in the interleaving.
  auto next = s.next_queued();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->run_id, "b-1");
  s.mark_running("b-1");
  s.finish_run(survived_run("b", 1, 60));
  row = s.run("b-1");
  EXPECT_EQ(row->attempts, 2);
  EXPECT_EQ(row->state, RunState::kFinished);
  EXPECT_EQ(s.counts()[1].survived, 1);

  // An explicit interrupted verdict (Ctrl-C) re-queues as well.
  s.mark_running("a-2");
  RunResult r = survived_run("a", 2, 5);
  r.verdict = Verdict::kInterrupted;
  s.finish_run(r);
  EXPECT_EQ(s.run("a-2")->state, RunState::kInterrupted);
  EXPECT_EQ(s.next_queued()->run_id, "a-2");
  EXPECT_EQ(s.counts()[0].finished, 1);
}

TEST_F(StoreTest, SecondOpenIsRefusedWithTheHolderPid) {
  Store first = Store::open(dir_);
  const std::string expected = "campaign " + dir_.string() + " is in use by numasoak pid " + std::to_string(getpid());
  try {
    Store second = Store::open(dir_);
    FAIL() << "second open succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }

  // Another process sees the same refusal.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    std::string msg = "opened";
    try {
      Store s = Store::open(dir_);
    } catch (const Error& e) {
      msg = e.what();
    }
    (void)!write(pipefd[1], msg.data(), msg.size());
    _exit(0);
  }
  close(pipefd[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(got, expected);

  // A reader needs no lock.
  Store reader = Store::open_read_only(dir_);
  EXPECT_TRUE(reader.read_only());
  EXPECT_THROW(reader.plan_runs({"x"}, 1), Error);

  // Once the holder is gone the campaign opens again.
  first = Store::open_read_only(dir_);
  EXPECT_NO_THROW(Store::open(dir_));
}

TEST_F(StoreTest, ReadOnlyOpenWithoutDatabaseIsAUsageError) {
  try {
    Store::open_read_only(dir_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("no campaign database"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, ReaderSeesTheWritersCommits) {
  Store w = Store::open(dir_);
  w.plan_runs({"a"}, 2);
  Store r = Store::open_read_only(dir_);
  EXPECT_EQ(r.counts()[0].finished, 0);
  w.mark_running("a-1");
  w.finish_run(failed_run("a", 1, 3));
  EXPECT_EQ(r.counts()[0].failed, 1);
  EXPECT_EQ(r.finished_runs().size(), 1u);
  {
    // A snapshot keeps a series of reads consistent while the writer goes on.
    const auto snap = r.snapshot();
    EXPECT_EQ(r.counts()[0].finished, 1);
    w.mark_running("a-2");
    w.finish_run(survived_run("a", 2, 60));
    EXPECT_EQ(r.counts()[0].finished, 1);
    EXPECT_EQ(r.finished_runs().size(), 1u);
  }
  EXPECT_EQ(r.counts()[0].finished, 2);
}

TEST_F(StoreTest, ReadOnlyOpenAfterTheWriterClosed) {
  {
    Store w = Store::open(dir_);
    w.plan_runs({"a"}, 2);
    w.mark_running("a-1");
    w.finish_run(failed_run("a", 1, 3));
  }
  Store r = Store::open_read_only(dir_);
  EXPECT_EQ(r.counts()[0].failed, 1);
  EXPECT_EQ(r.finished_runs().size(), 1u);
  EXPECT_EQ(r.runs().size(), 2u);
}

TEST_F(StoreTest, FailuresAreDeduplicatedByKernelKindTitle) {
  Store s = Store::open(dir_);
  s.plan_runs({"a", "b"}, 3);
  auto r1 = failed_run("a", 1, 10);
  r1.failures.push_back(r1.failures[0]);  // the same crash twice in one run
  r1.failures[1].report = "second";
  r1.finished_at = "2025-01-01T00:00:10Z";
  auto r2 = failed_run("a", 2, 20);
  r2.finished_at = "2025-01-02T00:00:10Z";
  auto r3 = failed_run("a", 3, 30, "BUG: kernel NULL pointer dereference, address: 0000000000000000");
  r3.failures[0].kind = "null-deref";
  auto r4 = failed_run("b", 1, 40);
  auto r5 = failed_run("b", 2, 50);
  r5.failures.clear();  // a failure with no record still counts once, from kind/title
  for (auto* r : {&r1, &r2, &r3, &r4, &r5}) {
    s.mark_running(r->run_id);
    s.finish_run(*r);
  }
  auto f = s.failures();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].kernel, "a");
  EXPECT_EQ(f[0].title, "bad pmd");
  EXPECT_EQ(f[0].count, 3);
  EXPECT_EQ(f[0].runs, 2);
  EXPECT_EQ(f[0].first_seen, "2025-01-01T00:00:10Z");
  EXPECT_EQ(f[0].last_seen, "2025-01-02T00:00:10Z");
  EXPECT_EQ(f[0].example_run_id, "a-1");
  EXPECT_EQ(f[0].example_report, "mm/pgtable-generic.c:51: bad pmd (0000000012345678)");
  EXPECT_EQ(f[1].kind, "null-deref");
  EXPECT_EQ(f[1].runs, 1);
  EXPECT_EQ(f[2].kernel, "b");
  EXPECT_EQ(f[2].kind, "bad-pmd");
  EXPECT_EQ(f[2].runs, 2);
  EXPECT_EQ(f[2].count, 2);
  EXPECT_EQ(f[2].example_run_id, "b-1");
}

// Deterministic content for run n, so the parent can check what survived.
RunResult loop_result(int n) {
  RunResult r = n % 3 == 0 ? failed_run("k", n, n * 1.5) : survived_run("k", n, n * 2.0);
  r.title = r.verdict == Verdict::kFailed ? "bad pmd " + std::to_string(n) : "";
  r.failures.clear();
  r.kind = r.verdict == Verdict::kFailed ? "bad-pmd" : "";
  return r;
}

TEST_F(StoreTest, SigkilledWriterLeavesAnIntactDatabase) {
  constexpr int kRuns = 100000;
  {
    Store s = Store::open(dir_);
    s.plan_runs({"k"}, kRuns);
  }
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    Store s = Store::open(dir_);
    for (int n = 1; n <= kRuns; ++n) {
      s.mark_running("k-" + std::to_string(n));
      s.finish_run(loop_result(n));
      (void)!write(pipefd[1], "x", 1);
    }
    _exit(0);
  }
  close(pipefd[1]);
  // Let it commit a good number of runs, then kill it mid-stream.
  int seen = 0;
  char c;
  while (seen < 40 && read(pipefd[0], &c, 1) == 1) ++seen;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipefd[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  Store s = Store::open(dir_);
  auto runs = s.finished_runs();
  ASSERT_GE(runs.size(), 40u);
  ASSERT_LT(runs.size(), static_cast<size_t>(kRuns));
  for (size_t i = 0; i < runs.size(); ++i) {
    const int n = static_cast<int>(i) + 1;
    const RunResult want = loop_result(n);
    EXPECT_EQ(runs[i].run_id, want.run_id);
    EXPECT_EQ(runs[i].verdict, want.verdict);
    EXPECT_EQ(runs[i].title, want.title);
    EXPECT_DOUBLE_EQ(runs[i].exposure_s, want.exposure_s);
  }
  EXPECT_LE(s.recovered_runs().size(), 1u);
  const auto counts = s.counts()[0];
  EXPECT_EQ(counts.finished, static_cast<int>(runs.size()));
  EXPECT_EQ(counts.running, 0);
  EXPECT_EQ(counts.finished + counts.queued + counts.interrupted, kRuns);
  auto next = s.next_queued();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->run_id, "k-" + std::to_string(runs.size() + 1));
}

TEST_F(StoreTest, WriteErrorIsAnInfrastructureErrorAndWritesNothing) {
  {
    Store s = Store::open(dir_);
    s.plan_runs({"k"}, 2);
  }
  const std::string db = (dir_ / kStoreFileName).string();
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    std::string msg = "no error";
    try {
      Store s = Store::open(dir_);
      s.mark_running("k-1");
      // Files may not grow past what they are now (plus a little): the
      // disk is "full" for the big result below.
      std::uintmax_t largest = 0;
      for (const auto& e : fs::directory_iterator(dir_)) largest = std::max(largest, e.file_size());
      signal(SIGXFSZ, SIG_IGN);
      rlimit lim{largest + 8192, largest + 8192};
      setrlimit(RLIMIT_FSIZE, &lim);
      RunResult r = failed_run("k", 1, 5);
      r.failures[0].report = std::string(4 << 20, 'x');
      s.finish_run(r);
    } catch (const Error& e) {
      msg = std::string(e.kind() == ErrorKind::kInfrastructure ? "infra: " : "other: ") + e.what();
    }
    (void)!write(pipefd[1], msg.data(), msg.size());
    _exit(0);
  }
  close(pipefd[1]);
  std::string got;
  char buf[1024];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(got.rfind("infra: ", 0), 0u) << got;
  EXPECT_NE(got.find(db), std::string::npos) << got;

  Store s = Store::open(dir_);
  EXPECT_EQ(s.run("k-1")->state, RunState::kInterrupted) << "the failed write left nothing half-done";
  EXPECT_TRUE(s.failures().empty());
  EXPECT_TRUE(s.finished_runs().empty());
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  { Store s = Store::open(dir_); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / kStoreFileName).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'x')", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    Store::open(dir_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, PerHostFiguresKeepInterruptedAttempts) {
  Store s = Store::open(dir_);
  s.plan_runs({"6.1", "6.1+backport"}, 2);
  // 6.1-1 is lost on the ssh host (re-queued), then runs on the local one.
  s.mark_running("6.1-1", "2025-01-01T00:00:00Z");
  RunResult lost;
  lost.run_id = "6.1-1";
  lost.kernel = "6.1";
  lost.host = "qemu+ssh://root@127.0.0.1:2222/system";
  lost.accel = "tcg";
  lost.verdict = Verdict::kInterrupted;
  lost.kind = "interrupted";
  lost.title = "host-gone: libvirt host went away";
  lost.boot_s = 20;
  lost.exposure_s = 5;
  s.finish_run(lost);
  EXPECT_EQ(s.next_queued()->run_id, "6.1-1") << "re-queued";
  s.mark_running("6.1-1", "2025-01-01T00:01:00Z");
  RunResult a = failed_run("6.1", 1, 14.0);
  a.host = "qemu:///system";
  s.finish_run(a);
  s.mark_running("6.1+backport-1", "2025-01-01T00:02:00Z");
  RunResult b = survived_run("6.1+backport", 1, 60);
  b.host = "qemu:///system";
  b.accel = "kvm";
  b.boot_s = 10;
  s.finish_run(b);

  auto hosts = s.hosts();
  ASSERT_EQ(hosts.size(), 2u);
  if (hosts[0].host != lost.host) std::swap(hosts[0], hosts[1]);
  EXPECT_EQ(hosts[0].host, lost.host);
  EXPECT_EQ(hosts[0].runs, 0);
  EXPECT_EQ(hosts[0].interrupted, 1);
  EXPECT_DOUBLE_EQ(hosts[0].guest_s, 25);
  EXPECT_EQ(hosts[0].accel, "tcg");
  EXPECT_EQ(hosts[1].host, "qemu:///system");
  EXPECT_EQ(hosts[1].runs, 2);
  EXPECT_EQ(hosts[1].failed, 1);
  EXPECT_EQ(hosts[1].survived, 1);
  EXPECT_EQ(hosts[1].errors, 0);
  EXPECT_EQ(hosts[1].interrupted, 0);
  EXPECT_DOUBLE_EQ(hosts[1].guest_s, 2.5 + 14 + 10 + 60);
  EXPECT_NE(hosts[1].accel.find("tcg"), std::string::npos) << hosts[1].accel;
  EXPECT_NE(hosts[1].accel.find("kvm"), std::string::npos) << hosts[1].accel;
  // The kernel counts do not see the lost attempt.
  EXPECT_EQ(s.counts()[0].finished, 1);
  EXPECT_EQ(s.counts()[0].failed, 1);
}

TEST_F(StoreTest, VersionOneDatabaseIsUpgraded) {
  {
    Store s = Store::open(dir_);
    s.plan_runs({"6.1"}, 1);
  }
  // Take it back to version 1 as an older numasoak left it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / kStoreFileName).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE interruptions; DELETE FROM schema_version WHERE version > 1", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    // `numasoak report` on an older campaign: read as it is, no upgrade.
    const Store reader = Store::open_read_only(dir_);
    EXPECT_EQ(reader.runs().size(), 1u);
    EXPECT_TRUE(reader.hosts().empty());
  }
  Store s = Store::open(dir_);
  EXPECT_EQ(s.runs().size(), 1u) << "nothing lost";
  s.mark_running("6.1-1");
  RunResult r;
  r.run_id = "6.1-1";
  r.kernel = "6.1";
  r.host = "qemu:///system";
  r.verdict = Verdict::kInterrupted;
  s.finish_run(r);
  ASSERT_EQ(s.hosts().size(), 1u);
  EXPECT_EQ(s.hosts()[0].interrupted, 1);
}

TEST_F(StoreTest, ForeignFileIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / kStoreFileName).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(Store::open(dir_), Error);
}

}  // namespace
