// The pure decisions of the libvirt backend: which libvirt failure is which
// (on libvirt's and ssh's real wording), which numasoak-* domains are orphans
// to destroy and which must be left alone, URI handling, and host placement.
#include <gtest/gtest.h>

#include <libvirt/virterror.h>
#include <unistd.h>

#include "vm/libvirt/errors.h"
#include "vm/libvirt/owner.h"
#include "vm/libvirt/placement.h"
#include "vm/libvirt/uri.h"

using namespace numasoak;
using namespace numasoak::vm::libvirt;

TEST(LibvirtErrors, ConnectFailuresSortedFromRealMessages) {
  auto c = [](int code, const char* m) { return classify_connect(LibvirtError{code, VIR_FROM_RPC, m}); };
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory"),
            Failure::kDaemonDown);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Failed to connect socket to '/var/run/libvirt/libvirt-sock': Connection refused"),
            Failure::kDaemonDown);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Failed to connect socket to '/nonexistent/sock': No such file or directory"),
            Failure::kDaemonDown);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR,
              "Cannot recv data: ssh: connect to host 127.0.0.1 port 1: Connection refused: Connection reset by peer"),
            Failure::kUnreachable);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "unable to connect to server at '127.0.0.1:1': Connection refused"), Failure::kUnreachable);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Cannot recv data: ssh: Could not resolve hostname nohost: Name or service not known"),
            Failure::kUnreachable);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Cannot recv data: root@127.0.0.1: Permission denied (publickey).: Connection reset by peer"),
            Failure::kAuthentication);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Cannot recv data: Host key verification failed.: Connection reset by peer"),
            Failure::kAuthentication);
  EXPECT_EQ(c(VIR_ERR_AUTH_UNAVAILABLE, "authentication unavailable: no polkit agent available"), Failure::kAuthentication);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR, "Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied"),
            Failure::kAuthentication);
  EXPECT_EQ(c(VIR_ERR_SYSTEM_ERROR,
              "Cannot recv data: virt-ssh-helper: cannot connect to 'qemu:///system': Failed to connect socket to "
              "'/var/run/libvirt/virtqemud-sock': No such file or directory: Connection reset by peer"),
            Failure::kDaemonDown);
}

TEST(LibvirtErrors, StorageAndCreateFailures) {
  EXPECT_EQ(classify_storage({VIR_ERR_OPERATION_DENIED, VIR_FROM_STORAGE, "operation forbidden: read only access prevents virStoragePoolDefineXML"}),
            Failure::kStoragePermission);
  EXPECT_EQ(classify_storage({VIR_ERR_SYSTEM_ERROR, VIR_FROM_STORAGE, "cannot create path '/var/lib/libvirt/numasoak': Permission denied"}),
            Failure::kStoragePermission);
  EXPECT_EQ(classify_storage({VIR_ERR_SYSTEM_ERROR, VIR_FROM_STORAGE, "failed to create directory '/sys/x': Operation not permitted"}),
            Failure::kStoragePermission);
  EXPECT_EQ(classify_storage({VIR_ERR_INTERNAL_ERROR, VIR_FROM_STORAGE, "pool is busy"}), Failure::kOther);
  EXPECT_EQ(classify_create({VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_QEMU, "unsupported configuration: NUMA node distances are not supported with this QEMU"}),
            Failure::kNoNuma);
  EXPECT_EQ(classify_create({VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_QEMU, "unsupported configuration: Per-node memory binding is not supported with this QEMU"}),
            Failure::kOther);
  EXPECT_EQ(classify_create({VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU, "domain 'x' already exists"}), Failure::kOther);
  // bench/chaos --backend libvirt: libvirtd restarted while a domain started.
  EXPECT_EQ(classify_create({VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "End of file while reading data: Input/output error"}),
            Failure::kConnectionLost);
  // bench/chaos --backend libvirt: a QEMU SIGKILLed while libvirt started it
  // (libvirt 9.0's words) is the emulator dying, re-queued; one that says
  // why it stopped is an error.
  EXPECT_EQ(classify_create({VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, "internal error: qemu unexpectedly closed the monitor"}),
            Failure::kEmulatorDied);
  EXPECT_EQ(classify_create({VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
                             "internal error: qemu unexpectedly closed the monitor: 2026-12-07T10:40:01.123456Z "
                             "qemu-system-x86_64: -append: invalid option"}),
            Failure::kOther);
}

TEST(LibvirtErrors, ErrorsAreOneLineNamingTheHostAndWhatToDo) {
  const Error e = connect_error("qemu+ssh://root@10.0.0.9/system",
                                {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, one_line("Cannot recv data: Permission denied (publickey).\r\n")});
  const std::string s = e.what();
  EXPECT_EQ(s.find('\n'), std::string::npos) << s;
  EXPECT_NE(s.find("qemu+ssh://root@10.0.0.9/system"), std::string::npos) << s;
  EXPECT_NE(s.find("keyfile"), std::string::npos) << "the hint says what to do: " << s;
  EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  const Error down = connect_error("qemu:///system", {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory"});
  EXPECT_NE(std::string(down.what()).find("libvirtd -d"), std::string::npos) << down.what();
  EXPECT_EQ(down.kind(), ErrorKind::kInfrastructure);
  const Error numa = create_error("qemu:///system", "numasoak-x-1", {VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_QEMU, "NUMA node distances are not supported with this QEMU"});
  EXPECT_NE(std::string(numa.what()).find("NUMA"), std::string::npos);
  EXPECT_EQ(numa.kind(), ErrorKind::kUsage);
  const Error st = storage_error("qemu:///system", "cannot define the storage pool 'numasoak'", {VIR_ERR_OPERATION_DENIED, VIR_FROM_STORAGE, "operation forbidden: read only access prevents virStoragePoolDefineXML"});
  EXPECT_NE(std::string(st.what()).find("read-only"), std::string::npos) << st.what();
}

TEST(LibvirtOwner, OnlyDeadOwnersFromThisMachineAreOrphans) {
  const OwnerTag me{1000, "555", "builder", "boot-A", "qemu:///system", "me"};
  OwnerTag other = me;
  other.pid = 2000;
  other.start = "777";
  other.instance = "x";
  // Another live numasoak on this machine: leave it alone.
  EXPECT_FALSE(orphan_reason(other, me, {true, false, false}).has_value());
  // Its process is gone: destroy.
  EXPECT_TRUE(orphan_reason(other, me, {false, false, false}).has_value());
  // Another machine's numasoak: never ours to judge, even if "dead" here.
  OwnerTag foreign = other;
  foreign.host = "laptop";
  EXPECT_FALSE(orphan_reason(foreign, me, {false, false, false}).has_value());
  // This machine rebooted since: its owner is certainly gone.
  OwnerTag before_boot = other;
  before_boot.boot_id = "boot-0";
  EXPECT_TRUE(orphan_reason(before_boot, me, {true, true, true}).has_value());
  // This process, another live connection (the second host of a pool on the
  // same daemon): leave alone. A closed one: destroy.
  OwnerTag sibling = me;
  sibling.instance = "sibling";
  EXPECT_FALSE(orphan_reason(sibling, me, {true, true, false}).has_value());
  EXPECT_TRUE(orphan_reason(sibling, me, {true, false, false}).has_value());
  // This connection: destroy only what it no longer tracks (after a reconnect).
  EXPECT_FALSE(orphan_reason(me, me, {true, true, true}).has_value());
  EXPECT_TRUE(orphan_reason(me, me, {true, true, false}).has_value());
}

TEST(LibvirtOwner, ProcessIdentityUsesStartTime) {
  const std::string start = process_start_time(::getpid());
  ASSERT_FALSE(start.empty());
  EXPECT_TRUE(process_alive(::getpid(), start));
  EXPECT_FALSE(process_alive(::getpid(), start + "1"));  // a reused pid is not the owner
  EXPECT_FALSE(process_alive(0, start));
  const OwnerTag me = self_owner("qemu:///system", "id");
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_FALSE(me.boot_id.empty());
  EXPECT_FALSE(me.host.empty());
  const std::string id = new_instance_id();
  EXPECT_FALSE(instance_live(id));
  register_instance(id);
  EXPECT_TRUE(instance_live(id));
  unregister_instance(id);
  EXPECT_FALSE(instance_live(id));
}

TEST(LibvirtUri, PartsEndpointsAndUnattendedSsh) {
  auto p = parse_uri("qemu+ssh://root@127.0.0.1:2222/system?keyfile=/tmp/k&no_verify=1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->driver, "qemu");
  EXPECT_EQ(p->transport, "ssh");
  EXPECT_EQ(p->user, "root");
  EXPECT_EQ(p->host, "127.0.0.1");
  EXPECT_EQ(p->port, 2222);
  EXPECT_EQ(p->path, "/system");
  EXPECT_EQ(p->params.at("keyfile"), "/tmp/k");
  EXPECT_EQ(tcp_endpoint("qemu+ssh://root@127.0.0.1:2222/system"), std::make_pair(std::string("127.0.0.1"), 2222));
  EXPECT_EQ(tcp_endpoint("qemu+ssh://h/system"), std::make_pair(std::string("h"), 22));
  EXPECT_EQ(tcp_endpoint("qemu+tcp://h/system"), std::make_pair(std::string("h"), 16509));
  EXPECT_EQ(tcp_endpoint("qemu://h/system"), std::make_pair(std::string("h"), 16514));
  EXPECT_EQ(tcp_endpoint("qemu+ssh://[::1]:22/system"), std::make_pair(std::string("::1"), 22));
  EXPECT_FALSE(tcp_endpoint("qemu:///system").has_value());
  EXPECT_FALSE(tcp_endpoint("qemu+ext://h/system?command=/bin/x").has_value());
  EXPECT_EQ(unattended_uri("qemu+ssh://h/system"), "qemu+ssh://h/system?no_tty=1");
  EXPECT_EQ(unattended_uri("qemu+ssh://h/system?keyfile=/k"), "qemu+ssh://h/system?keyfile=/k&no_tty=1");
  EXPECT_EQ(unattended_uri("qemu+ssh://h/system?no_tty=0"), "qemu+ssh://h/system?no_tty=0");
  EXPECT_EQ(unattended_uri("qemu:///system"), "qemu:///system");
  EXPECT_FALSE(parse_uri("not a uri").has_value());
}

TEST(LibvirtPlacement, KeepsKernelsInterleavedPerHost) {
  std::vector<HostLoad> hosts(2);
  for (auto& h : hosts) h = {true, 4, 0, {}};
  // A, B, A, B with room for everything: each kernel alternates hosts.
  std::map<std::string, std::vector<int>> where;
  for (const char* k : {"A", "B", "A", "B"}) {
    const int i = choose_host(hosts, 2, k);
    ASSERT_GE(i, 0);
    hosts[static_cast<size_t>(i)].busy += 2;
    hosts[static_cast<size_t>(i)].started_by_kernel[k]++;
    where[k].push_back(i);
  }
  EXPECT_EQ(where["A"], (std::vector<int>{0, 1}));
  EXPECT_EQ(where["B"], (std::vector<int>{1, 0}));
  // Full: nothing fits.
  EXPECT_EQ(choose_host(hosts, 2, "A"), -1);
  EXPECT_EQ(free_slots(hosts, 2), 0);
  EXPECT_EQ(total_slots(hosts, 2), 4);
}

TEST(LibvirtPlacement, SkipsDownAndFullHostsAndWeighsCapacity) {
  std::vector<HostLoad> hosts = {{false, 8, 0, {}}, {true, 2, 2, {}}, {true, 8, 0, {{"A", 2}}}, {true, 2, 0, {{"A", 1}}}};
  // Host 0 is down, host 1 full; host 2 ran A twice on 8 vCPUs (0.25 per
  // vCPU), host 3 once on 2 (0.5): host 2 is the less loaded with A.
  EXPECT_EQ(choose_host(hosts, 2, "A"), 2);
  EXPECT_EQ(choose_host(hosts, 2, "B"), 2);  // tie on B: more free share
  EXPECT_EQ(choose_host(hosts, 16, "A"), -1);
  EXPECT_EQ(free_slots(hosts, 2), 5);
  EXPECT_EQ(total_slots(hosts, 2), 6);
}
