// The QEMU command line numasoak builds: an argv vector (never a shell
// string), with the topology, the sockets in the private runtime directory,
// pvpanic, -no-reboot and the accelerator.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "vm/qemu/qemu_backend.h"

using namespace numasoak;
using namespace numasoak::vm;

namespace {

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) return true;
  }
  return false;
}

GuestSpec spec(Accel accel) {
  GuestSpec s;
  s.name = "numasoak-test-1";
  s.kernel = "/k/bzImage";
  s.initrd = "/k/initrd with space; rm -rf b";
  s.cmdline = "nsw.profile=bad-pmd";
  s.topology.nodes = {NumaNode{1, MiB(1024)}, NumaNode{1, MiB(1024)}};
  s.accel = accel;
  return s;
}

TEST(QemuArgv, TcgGuestHasEverythingTheRunRelieson) {
  const auto argv = QemuBackend::build_argv(spec(Accel::kTcg), "/run/x", "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(argv[0], "/usr/bin/qemu-system-x86_64");
  EXPECT_TRUE(has_pair(argv, "-accel", "tcg,thread=multi"));
  EXPECT_TRUE(has_pair(argv, "-m", "2048M"));
  EXPECT_TRUE(has_pair(argv, "-numa", "node,nodeid=1,cpus=1,memdev=mem1"));
  EXPECT_TRUE(has_pair(argv, "-device", "pvpanic"));
  EXPECT_TRUE(has_pair(argv, "-chardev", "socket,id=console,path=/run/x/console.sock"));
  EXPECT_TRUE(has_pair(argv, "-chardev", "socket,id=agent,path=/run/x/agent.sock"));
  EXPECT_TRUE(has_pair(argv, "-mon", "chardev=qmp,mode=control"));
  // A path with spaces and shell metacharacters stays one argument.
  EXPECT_TRUE(has_pair(argv, "-initrd", "/k/initrd with space; rm -rf b"));
  EXPECT_TRUE(has_pair(argv, "-append", "console=ttyS0,115200 panic=-1 printk.time=1 no_timer_check nsw.profile=bad-pmd"));
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-no-reboot"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "kvm"), argv.end());
}

TEST(QemuArgv, KvmGuestUsesHostCpu) {
  const auto argv = QemuBackend::build_argv(spec(Accel::kKvm), "/run/x", "qemu");
  EXPECT_TRUE(has_pair(argv, "-accel", "kvm"));
  EXPECT_TRUE(has_pair(argv, "-cpu", "host"));
}

TEST(QemuArgv, MissingBinaryNamesThePackage) {
  try {
    QemuBackend::find_binary("qemu-system-does-not-exist");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "qemu-system-does-not-exist not found in PATH (apt-get install qemu-system-x86)");
  }
}

}  // namespace
