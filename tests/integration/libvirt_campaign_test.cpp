// Whole campaigns on the libvirt backend through CampaignRunner (what
// `numasoak compare` drives), with real guests, a real libvirtd and a real
// sshd: a host that goes away mid-campaign (sshd stopped; libvirtd
// restarted) interrupts its run, which is re-queued and counted exactly once
// when it finishes; the campaign completes; the per-host figures in the
// store and the report keep the lost attempt; nothing numasoak-* is left.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <fmt/format.h>
#include <fstream>

#include "campaign/runner.h"
#include "common/paths.h"
#include "config/campaign.h"
#include "guest_fixture.h"
#include "libvirt_support.h"
#include "report/report.h"
#include "store/store.h"
#include "vm/libvirt/libvirt_pool.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;
namespace bp = boost::process;
using namespace std::chrono_literals;

// A short two-kernel campaign for the real guest (profile quiet: the
// workload runs, nothing is amplified), written and loaded as a user's.
Campaign short_campaign(const fs::path& dir, const std::string& name, int runs, const std::string& duration, int parallel) {
  std::ofstream(dir / "c.toml") << "name = \"" << name << "\"\n"
                                << "kernels = [\"6.1\", \"6.1+backport\"]\n"
                                << "runs_per_kernel = " << runs << "\n"
                                << "duration = \"" << duration << "\"\n"
                                << "parallel = " << parallel << "\n"
                                << "accel = \"tcg\"\n"
                                << "output = \"" << (dir / "out").string() << "\"\n"
                                << "[topology]\nnodes = 2\ncpus_per_node = 1\nmemory = \"1G\"\n"
                                << "[workload]\nprofile = \"quiet\"\n"
                                << "[watchdog]\nboot = \"4m\"\n"
                                << "[backend]\nkind = \"libvirt\"\n";
  return load_campaign(dir / "c.toml");
}

std::map<std::string, KernelArtifact> both_kernels() {
  return {{"6.1", kernel_61()}, {"6.1+backport", kernel_61_backport()}};
}

bool any_running_on(const vm::LibvirtPool& pool, size_t host) { return pool.counters().at(host).running > 0; }

struct TempDir {
  fs::path path = make_private_dir("numasoak-lvcampaign");
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(LibvirtCampaign, SshHostStoppedMidCampaignRequeuesItsRunAndTheOtherHostFinishes) {
  NUMASOAK_REQUIRE_LIBVIRT();
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp;
  boost::asio::io_context io;
  SshServer sshd(io, 2222);
  ASSERT_TRUE(sshd.start()) << sshd.log();
  const std::string local = "qemu:///system", remote = sshd.uri();

  Campaign c = short_campaign(tmp.path, "lvtwo", 1, "15s", 2);
  vm::LibvirtPoolOptions opt;
  opt.host.accel = vm::Accel::kTcg;
  opt.backoff_initial = 1s;
  opt.backoff_max = 4s;
  vm::LibvirtPool pool(io, {{local, 2, {"local"}}, {remote, 2, {"ssh"}}}, opt);
  pool.connect();
  ASSERT_TRUE(pool.counters().at(1).up) << pool.counters().at(1).last_error;

  // A fresh initramfs (new content hash): whichever host starts first has to
  // upload it through libvirt's storage API.
  image::ImageArtifact img = real_image();
  img.path = unique_initrd(real_image().path, tmp.path);

  Store store = Store::open(c.output_dir);
  store.set_campaign(c.name, c.file.string(), nlohmann::json::object());
  ASSERT_EQ(store.plan_runs(c.kernel_names, c.runs_per_kernel), 2);
  CampaignRunner runner(io, c, store, pool, both_kernels(), img, vm::Accel::kTcg);
  std::optional<CampaignOutcome> outcome;
  runner.start([&](const CampaignOutcome& o) { outcome = o; });

  // One run per host (2 vCPUs each); once the ssh host's guest is running,
  // sshd goes away with its sessions, as a service stop does.
  ASSERT_TRUE(run_until(io, [&] { return any_running_on(pool, 1) || outcome; }, 120s)) << pool.describe();
  ASSERT_FALSE(outcome) << outcome->reason;
  std::string lost_run;
  for (const auto& r : store.runs()) {
    if (r.state == RunState::kRunning && pool.host_of(fmt::format("numasoak-{}-{}", c.name, sanitize_filename(r.run_id))) == remote) lost_run = r.run_id;
  }
  ASSERT_FALSE(lost_run.empty()) << pool.describe();
  ASSERT_TRUE(run_until(io, [&] { return runner.status_line().find(lost_run + " running") != std::string::npos || outcome; }, 240s))
      << runner.status_line();
  const int uploads = pool.host(local)->uploads() + pool.host(remote)->uploads();
  EXPECT_GE(uploads, 1) << "the new initramfs went through the storage API";
  sshd.stop();
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io, [&] { return store.run(lost_run)->interruptions > 0 || outcome; }, 60s)) << pool.describe();
  RecordProperty("host_gone_noticed_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count()));
  EXPECT_FALSE(pool.counters().at(1).up);

  // The campaign goes on on the local host alone and completes.
  ASSERT_TRUE(run_until(io, [&] { return outcome.has_value(); }, 600s)) << runner.status_line() << " | " << pool.describe();
  EXPECT_EQ(outcome->end, CampaignEnd::kCompleted) << outcome->reason;
  const auto runs = store.runs();
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.state, RunState::kFinished) << r.run_id;
    EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.run_id << ": " << r.kind << " " << r.title;
  }
  EXPECT_EQ(store.run(lost_run)->attempts, 2) << "re-run once";
  EXPECT_EQ(store.run(lost_run)->interruptions, 1);
  EXPECT_EQ(store.finished_runs().size(), 2u) << "every run counted once";
  for (const auto& r : store.finished_runs()) EXPECT_EQ(r.host, local) << r.run_id;

  // Per-host figures: the ssh host's lost attempt, the local host's runs.
  const auto rep = report::build_report(store);
  ASSERT_EQ(rep.hosts.size(), 2u) << report::render_terminal(rep);
  const HostFigures* ssh_fig = nullptr;
  const HostFigures* local_fig = nullptr;
  for (const auto& h : rep.hosts) (h.host == remote ? ssh_fig : local_fig) = &h;
  ASSERT_TRUE(ssh_fig && local_fig);
  EXPECT_EQ(ssh_fig->interrupted, 1);
  EXPECT_EQ(ssh_fig->runs, 0);
  EXPECT_GT(ssh_fig->guest_s, 0);
  EXPECT_EQ(local_fig->host, local);
  EXPECT_EQ(local_fig->runs, 2);
  EXPECT_EQ(local_fig->accel, "tcg");
  const std::string table = report::render_terminal(rep);
  EXPECT_NE(table.find("interrupted"), std::string::npos) << table;
  RecordProperty("hosts", report::render_json(rep)["hosts"].dump());
  RecordProperty("campaign_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  std::cout << table;

  EXPECT_TRUE(active_domains("numasoak-lvtwo-").empty());
  // The one-off initramfs volume goes (the shared kernel volumes stay).
  EXPECT_TRUE(delete_volume(pool.host(local)->volume_path(img.path, "initramfs")));
}

// Restarts libvirtd as `systemctl restart` would: SIGTERM, wait for the
// process to end, start it again. Runs on `io`; done() when the new one
// was started.
class LibvirtdRestart {
 public:
  explicit LibvirtdRestart(boost::asio::io_context& io) : io_(io) {}
  void start() {
    const std::string script = R"(set -e
pid=$(pgrep -x -o libvirtd)
kill -TERM "$pid"
tail --pid="$pid" -f /dev/null
libvirtd -d
)";
    child_ = std::make_unique<bp::child>(bp::exe = "/bin/bash", bp::args = std::vector<std::string>{"-c", script},
                                         bp::std_in.close(), io_, bp::on_exit = [this](int code, const std::error_code&) {
                                           code_ = code;
                                         });
  }
  std::optional<int> code() const { return code_; }

 private:
  boost::asio::io_context& io_;
  std::unique_ptr<bp::child> child_;
  std::optional<int> code_;
};

TEST(LibvirtCampaign, LibvirtdRestartedMidRunRequeuesTheRunAndReconnects) {
  NUMASOAK_REQUIRE_LIBVIRT();
  TempDir tmp;
  boost::asio::io_context io;
  const std::string local = "qemu:///system";
  Campaign c = short_campaign(tmp.path, "lvrestart", 1, "10s", 1);
  vm::LibvirtPoolOptions opt;
  opt.host.accel = vm::Accel::kTcg;
  opt.backoff_initial = 1s;
  opt.backoff_max = 2s;
  vm::LibvirtPool pool(io, {{local, 2, {}}}, opt);
  pool.connect();
  Store store = Store::open(c.output_dir);
  store.set_campaign(c.name, c.file.string(), nlohmann::json::object());
  store.plan_runs(c.kernel_names, c.runs_per_kernel);
  CampaignRunner runner(io, c, store, pool, both_kernels(), real_image(), vm::Accel::kTcg);
  std::optional<CampaignOutcome> outcome;
  runner.start([&](const CampaignOutcome& o) { outcome = o; });

  // The first run's guest is up and its workload running: restart libvirtd.
  ASSERT_TRUE(run_until(io, [&] { return runner.status_line().find("6.1-1 running") != std::string::npos || outcome; }, 300s))
      << runner.status_line();
  ASSERT_FALSE(outcome) << outcome->reason;
  const std::string guest = fmt::format("numasoak-{}-6.1-1", c.name);
  ASSERT_EQ(active_domains(guest), std::vector<std::string>{guest});
  LibvirtdRestart restart(io);
  restart.start();
  const auto t_restart = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io, [&] { return store.run("6.1-1")->interruptions > 0 || outcome; }, 60s)) << pool.describe();
  RecordProperty("lost_noticed_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_restart).count()));
  ASSERT_TRUE(run_until(io, [&] { return restart.code().has_value(); }, 60s));
  EXPECT_EQ(*restart.code(), 0);
  // The pool reconnects by itself (backoff) and the campaign completes.
  ASSERT_TRUE(run_until(io, [&] { return pool.counters().at(0).reconnects > 0; }, 90s)) << pool.describe();
  RecordProperty("reconnected_after_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_restart).count()));
  ASSERT_TRUE(run_until(io, [&] { return outcome.has_value(); }, 600s)) << runner.status_line() << " | " << pool.describe();
  EXPECT_EQ(outcome->end, CampaignEnd::kCompleted) << outcome->reason;
  for (const auto& r : store.runs()) {
    EXPECT_EQ(r.state, RunState::kFinished) << r.run_id;
    EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.run_id << ": " << r.kind << " " << r.title;
  }
  EXPECT_EQ(store.run("6.1-1")->attempts, 2);
  EXPECT_EQ(store.finished_runs().size(), 2u) << "every run counted once";
  const auto counters = pool.counters().at(0);
  EXPECT_EQ(counters.disconnects, 1);
  EXPECT_EQ(counters.lost, 1);
  const auto hosts = store.hosts();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].interrupted, 1);
  EXPECT_EQ(hosts[0].runs, 2);
  RecordProperty("pool", pool.describe());
  // The guest of the lost attempt outlived libvirtd's restart (QEMU keeps
  // running); the reconnect destroyed it as an orphan of this connection.
  EXPECT_TRUE(active_domains("numasoak-lvrestart-").empty());
}

}  // namespace
}  // namespace numasoak::testing
