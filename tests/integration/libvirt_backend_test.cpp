// The libvirt backend against a real libvirtd (qemu:///system, TCG): a
// 2-node guest boots the numasoak 6.1 kernel from volumes uploaded through
// the storage API, the console stream shows the boot and the agent channel
// the workload, a panicking init ends in GuestEvent::kPanicked (and as a
// failed Run of kind panic), nothing numasoak-* is left behind, orphans of
// dead harnesses are removed and nothing else, the errors a user can meet
// are one line naming the host, and a host that claims KVM is probed.
#include <map>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <fmt/format.h>
#include <fstream>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <csignal>
#include <cstdio>
#include <optional>

#include "guest_fixture.h"
#include "libvirt_support.h"
#include "vm/libvirt/domain_xml.h"
#include "vm/libvirt/owner.h"
#include "vm/libvirt/libvirt_backend.h"
#include "vm/qemu/qemu_backend.h"
#include "common/child_env.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using vm::LibvirtBackend;

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

struct Outcome {
  std::string console, agent;
  std::vector<vm::GuestEvent> events;
  std::optional<vm::ExitInfo> exit;
  int exits = 0;
  std::string console_at_exit;
};

vm::GuestHandlers handlers(Outcome& o) {
  vm::GuestHandlers h;
  h.on_console = [&o](std::string_view b) {
    EXPECT_EQ(o.exits, 0) << "console bytes after on_exit";
    o.console.append(b);
  };
  h.on_agent = [&o](std::string_view b) { o.agent.append(b); };
  h.on_event = [&o](vm::GuestEvent e) { o.events.push_back(e); };
  h.on_exit = [&o](const vm::ExitInfo& i) {
    ++o.exits;
    o.exit = i;
    o.console_at_exit = o.console;
  };
  return h;
}

vm::GuestSpec spec_for(const std::string& name, const fs::path& initrd, const std::string& cmdline) {
  vm::GuestSpec s;
  s.name = fmt::format("numasoak-test-{}-{}", name, ::getpid());
  s.kernel = kernel_61().bzimage;
  s.initrd = initrd;
  s.cmdline = cmdline;
  s.topology.nodes = {NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}};
  s.accel = vm::Accel::kTcg;
  return s;
}

class LibvirtBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { NUMASOAK_REQUIRE_LIBVIRT(); }
};

TEST_F(LibvirtBackendTest, TwoNodeTcgGuestBootsShowsConsoleAndAgentAndPowersOff) {
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  const auto t0 = std::chrono::steady_clock::now();
  backend.connect();
  EXPECT_TRUE(backend.connected());
  EXPECT_GT(backend.info().cpus, 0);
  Outcome o;
  // The real guest init: it reports the node count, the workload speaks on
  // ttyS1, and after 5 s the init powers off.
  auto spec = spec_for("boot", real_image().path, "nsw.profile=quiet nsw.duration=5");
  auto guest = backend.start(spec, handlers(o));
  const std::string xml = guest->command();
  EXPECT_NE(xml.find("<domain type='qemu'>"), std::string::npos) << "no working KVM here: TCG";
  EXPECT_NE(xml.find("<cell id='1' cpus='1' memory='524288' unit='KiB'>"), std::string::npos);
  EXPECT_NE(xml.find(backend.volume_path(spec.kernel, "bzImage")), std::string::npos) << "the kernel comes from a volume";
  ASSERT_TRUE(run_until(io, [&] { return o.exit.has_value(); }, 240s)) << o.console.substr(o.console.size() > 2000 ? o.console.size() - 2000 : 0);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("seconds", std::to_string(took));
  EXPECT_NE(o.console.find("Linux version 6.1"), std::string::npos) << "the console stream has the boot from its first line";
  EXPECT_NE(o.console.find("2 node(s)"), std::string::npos) << "the guest sees two NUMA nodes";
  EXPECT_NE(o.agent.find("\"started\""), std::string::npos) << "agent channel (ttyS1): " << o.agent.substr(0, 300);
  EXPECT_TRUE(o.exit->clean()) << o.exit->reason;
  EXPECT_NE(o.exit->reason.find("shutdown"), std::string::npos) << o.exit->reason;
  EXPECT_NE(std::find(o.events.begin(), o.events.end(), vm::GuestEvent::kShutdown), o.events.end());
  EXPECT_EQ(o.exits, 1);
  EXPECT_EQ(o.console, o.console_at_exit) << "on_exit comes after the last bytes";
  guest.reset();
  io.poll();
  EXPECT_FALSE(contains(active_domains(), spec.name));
}

TEST_F(LibvirtBackendTest, PanickingInitEndsWithPanickedEventAndLeavesNothing) {
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  backend.connect();
  Outcome o;
  auto spec = spec_for("panic", image_with_init("panic").path, "");
  auto guest = backend.start(spec, handlers(o));
  ASSERT_TRUE(run_until(io, [&] { return !o.console.empty() || o.exit; }, 120s));
  EXPECT_TRUE(contains(active_domains(), spec.name));
  ASSERT_TRUE(run_until(io, [&] { return o.exit.has_value(); }, 180s));
  EXPECT_NE(std::find(o.events.begin(), o.events.end(), vm::GuestEvent::kPanicked), o.events.end());
  EXPECT_NE(o.console.find("Kernel panic - not syncing"), std::string::npos);
  EXPECT_NE(o.exit->reason.find("crashed"), std::string::npos) << o.exit->reason;
  EXPECT_EQ(o.exits, 1);
  guest.reset();
  io.poll();
  EXPECT_FALSE(contains(active_domains(), spec.name)) << "the domain is gone";
}

TEST_F(LibvirtBackendTest, RunOnLibvirtFindsThePanic) {
  // The same Run state machine as with QEMU, on the libvirt backend.
  auto plan = small_plan(kernel_61(), image_with_init("panic"), "lv-panic");
  plan.host = "qemu:///system";
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  backend.connect();
  std::optional<RunResult> result;
  numasoak::Run run(io, backend, plan, [&](const RunResult& r) { result = r; });
  run.start();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }, 180s));
  EXPECT_EQ(result->verdict, Verdict::kFailed) << result->kind << ": " << result->title;
  EXPECT_EQ(result->kind, "panic");
  EXPECT_EQ(result->host, "qemu:///system");
  std::ifstream cmd(result->artifacts.command);
  std::string text((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<panic model='isa'/>"), std::string::npos) << "the artifacts keep the domain XML";
  io.poll();
  EXPECT_FALSE(contains(active_domains(), plan.guest_name));
}

TEST_F(LibvirtBackendTest, StopDestroysTheDomainAndExitsOnce) {
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  backend.connect();
  Outcome o;
  auto spec = spec_for("stop", image_with_init("chatty").path, "");
  auto guest = backend.start(spec, handlers(o));
  ASSERT_TRUE(run_until(io, [&] { return o.console.find("tick 2") != std::string::npos; }, 180s)) << o.console;
  guest->stop(2s);
  guest->stop(2s);  // twice is harmless
  ASSERT_TRUE(run_until(io, [&] { return o.exit.has_value(); }, 30s));
  EXPECT_TRUE(o.exit->clean()) << o.exit->reason;
  EXPECT_NE(o.exit->reason.find("destroyed"), std::string::npos) << o.exit->reason;
  run_until(io, [] { return false; }, 500ms);
  EXPECT_EQ(o.exits, 1);
  EXPECT_FALSE(contains(active_domains(), spec.name));
  // Dropping a running guest's handle also destroys it (and reports nothing).
  Outcome o2;
  auto spec2 = spec_for("drop", image_with_init("chatty").path, "");
  auto g2 = backend.start(spec2, handlers(o2));
  EXPECT_TRUE(contains(active_domains(), spec2.name));
  g2.reset();
  EXPECT_FALSE(contains(active_domains(), spec2.name));
  run_until(io, [] { return false; }, 200ms);
  EXPECT_EQ(o2.exits, 0);
}

TEST_F(LibvirtBackendTest, KilledHarnessLeavesNoDomain) {
  namespace bp = boost::process;
  const std::string name = fmt::format("numasoak-test-killed-{}", ::getpid());
  bp::ipstream out;
  const bp::environment env = child_environment(std::map<std::string, std::string>{{"NUMASOAK_LIBVIRT_HELPER_GUEST", name}});
  bp::child helper(bp::exe = "/proc/self/exe",
                   bp::args = std::vector<std::string>{}, env,
                   bp::std_out > out, bp::std_err > bp::null);
  std::string line;
  bool started = false;
  while (std::getline(out, line)) {
    if (line.rfind("STARTED ", 0) == 0) {
      started = true;
      break;
    }
  }
  ASSERT_TRUE(started);
  EXPECT_TRUE(contains(active_domains(), name));
  ::kill(helper.id(), SIGKILL);  // no destructor runs: the daemon must clean up
  helper.wait();
  boost::asio::io_context io;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io, [&] { return !contains(active_domains(), name); }, 20s)) << "the domain outlived its harness";
  RecordProperty("gone_after_s", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
}

TEST_F(LibvirtBackendTest, OrphansOfDeadHarnessesAreDestroyedAndNothingElse) {
  boost::asio::io_context io;
  std::string kernel_path, initrd_path;
  {
    LibvirtBackend first(io, "qemu:///system");
    first.connect();
    bool k = false, i = false;
    first.prepare(kernel_61().bzimage, "bzImage", [&](const std::string& e) { EXPECT_EQ(e, ""); k = true; });
    first.prepare(image_with_init("chatty").path, "initramfs", [&](const std::string& e) { EXPECT_EQ(e, ""); i = true; });
    ASSERT_TRUE(run_until(io, [&] { return k && i; }, 60s));
    kernel_path = first.volume_path(kernel_61().bzimage, "bzImage");
    initrd_path = first.volume_path(image_with_init("chatty").path, "initramfs");
  }
  // A numasoak that died (a pid that exited), another machine's numasoak, and
  // a numasoak-* domain with no owner tag, all created paused and left running.
  boost::process::child gone("/bin/true");
  gone.wait();
  const std::string pid = std::to_string(::getpid());
  auto make = [&](const std::string& name, std::optional<vm::libvirt::OwnerTag> owner) {
    vm::libvirt::DomainXmlParams p;
    p.name = name;
    p.topology.nodes = {NumaNode{1, MiB(256)}};
    p.kernel = kernel_path;
    p.initrd = initrd_path;
    p.cmdline = "console=ttyS0";
    p.owner = owner;
    virConnectPtr c = virConnectOpen("qemu:///system");
    ASSERT_NE(c, nullptr);
    virDomainPtr d = virDomainCreateXML(c, vm::libvirt::render_domain_xml(p).c_str(), VIR_DOMAIN_START_PAUSED);
    ASSERT_NE(d, nullptr) << virGetLastErrorMessage();
    virDomainFree(d);
    virConnectClose(c);
  };
  auto dead = vm::libvirt::self_owner("qemu:///system", "dead");
  dead.pid = gone.id();
  dead.start = "1";
  auto foreign = dead;
  foreign.host = "another-machine";
  make("numasoak-orphan-dead-" + pid, dead);
  make("numasoak-orphan-foreign-" + pid, foreign);
  make("numasoak-orphan-untagged-" + pid, std::nullopt);
  ASSERT_EQ(active_domains("numasoak-orphan-").size(), 3u);

  LibvirtBackend later(io, "qemu:///system");
  later.connect();
  EXPECT_GE(later.info().orphans_removed, 1);
  const auto left = active_domains("numasoak-orphan-");
  EXPECT_FALSE(contains(left, "numasoak-orphan-dead-" + pid));
  EXPECT_TRUE(contains(left, "numasoak-orphan-foreign-" + pid)) << "not ours to judge";
  EXPECT_TRUE(contains(left, "numasoak-orphan-untagged-" + pid)) << "not numasoak's";
  virConnectPtr c = virConnectOpen("qemu:///system");
  for (const auto& n : left) {
    if (virDomainPtr d = virDomainLookupByName(c, n.c_str())) {
      virDomainDestroy(d);
      virDomainFree(d);
    }
  }
  virConnectClose(c);
}

TEST_F(LibvirtBackendTest, ErrorsNameTheHostAndWhatToDo) {
  boost::asio::io_context io;
  auto message = [&](const std::string& uri, vm::LibvirtOptions opt = {}) -> std::string {
    LibvirtBackend b(io, uri, opt);
    try {
      b.connect();
    } catch (const Error& e) {
      const std::string s = e.what();
      EXPECT_EQ(s.find('\n'), std::string::npos) << s;
      EXPECT_NE(s.find(uri), std::string::npos) << s;
      return s;
    }
    ADD_FAILURE() << uri << " connected";
    return "";
  };
  // Unreachable: refused at once by the TCP check (no ssh hang).
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(message("qemu+ssh://root@127.0.0.1:1/system").find("not reachable"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // libvirtd not running (its socket is not there).
  EXPECT_NE(message("qemu:///system?socket=/nonexistent/libvirt-sock").find("start libvirtd"), std::string::npos);
  // Storage the daemon cannot create.
  vm::LibvirtOptions denied;
  denied.pool_name = fmt::format("numasoak-test-denied-{}", ::getpid());
  denied.pool_dir = "/sys/numasoak-test-denied";
  const std::string storage = message("qemu:///system", denied);
  EXPECT_NE(storage.find("storage pool"), std::string::npos) << storage;
  EXPECT_NE(storage.find("/var/lib/libvirt/numasoak"), std::string::npos) << "says what to do: " << storage;
  virConnectPtr c = virConnectOpen("qemu:///system");
  EXPECT_EQ(virStoragePoolLookupByName(c, denied.pool_name.c_str()), nullptr) << "the failed pool was not left defined";
  virConnectClose(c);
  // A guest on a host that is not connected.
  LibvirtBackend never(io, "qemu:///system");
  EXPECT_THROW(never.start(spec_for("x", image_with_init("chatty").path, ""), {}), Error);
}

TEST_F(LibvirtBackendTest, AuthenticationFailureOverSsh) {
  boost::asio::io_context io;
  SshServer sshd(io, 2223);
  ASSERT_TRUE(sshd.start()) << sshd.log();
  LibvirtBackend b(io, sshd.uri(/*authorised_key=*/false));
  try {
    b.connect();
    FAIL() << "an unknown key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("keyfile"), std::string::npos) << e.what();
  }
}

TEST_F(LibvirtBackendTest, KvmProbeDecidesTheDomainTypeHere) {
  // On this machine /dev/kvm exists but KVM guests hang: libvirtd lists KVM,
  // the probe boots a KVM domain, sees no userspace within its timeout and
  // decides TCG. A host that lists no KVM gets TCG without a boot.
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  backend.connect();
  std::optional<vm::AccelDecision> d;
  const auto t0 = std::chrono::steady_clock::now();
  backend.probe_kvm(kernel_61().bzimage, image_with_init("chatty").path, 20s, [&](vm::AccelDecision x) { d = x; });
  ASSERT_TRUE(run_until(io, [&] { return d.has_value(); }, 90s)) << "the probe is bounded by its timeout";
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("kvm_listed", backend.info().kvm ? "yes" : "no");
  RecordProperty("probe_s", std::to_string(took));
  RecordProperty("kvm_probe", d->accel == vm::Accel::kKvm ? "kvm" : "tcg: " + d->warning);
  if (backend.info().kvm) {
    ASSERT_TRUE(backend.info().kvm_works.has_value()) << "a host that lists KVM is probed with a real boot";
    EXPECT_EQ(*backend.info().kvm_works, d->accel == vm::Accel::kKvm);
    if (d->accel == vm::Accel::kTcg) {
      EXPECT_NE(d->warning.find("KVM does not work"), std::string::npos) << d->warning;
    }
  } else {
    EXPECT_EQ(d->accel, vm::Accel::kTcg);
    EXPECT_FALSE(backend.info().kvm_works.has_value()) << "nothing to boot";
    EXPECT_NE(d->warning.find("lists no KVM"), std::string::npos) << d->warning;
    EXPECT_LT(took, 5) << "no probe boot";
  }
  // A guest that asks for KVM gets what the probe found.
  const bool kvm = d->accel == vm::Accel::kKvm;
  Outcome o;
  auto spec = spec_for("after-probe", image_with_init("chatty").path, "");
  spec.accel = vm::Accel::kKvm;
  auto guest = backend.start(spec, handlers(o));
  EXPECT_NE(guest->command().find(kvm ? "<domain type='kvm'>" : "<domain type='qemu'>"), std::string::npos);
  guest.reset();
  run_until(io, [] { return false; }, 1s);
  EXPECT_TRUE(active_domains("numasoak-kvm-probe-").empty());
  EXPECT_FALSE(contains(active_domains(), spec.name));
}

}  // namespace

int libvirt_helper_main(const std::string& guest_name) {
  boost::asio::io_context io;
  LibvirtBackend backend(io, "qemu:///system");
  backend.connect();
  Outcome o;
  auto spec = spec_for("helper", image_with_init("chatty").path, "");
  spec.name = guest_name;
  auto guest = backend.start(spec, handlers(o));
  if (!run_until(io, [&] { return o.console.find("tick 1") != std::string::npos; }, 180s)) return 1;
  std::printf("STARTED %s\n", guest_name.c_str());
  std::fflush(stdout);
  run_until(io, [] { return false; }, 300s);  // killed long before
  return 0;
}

}  // namespace numasoak::testing
