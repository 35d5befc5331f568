// What a guest, or another user on the host, can and cannot reach, proven
// with a real kernel in a real QEMU (TCG):
//   - the runtime folder is 0700, its QMP/console/agent sockets 0600, and it
//     is gone when the run ends; QEMU has no TCP/UDP socket at all (no VNC,
//     no telnet monitor, no gdb stub);
//   - a hostile guest (escape sequences on the console, agent messages that
//     name paths) cannot make the harness write outside the run's folder,
//     name a file with its text, or drive the operator's terminal.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "common/paths.h"
#include "common/utf8.h"
#include "guest_fixture.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> cmdline_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  return args;
}

// Inodes of the sockets process `pid` holds.
std::set<std::string> socket_inodes(int pid) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

// Inodes of every IPv4/IPv6 TCP and UDP socket on the host (/proc/net/*).
std::set<std::string> inet_socket_inodes() {
  std::set<std::string> out;
  for (const char* f : {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(f);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::vector<std::string> v;
      for (std::string x; fields >> x;) v.push_back(x);
      if (v.size() > 9) out.insert(v[9]);
    }
  }
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0) return 0xFFFFFFFF;
  return st.st_mode;
}

// True when `s` holds nothing a terminal acts on (but \n and \t).
bool inert(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto [cp, len] = utf8::decode(s, i);
    if (len == 0 || (utf8::is_control(cp) && cp != '\n' && cp != '\t')) return false;
    i += len;
  }
  return true;
}

TEST(Security, RuntimeFolderPrivateNoInetSocketsRemovedAtExit) {
  auto plan = small_plan(kernel_61(), image_with_init("chatty"), "private");
  plan.duration = std::chrono::seconds(5);
  int qemu_pid = 0;
  fs::path runtime;
  std::vector<std::string> argv;
  std::set<std::string> qemu_sockets, inet;
  const RunResult r = run_to_end(plan, std::chrono::seconds(180), [&](boost::asio::io_context&, numasoak::Run&) {
    const auto pids = pids_with_cmdline(plan.guest_name);
    ASSERT_EQ(pids.size(), 1u);
    qemu_pid = pids[0];
    argv = cmdline_of(qemu_pid);
    for (const auto& a : argv) {
      if (auto at = a.find("path="); at != std::string::npos) {
        const fs::path sock = a.substr(at + 5, a.find(',', at) - at - 5);
        runtime = sock.parent_path();
        EXPECT_TRUE(S_ISSOCK(mode_of(sock))) << sock;
        EXPECT_EQ(mode_of(sock) & 07777, 0600u) << sock;
      }
    }
    EXPECT_EQ(mode_of(runtime) & 07777, 0700u) << runtime;
    struct stat st{};
    ASSERT_EQ(::stat(runtime.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::getuid());
    qemu_sockets = socket_inodes(qemu_pid);
    inet = inet_socket_inodes();
  });
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
  ASSERT_NE(qemu_pid, 0);
  ASSERT_FALSE(runtime.empty()) << "no socket path in the QEMU command line";
  int sockets = 0;
  for (const auto& a : argv) sockets += a.find("path=") != std::string::npos;
  EXPECT_EQ(sockets, 3) << "console, agent and QMP";
  // No network front end or listener of any kind in the command line...
  for (const auto& a : argv) {
    for (const char* bad : {"vnc", "spice", "tcp:", "telnet", "-gdb", "websocket", "hostfwd", "-incoming", "udp:"}) {
      EXPECT_EQ(a.find(bad), std::string::npos) << "QEMU argument '" << a << "' contains " << bad;
    }
    EXPECT_NE(a, "-s") << "gdb stub on tcp::1234";
  }
  // ...and none of QEMU's sockets is an inet socket.
  EXPECT_FALSE(qemu_sockets.empty()) << "QEMU should hold its Unix sockets";
  for (const auto& i : qemu_sockets) EXPECT_EQ(inet.count(i), 0u) << "QEMU holds TCP/UDP socket inode " << i;
  // Gone with the guest.
  EXPECT_FALSE(fs::exists(runtime)) << runtime;
}

TEST(Security, HostileGuestWritesNothingOutsideAndCannotDriveTheTerminal) {
  const std::vector<fs::path> sentinels = {
      "/tmp/numasoak-hostile-kernel",  "/tmp/numasoak-hostile-profile", "/tmp/numasoak-hostile-path",
      "/tmp/numasoak-hostile-setting", "/tmp/numasoak-hostile-value",   "/tmp/numasoak-hostile-warning",
      "/tmp/numasoak-hostile-title"};
  for (const auto& s : sentinels) fs::remove_all(s);
  auto plan = small_plan(kernel_61(), image_with_init("hostile"), "hostile");
  plan.duration = std::chrono::seconds(30);
  const fs::path parent = plan.out_dir.parent_path() / "hostile-parent";
  plan.out_dir = parent / "run";
  fs::remove_all(parent);
  const RunResult r = run_to_end(plan, std::chrono::seconds(180));

  // It is a kernel failure (the bad pmd line), told in inert text.
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.kind << ": " << r.title;
  EXPECT_NE(r.title.find("bad pmd"), std::string::npos) << r.title;
  EXPECT_TRUE(inert(r.title)) << r.title;
  for (const auto& f : r.failures) {
    EXPECT_TRUE(inert(f.title)) << f.title;
    EXPECT_TRUE(inert(f.report)) << f.report;
    EXPECT_TRUE(inert(f.guilty_frame)) << f.guilty_frame;
  }
  // Nothing was written outside the run's folder: its parent holds only it,
  // no path the guest named exists, and every file in it has a safe name.
  for (const auto& s : sentinels) EXPECT_FALSE(fs::exists(s)) << s;
  std::vector<fs::path> beside;
  for (const auto& e : fs::directory_iterator(parent)) beside.push_back(e.path());
  EXPECT_EQ(beside, std::vector<fs::path>{plan.out_dir});
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(plan.out_dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(sanitize_filename(name), name) << "unsafe file name " << e.path();
    EXPECT_EQ(name.find("hostile"), std::string::npos) << "guest text in a file name: " << e.path();
    ++files;
  }
  EXPECT_GE(files, 3);

  // The console log keeps the raw bytes (evidence), but what reaches a
  // terminal from it does not act: `numasoak scan --report` over it.
  std::ifstream raw(r.artifacts.console_log, std::ios::binary);
  const std::string log((std::istreambuf_iterator<char>(raw)), std::istreambuf_iterator<char>());
  ASSERT_NE(log.find("\x1b]0;pwned"), std::string::npos) << "the hostile line did not reach the console";
  const CliResult scan = run_cli({"scan", "--report", r.artifacts.console_log});
  EXPECT_EQ(scan.exit_code, 1) << scan.err;
  EXPECT_NE(scan.out.find("bad pmd"), std::string::npos) << scan.out;
  EXPECT_TRUE(inert(scan.out)) << scan.out;
  EXPECT_TRUE(inert(scan.err)) << scan.err;
  fs::remove_all(parent);
}

}  // namespace
}  // namespace numasoak::testing
