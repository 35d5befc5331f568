// The faults numasoak promises to survive (README "What numasoak promises",
// issue 8), each with real processes: real QEMU and kernels where a guest is
// involved, the real CLI where the promise is about the CLI. One test per
// promise; each fails if the promise breaks.
#include <map>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/mount.h>

#include "cli_fixture.h"
#include "guest_fixture.h"
#include "process_backend.h"
#include "store/store.h"
#include "common/child_env.h"

namespace numasoak::testing {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using std::chrono::seconds;

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A field of /proc/self/status in KiB ("VmHWM", "VmRSS").
long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// A tmpfs of `size` mounted on a fresh folder for the life of the object;
// unmounted (lazily, so a file still open cannot keep it) even when the
// test fails.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    dir_ = fs::temp_directory_path() / ("numasoak-smalldisk-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string opts = "size=" + size + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) ADD_FAILURE() << "mount tmpfs on " << dir_ << ": " << std::strerror(errno) << " (run as root)";
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool mounted() const { return mounted_; }
  const fs::path& dir() const { return dir_; }

  // Writes `name` until the filesystem has no space left.
  void fill(const std::string& name) {
    std::FILE* f = std::fopen((dir_ / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<char> mib(1 << 20, 'F');
    while (std::fwrite(mib.data(), 1, mib.size(), f) == mib.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  void free_space(const std::string& name) { fs::remove(dir_ / name); }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

// ---- 1. QEMU killed mid-run ------------------------------------------------

TEST(Faults, QemuKilledInACampaignIsReQueuedNeverCounted) {
  const fs::path dir = write_campaign("lostqemu", 1, "8s");
  Compare c(dir / "c.toml");
  ASSERT_TRUE(c.wait_for("6.1-1: workload started", seconds(300))) << c.log;
  int killed = 0;
  for (int pid : pids_with_cmdline("numasoak-lostqemu-6.1-1")) killed += ::kill(pid, SIGKILL) == 0;
  ASSERT_EQ(killed, 1);
  const int rc = c.finish(seconds(400));
  EXPECT_EQ(rc, 0) << c.log;
  EXPECT_NE(c.log.find("re-queued"), std::string::npos) << c.log;
  Store s = Store::open_read_only(dir / "out");
  const auto run = s.run("6.1-1");
  ASSERT_TRUE(run.has_value());
  // Run again, and counted once: as what the second attempt found.
  EXPECT_EQ(run->attempts, 2);
  EXPECT_EQ(run->interruptions, 1);
  ASSERT_TRUE(run->verdict.has_value());
  EXPECT_EQ(*run->verdict, Verdict::kSurvived) << run->kind << " " << run->title;
  for (const auto& k : s.counts()) {
    EXPECT_EQ(k.errors, 0) << k.kernel;
    EXPECT_EQ(k.failed, 0) << k.kernel;
    EXPECT_EQ(k.survived, 1) << k.kernel;
  }
  EXPECT_TRUE(pids_with_cmdline("numasoak-lostqemu-").empty());
}

// ---- 3. Disk full ------------------------------------------------------------

TEST(Faults, DiskFullStopsTheCampaignWithAClearErrorAndAConsistentDatabase) {
  SmallDisk disk("16m");
  ASSERT_TRUE(disk.mounted());
  const fs::path out = disk.dir() / "out";
  const fs::path dir = write_campaign("diskfull", 2, "60s", "", out);
  Compare c(dir / "c.toml");
  ASSERT_TRUE(c.wait_for("6.1-1: workload started", seconds(300))) << c.log;
  disk.fill("filler");
  const auto filled = std::chrono::steady_clock::now();
  const int rc = c.finish(seconds(120));
  const double took = since(filled);
  EXPECT_EQ(rc, 3) << c.log;
  // Stopped at once, not at the end of the 60 s run or the campaign.
  EXPECT_LT(took, 30.0) << c.log;
  EXPECT_NE(c.log.find("No space left on device"), std::string::npos) << c.log;
  EXPECT_TRUE(pids_with_cmdline("numasoak-diskfull-").empty()) << "a guest outlived the campaign";

  disk.free_space("filler");
  Store s = Store::open_read_only(out);
  for (const auto& r : s.runs()) {
    // Nothing claims a result it could not record: the run that hit the
    // full disk is waiting to be re-run (or still marked running, which the
    // next open turns into interrupted), never survived.
    EXPECT_NE(r.state, RunState::kFinished) << r.run_id << " " << r.kind << " " << r.title;
  }
  EXPECT_TRUE(s.finished_runs().empty());
  if (auto camp = s.campaign()) {
    EXPECT_NE(camp->status, CampaignStatus::kFinished);
  }
  if (fs::exists(out / "summary.json")) {
    const auto j = nlohmann::json::parse(slurp(out / "summary.json"));
    EXPECT_NE(j.dump().find("\"stopped\""), std::string::npos) << j.dump(2);
  }
  // And it resumes: the database is whole (a writer opens it, recovering
  // the run it found running).
  Store w = Store::open(out);
  for (const auto& r : w.runs()) EXPECT_NE(r.state, RunState::kRunning) << r.run_id;
}

// ---- 4. Database locked by another numasoak ----------------------------------

TEST(Faults, SecondNumasoakOnTheSameCampaignRefusesAndChangesNothing) {
  const fs::path dir = write_campaign("locked", 1, "60s");
  Compare first(dir / "c.toml");
  ASSERT_TRUE(first.wait_for("runs planned", seconds(300))) << first.log;

  Compare second(dir / "c.toml");
  const int rc2 = second.finish(seconds(60));
  EXPECT_EQ(rc2, 2) << second.log;
  EXPECT_NE(second.log.find("is in use by numasoak pid " + std::to_string(first.child.id())), std::string::npos)
      << second.log;
  // The second one neither recovered (interrupted) the first one's running
  // run nor started one of its own.
  for (const auto& r : Store::open_read_only(dir / "out").runs()) {
    EXPECT_EQ(r.interruptions, 0) << r.run_id << ": the second numasoak recovered a run it does not own";
    EXPECT_LE(r.attempts, 1) << r.run_id;
  }

  ::kill(first.child.id(), SIGINT);
  EXPECT_EQ(first.finish(seconds(120)), 3) << first.log;
  Store s = Store::open(dir / "out");  // the lock is free again, the file whole
  for (const auto& r : s.runs()) EXPECT_NE(r.state, RunState::kRunning) << r.run_id;
  EXPECT_EQ(s.campaign()->status, CampaignStatus::kStopped);
}

// ---- 5. Kernels that do not boot ----------------------------------------------

class BadKernel : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("numasoak-badkernel-" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `plan` and checks the common promise: an error (not a kernel
  // verdict), one line naming the cause, well within the boot watchdog.
  RunResult expect_boot_error(RunPlan plan) {
    plan.watchdog.boot = seconds(15);
    plan.duration = seconds(5);
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult r = run_to_end(plan, seconds(120));
    EXPECT_LT(since(t0), 60.0);
    EXPECT_EQ(r.verdict, Verdict::kError) << r.kind << ": " << r.title;
    EXPECT_FALSE(r.title.empty());
    EXPECT_EQ(r.title.find('\n'), std::string::npos) << r.title;
    EXPECT_TRUE(pids_with_cmdline(plan.guest_name).empty());
    return r;
  }
};

TEST_F(BadKernel, RandomBytesAreABootFailureWithQemusReason) {
  std::ofstream f(dir_ / "random.bzImage", std::ios::binary);
  std::mt19937_64 rng(42);
  for (int i = 0; i < (1 << 20); ++i) f.put(static_cast<char>(rng()));
  f.close();
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "random-kernel");
  plan.kernel_image = dir_ / "random.bzImage";
  const RunResult r = expect_boot_error(plan);
  EXPECT_EQ(r.kind, kinds::kBootFailure);
  EXPECT_NE(r.title.find("qemu"), std::string::npos) << r.title;
}

TEST_F(BadKernel, WrongArchitectureIsABootFailure) {
  // A RISC-V firmware ELF that QEMU ships: a kernel for another machine.
  const fs::path riscv = "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.elf";
  ASSERT_TRUE(fs::exists(riscv)) << riscv << " (qemu-system-data)";
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "riscv-kernel");
  plan.kernel_image = riscv;
  const RunResult r = expect_boot_error(plan);
  EXPECT_EQ(r.kind, kinds::kBootFailure);
}

TEST_F(BadKernel, TruncatedBzImageIsABootFailureWithTheLastConsoleLine) {
  const fs::path whole = kernel_61().bzimage;
  const std::string bytes = slurp(whole);
  std::ofstream(dir_ / "half.bzImage", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "truncated-kernel");
  plan.kernel_image = dir_ / "half.bzImage";
  const RunResult r = expect_boot_error(plan);
  EXPECT_EQ(r.kind, kinds::kBootFailure);
  EXPECT_NE(r.title.find("last console line"), std::string::npos) << r.title;
}

TEST_F(BadKernel, MissingInitramfsIsAOneLineErrorNamingIt) {
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "no-initramfs");
  plan.initrd = dir_ / "gone.cpio.gz";
  const RunResult r = expect_boot_error(plan);
  EXPECT_NE(r.title.find("gone.cpio.gz"), std::string::npos) << r.title;
  EXPECT_NE(r.title.find("initramfs"), std::string::npos) << r.title;
}

// ---- 6. Guest hangs ---------------------------------------------------------------

// A hang is declared within the silence watchdog, stretched at most by the
// time the host gave the guest no CPU (run/watchdog.h).
void expect_hang_within_watchdog(const std::string& init, const std::vector<std::string>& kinds_ok) {
  auto plan = small_plan(kernel_61(), image_with_init(init), init);
  plan.watchdog.silence = seconds(8);
  plan.duration = std::chrono::minutes(10);
  const RunResult r = run_to_end(plan, seconds(300));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_NE(std::find(kinds_ok.begin(), kinds_ok.end(), r.kind), kinds_ok.end()) << r.kind << ": " << r.title;
  ASSERT_TRUE(r.time_to_failure_s.has_value());
  EXPECT_GE(*r.time_to_failure_s, 7.0);
  EXPECT_LE(*r.time_to_failure_s, 8.0 * (1 + Watchdog::kMaxExtension) + 5.0);
  EXPECT_TRUE(pids_with_cmdline(plan.guest_name).empty());
}

TEST(Faults, InitSpinningForeverIsAHangWithinTheWatchdog) {
  expect_hang_within_watchdog("busyloop", {kinds::kHang});
}

TEST(Faults, CpuSpinningWithInterruptsOffIsAHangWithinTheWatchdog) {
  // LKDTM HARDLOCKUP: one vCPU spins with interrupts disabled. The kernel
  // may report it itself (RCU stall, lockup) before the silence watchdog.
  expect_hang_within_watchdog("irqsoff", {kinds::kHang, "rcu-stall", "soft-lockup", "hard-lockup"});
}

// ---- 7. Console flood ---------------------------------------------------------------

TEST(Faults, RealGuestFloodingItsConsoleIsCappedAndItsPanicStillSeen) {
  auto plan = small_plan(kernel_61(), image_with_init("flood"), "flood-guest");
  plan.console_log_cap = 256 << 10;
  plan.duration = std::chrono::minutes(5);
  const RunResult r = run_to_end(plan, seconds(300));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, "panic");
  EXPECT_NE(r.title.find("sysrq triggered crash"), std::string::npos) << r.title;
  const std::string log = slurp(r.artifacts.console_log);
  EXPECT_LE(log.size(), plan.console_log_cap + 200);
  EXPECT_NE(log.find("[numasoak: console log capped at 262144 bytes;"), std::string::npos);
}

TEST(Faults, HundredMegabytesOfHostileConsoleKeepMemoryBoundedAndDetectionWorking) {
  // What a TCG guest cannot print in test time, a real child process does,
  // into the same Run: random bytes (NULs, escapes, invalid UTF-8), terminal
  // escapes, a 10 MiB line, more random bytes, then a panic.
  const std::string script =
      "printf 'numasoak: workload started\\n'; "
      "head -c 45000000 /dev/urandom; "
      "printf '\\033[2J\\033]0;owned\\007\\033[31m'; "
      "head -c 10485760 /dev/zero | tr '\\000' x; printf '\\n'; "
      "head -c 45000000 /dev/urandom; "
      "printf '\\n[   12.345678] Kernel panic - not syncing: after the flood\\n'; "
      "exec sleep 600";
  boost::asio::io_context io;
  ProcessBackend backend(io, {"/bin/sh", "-c", script});
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "flood-pipe");
  plan.console_log_cap = 8 << 20;
  plan.duration = std::chrono::minutes(5);

  // Peak RSS from here on: reset the high-water mark, then measure it.
  std::ofstream("/proc/self/clear_refs") << "5";
  const long rss0 = status_kib("VmRSS");
  std::optional<RunResult> result;
  numasoak::Run run(io, backend, plan, [&](const RunResult& r) { result = r; });
  boost::asio::steady_timer limit(io);
  limit.expires_after(seconds(240));
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) run.interrupt("test time limit");
  });
  const auto t0 = std::chrono::steady_clock::now();
  run.start();
  while (!result && io.run_one() > 0) {
  }
  limit.cancel();
  const double took = since(t0);
  const long grown_kib = status_kib("VmHWM") - rss0;
  ASSERT_TRUE(result.has_value());
  const RunResult& r = *result;
  std::cout << "[ figures  ] 100 MB of hostile console in " << took << " s, peak RSS growth " << grown_kib / 1024.0
            << " MiB\n";
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, "panic");
  EXPECT_NE(r.title.find("after the flood"), std::string::npos) << r.title;
  // Bounded: far less than the 10 MiB line or the 100 MB that went through.
  EXPECT_LT(grown_kib, 8 * 1024) << "peak RSS grew by " << grown_kib << " KiB";
  const auto size = fs::file_size(r.artifacts.console_log);
  EXPECT_LE(size, plan.console_log_cap + 200);
  const std::string log = slurp(r.artifacts.console_log);
  EXPECT_NE(log.find("[numasoak: console log capped at 8388608 bytes;"), std::string::npos);
}

// ---- 8. Host overload -----------------------------------------------------------------

TEST(Faults, OverloadedHostStretchesTheWatchdogsInsteadOfCallingAHang) {
  // Unloaded, this guest boots in B seconds; with both cores busy three
  // times over it takes longer than a boot watchdog of B + 50%, yet boots.
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "unloaded");
  plan.duration = seconds(2);
  plan.workload.profile = "quiet";
  const RunResult calm = run_to_end(plan, seconds(180));
  ASSERT_EQ(calm.verdict, Verdict::kSurvived) << calm.kind << ": " << calm.title;
  const double boot_watchdog_s = std::max(calm.boot_s * 1.5, calm.boot_s + 2.0);

  bp::child hog(bp::search_path("stress-ng"), bp::args = {"--cpu", "6", "--timeout", "300s", "--quiet"},
                bp::std_out > bp::null, bp::std_err > bp::null);
  auto loaded = small_plan(kernel_61(), image_with_init("chatty"), "loaded");
  loaded.duration = seconds(5);
  loaded.workload.profile = "quiet";
  loaded.watchdog.boot = Duration(static_cast<std::int64_t>(boot_watchdog_s * 1000));
  loaded.watchdog.silence = seconds(10);
  const RunResult r = run_to_end(loaded, seconds(300));
  ::kill(hog.id(), SIGTERM);
  std::error_code ec;
  hog.wait(ec);
  std::cout << "[ figures  ] boot " << calm.boot_s << " s unloaded, " << r.boot_s << " s under stress-ng --cpu 6 (boot watchdog "
            << boot_watchdog_s << " s)\n";
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  // The load did slow the boot past the wall-clock watchdog: the test
  // proves the scaling, not a lucky fast boot.
  EXPECT_GT(r.boot_s, boot_watchdog_s) << "stress-ng did not slow the guest enough for this test to mean anything";
}

// ---- 10. Wall-clock jumps ---------------------------------------------------------------

// Seconds since the epoch of "2026-11-24T21:46:23Z".
std::int64_t epoch_s(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

// Runs a guest with `init` in a helper process (run_helper.h) whose wall
// clock bench/chaos/wallclock_shift.c moves by `jump_s` seconds the moment
// the workload starts; CLOCK_MONOTONIC, timers and timerfds are left alone,
// as on a real machine whose clock is set by hand or by NTP.
RunResult run_with_clock_jump(const std::string& init, int duration_s, long long jump_s) {
  const fs::path lib = NUMASOAK_WALLCLOCK_SHIFT;
  EXPECT_TRUE(fs::exists(lib)) << lib << " (ninja -C build numasoak_wallclock_shift)";
  const fs::path spec = fs::temp_directory_path() / ("numasoak-wallclock-" + std::to_string(::getpid()));
  std::ofstream(spec) << "0\n";
  const bp::environment env = child_environment(std::map<std::string, std::string>{
      {"LD_PRELOAD", lib.string()},
      {"NUMASOAK_WALLCLOCK_SHIFT_FILE", spec.string()},
      {"NUMASOAK_RUN_HELPER_INIT", init},
      {"NUMASOAK_RUN_HELPER_DURATION", std::to_string(duration_s)}});
  bp::ipstream out;
  // The filter makes a test_integration without the helper hook in main()
  // run nothing (and this test fail), never the whole suite again.
  bp::child helper(bp::exe = fs::read_symlink("/proc/self/exe").string(), bp::args = {"--gtest_filter=-*"}, bp::env = env, bp::std_out > out, bp::std_err > bp::null);
  std::string line, last;
  bool started = false;
  while (std::getline(out, line)) {  // the helper ends itself within its own time limit
    if (!started && line == "numasoak-helper: workload started") {
      started = true;
      std::ofstream(spec) << jump_s << "\n";
    }
    if (!line.empty()) last = line;
  }
  helper.wait();
  fs::remove(spec);
  EXPECT_TRUE(started) << last;
  RunResult r;
  try {
    r = nlohmann::json::parse(last).get<RunResult>();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "helper output: " << last << ": " << e.what();
  }
  return r;
}

TEST(Faults, WallClockJumpForwardChangesNoTimeToFailure) {
  // The guest panics 6 s into its workload; the wall clock jumps two days
  // at the start of it.
  const RunResult r = run_with_clock_jump("panic-later", 300, 2 * 86400);
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_EQ(r.kind, "panic");
  ASSERT_TRUE(r.time_to_failure_s.has_value());
  EXPECT_GE(*r.time_to_failure_s, 5.0);
  EXPECT_LT(*r.time_to_failure_s, 30.0);
  EXPECT_LT(r.exposure_s, 30.0);
  // The jump happened: the record's wall-clock times are two days apart.
  EXPECT_GE(epoch_s(r.finished_at) - epoch_s(r.started_at), 2 * 86400) << r.started_at << " .. " << r.finished_at;
}

TEST(Faults, WallClockJumpBackChangesNoDuration) {
  const RunResult r = run_with_clock_jump("chatty", 6, -86400);
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  EXPECT_GE(r.exposure_s, 5.5);
  EXPECT_LT(r.exposure_s, 15.0);
  EXPECT_LE(epoch_s(r.finished_at) - epoch_s(r.started_at), -86000) << r.started_at << " .. " << r.finished_at;
}

}  // namespace
}  // namespace numasoak::testing
