// Two libvirt hosts behind one LibvirtPool: qemu:///system, and this same
// machine again through a real remote transport (qemu+ssh to a throw-away
// sshd on 127.0.0.1:2222 with a key made for the test). Artifacts reach the
// ssh host through the storage API; runs are placed on both; stopping sshd
// mid-run ends that host's run as lost (host gone) while the other goes on,
// the pool marks the host down and retries with growing backoff, and takes
// it back when sshd returns. Nothing numasoak-* is left behind.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <optional>

#include "guest_fixture.h"
#include "libvirt_support.h"
#include "vm/libvirt/libvirt_pool.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(LibvirtPool, SshHostGoesAwayMidRunAndComesBackWithBackoff) {
  NUMASOAK_REQUIRE_LIBVIRT();
  const auto t0 = std::chrono::steady_clock::now();
  boost::asio::io_context io;
  SshServer sshd(io, 2222);
  ASSERT_TRUE(sshd.start()) << sshd.log();
  const std::string local = "qemu:///system";
  const std::string remote = sshd.uri();

  vm::LibvirtPoolOptions opt;
  opt.backoff_initial = 1s;
  opt.backoff_max = 4s;
  vm::LibvirtPool pool(io, {{local, 2, {"local"}}, {remote, 2, {"ssh"}}}, opt);
  const auto connect_t0 = std::chrono::steady_clock::now();
  pool.connect();
  RecordProperty("connect_both_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - connect_t0).count()));
  int capacity_calls = 0;
  pool.on_capacity([&] { ++capacity_calls; });
  auto counters = [&](size_t i) { return pool.counters().at(i); };
  ASSERT_TRUE(counters(0).up);
  ASSERT_TRUE(counters(1).up) << counters(1).last_error;
  EXPECT_EQ(counters(1).capacity, 2);

  // A new initramfs (new content hash): the ssh host must upload it through
  // libvirt's storage API; the local host then finds it in the shared pool.
  const fs::path tmp = fs::temp_directory_path() / fmt::format("numasoak-lvpool-{}", ::getpid());
  fs::create_directories(tmp);
  const fs::path initrd = unique_initrd(image_with_init("chatty").path, tmp);
  vm::LibvirtBackend* ssh_host = pool.host(remote);
  ASSERT_NE(ssh_host, nullptr);
  std::optional<std::string> uploaded;
  ssh_host->prepare(initrd, "initramfs", [&](const std::string& e) { uploaded = e; });
  ASSERT_TRUE(run_until(io, [&] { return uploaded.has_value(); }, 120s));
  EXPECT_EQ(*uploaded, "");
  EXPECT_EQ(ssh_host->uploads(), 1) << "uploaded over qemu+ssh";
  const std::string volume = ssh_host->volume_path(initrd, "initramfs");
  EXPECT_EQ(volume.rfind("/var/lib/libvirt/numasoak/", 0), 0u) << volume;

  // Two runs, one per host (capacity 2 vCPUs each, 2-vCPU guests).
  std::map<std::string, std::optional<RunResult>> results;
  std::map<std::string, bool> started;
  std::vector<std::unique_ptr<numasoak::Run>> runs;
  Topology topo;
  topo.nodes = {NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}};
  EXPECT_EQ(pool.slots(topo), 2);
  for (const char* id : {"pool-a", "pool-b"}) {
    ASSERT_TRUE(pool.can_start(topo));
    auto plan = small_plan(kernel_61(), image_with_init("chatty"), id);
    plan.initrd = initrd;
    plan.duration = 10min;
    plan.watchdog.boot = 180s;
    plan.host = pool.next_host(plan.topology, plan.kernel_image);  // what the runner does
    EXPECT_EQ(plan.host, std::string(id) == "pool-a" ? local : remote);
    runs.push_back(std::make_unique<numasoak::Run>(io, pool, plan, [&, id = std::string(id)](const RunResult& r) { results[id] = r; }));
    runs.back()->on_workload_started([&, id = std::string(id)] { started[id] = true; });
    runs.back()->start();
  }
  EXPECT_FALSE(pool.can_start(topo)) << "both hosts are full";
  const std::string name_a = runs[0]->plan().guest_name, name_b = runs[1]->plan().guest_name;
  EXPECT_EQ(pool.host_of(name_a), local);
  EXPECT_EQ(pool.host_of(name_b), remote);
  ASSERT_TRUE(run_until(io, [&] { return started["pool-a"] && started["pool-b"]; }, 240s))
      << "results so far: " << results.size();
  EXPECT_TRUE(contains(active_domains(), name_b));

  // sshd goes away mid-run (with its sessions, as a service stop does).
  const auto stopped_at = std::chrono::steady_clock::now();
  sshd.stop();
  ASSERT_TRUE(run_until(io, [&] { return results["pool-b"].has_value(); }, 60s));
  const double noticed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  RecordProperty("host_gone_noticed_s", std::to_string(noticed_s));
  const RunResult& lost = *results["pool-b"];
  // A host that went away says nothing about the kernel: the run is
  // interrupted, to be re-run elsewhere, not counted.
  EXPECT_EQ(lost.verdict, Verdict::kInterrupted) << lost.kind << ": " << lost.title;
  EXPECT_EQ(lost.kind, "interrupted");
  EXPECT_EQ(lost.host, remote);
  EXPECT_NE(lost.title.find("host-gone"), std::string::npos) << lost.title;
  EXPECT_NE(lost.title.find(remote), std::string::npos) << lost.title;
  EXPECT_FALSE(results["pool-a"].has_value()) << "the other host's run goes on";
  auto b = counters(1);
  EXPECT_FALSE(b.up);
  EXPECT_EQ(b.lost, 1);
  EXPECT_EQ(b.disconnects, 1);
  EXPECT_EQ(b.running, 0);
  EXPECT_TRUE(b.retry_in.has_value());
  EXPECT_FALSE(pool.can_start(topo)) << "local full, ssh host down";

  // While sshd is away, reconnects fail and the backoff grows (1 s, 2 s, 4 s).
  ASSERT_TRUE(run_until(io, [&] { return counters(1).last_error.find("not reachable") != std::string::npos; }, 10s))
      << counters(1).last_error;
  ASSERT_TRUE(run_until(io, [&] { return counters(1).retry_in && *counters(1).retry_in > 1500ms; }, 10s));
  EXPECT_FALSE(counters(1).up);
  RecordProperty("pool_while_down", pool.describe());

  // sshd is back: the pool takes the host back on its next attempt.
  const int calls_before = capacity_calls;
  ASSERT_TRUE(sshd.start()) << sshd.log();
  ASSERT_TRUE(run_until(io, [&] { return counters(1).up; }, 20s)) << counters(1).last_error;
  EXPECT_EQ(counters(1).reconnects, 1);
  ASSERT_TRUE(run_until(io, [&] { return capacity_calls > calls_before; }, 5s));
  EXPECT_TRUE(pool.can_start(topo));
  EXPECT_FALSE(contains(active_domains(), name_b)) << "the lost host's domain did not outlive its connection";

  // The local run is still going; stop it (Ctrl-C path): interrupted.
  EXPECT_FALSE(results["pool-a"].has_value());
  runs[0]->interrupt("test over");
  ASSERT_TRUE(run_until(io, [&] { return results["pool-a"].has_value(); }, 60s));
  EXPECT_EQ(results["pool-a"]->verdict, Verdict::kInterrupted) << results["pool-a"]->title;
  runs.clear();
  run_until(io, [] { return false; }, 300ms);
  const auto a = counters(0);
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.finished, 1);
  EXPECT_EQ(a.lost, 0);
  EXPECT_EQ(counters(1).started, 1);
  EXPECT_FALSE(contains(active_domains(), name_a));
  EXPECT_FALSE(contains(active_domains(), name_b));
  RecordProperty("seconds", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  // The one-off initramfs volume goes (the shared kernel volumes stay).
  EXPECT_TRUE(delete_volume(volume));
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

TEST(LibvirtPool, SilentHostIsDroppedByKeepalive) {
  NUMASOAK_REQUIRE_LIBVIRT();
  boost::asio::io_context io;
  SshServer sshd(io, 2224);
  ASSERT_TRUE(sshd.start()) << sshd.log();
  vm::LibvirtPoolOptions opt;
  opt.host.keepalive_interval = 1s;
  opt.host.keepalive_count = 2;
  opt.backoff_initial = 1s;
  opt.backoff_max = 2s;
  vm::LibvirtPool pool(io, {{sshd.uri(), 2, {}}}, opt);
  pool.connect();
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "keepalive");
  plan.duration = 10min;
  plan.watchdog.boot = 180s;
  std::optional<RunResult> result;
  bool started = false;
  numasoak::Run run(io, pool, plan, [&](const RunResult& r) { result = r; });
  run.on_workload_started([&] { started = true; });
  run.start();
  ASSERT_TRUE(run_until(io, [&] { return started; }, 240s));
  // The far end stops answering but nothing closes: only keepalive notices.
  const auto frozen_at = std::chrono::steady_clock::now();
  sshd.freeze();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }, 30s));
  const double noticed = std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
  RecordProperty("keepalive_noticed_s", std::to_string(noticed));
  EXPECT_EQ(result->verdict, Verdict::kInterrupted) << result->kind << ": " << result->title;
  EXPECT_NE(result->title.find("keepalive"), std::string::npos) << result->title;
  EXPECT_LT(noticed, 10.0);
  EXPECT_FALSE(pool.counters().at(0).up);
  EXPECT_EQ(pool.counters().at(0).lost, 1);
  sshd.stop();
  // Killing the frozen ssh session closes the daemon's end: the domain goes.
  ASSERT_TRUE(run_until(io, [&] { return !contains(active_domains(), plan.guest_name); }, 30s));
}

TEST(LibvirtPool, NoHostReachableIsOneError) {
  NUMASOAK_REQUIRE_LIBVIRT();
  boost::asio::io_context io;
  vm::LibvirtPool pool(io, {{"qemu+ssh://root@127.0.0.1:1/system", 2, {}}, {"qemu:///system?socket=/nonexistent/sock", 2, {}}});
  try {
    pool.connect();
    FAIL() << "connected to nothing";
  } catch (const Error& e) {
    const std::string s = e.what();
    EXPECT_EQ(s.find('\n'), std::string::npos);
    EXPECT_NE(s.find("qemu+ssh://root@127.0.0.1:1/system"), std::string::npos) << s;
  }
  for (const auto& c : pool.counters()) {
    EXPECT_FALSE(c.up);
    EXPECT_FALSE(c.last_error.empty());
    EXPECT_TRUE(c.retry_in.has_value());
  }
  Topology t;
  t.nodes = {NumaNode{1, MiB(512)}};
  EXPECT_FALSE(pool.can_start(t));
  vm::GuestSpec spec;
  spec.topology = t;
  EXPECT_THROW(pool.start(spec, {}), Error);
}

}  // namespace
}  // namespace numasoak::testing
