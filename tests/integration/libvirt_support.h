// Shared set-up for the libvirt integration tests: a running libvirtd
// (scripts/libvirt-test-env), a throw-away sshd on loopback with keys made in
// a temporary folder (no change to the machine's ssh configuration), a look
// at the daemon's domains, and running the io_context until something
// happened.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace numasoak::testing {

// Runs scripts/libvirt-test-env once: 0 ready, else its exit status (it
// printed why: not root, libvirt not installed, libvirtd did not come up).
int ensure_libvirt();
// Fails the test unless libvirtd answers on qemu:///system. The test command
// starts libvirtd itself, so a libvirtd that cannot start is a failure of
// this machine's set-up, not a reason to skip.
#define NUMASOAK_REQUIRE_LIBVIRT()                                                                               \
  ASSERT_EQ(::numasoak::testing::ensure_libvirt(), 0)                                                            \
      << "libvirtd does not answer on qemu:///system and scripts/libvirt-test-env could not start it (see its " \
         "message above; run the integration tests as root after scripts/install-deps)"

// The body of the helper process of LibvirtBackendTest.KilledHarnessLeavesNoDomain:
// main() runs it instead of the tests when NUMASOAK_LIBVIRT_HELPER_GUEST
// names a domain (starts that guest, prints "STARTED <name>", waits to be
// killed). Returns main's exit status.
int libvirt_helper_main(const std::string& guest_name);

// Names of the active domains on qemu:///system that start with `prefix`.
std::vector<std::string> active_domains(const std::string& prefix = "numasoak-");

// Deletes the volume at `path` on qemu:///system (a test's one-off upload);
// false when it is not there or cannot be deleted.
bool delete_volume(const std::string& path);

// Runs `io` until `done()` or `limit`; returns done().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit);

// A copy of an initramfs with one more (gzip'd cpio) member holding a random
// file, so its content hash is new and a host has to upload it.
std::filesystem::path unique_initrd(const std::filesystem::path& initrd, const std::filesystem::path& dir);

// sshd -D on 127.0.0.1:<port>, root login with a key generated here; ssh
// runs through a wrapper that keeps known_hosts in the temporary folder.
class SshServer {
 public:
  SshServer(boost::asio::io_context& io, int port);
  ~SshServer();
  // Starts sshd and waits (on `io`) until it listens; false on failure.
  bool start(std::chrono::milliseconds limit = std::chrono::seconds(20));
  // Kills sshd and every session it forked (what `systemctl stop ssh` does).
  void stop();
  // SIGSTOPs sshd and its sessions: the connection stays open but goes
  // silent (a host that hangs or a cable pulled).
  void freeze();
  bool running() const;
  // qemu+ssh://root@127.0.0.1:<port>/system?keyfile=...&no_verify=1&command=<wrapper>
  std::string uri(bool authorised_key = true) const;
  int port() const { return port_; }
  std::string log() const { return out_ ? out_->log : std::string(); }

 private:
  void read_log();
  boost::asio::io_context& io_;
  int port_;
  std::filesystem::path dir_;
  std::unique_ptr<boost::process::child> child_;
  // Shared with pending reads, which may complete after this object went.
  struct Output {
    std::unique_ptr<boost::process::async_pipe> pipe;
    std::array<char, 4096> buf{};
    std::string log;
    bool listening = false;
  };
  std::shared_ptr<Output> out_;
};

}  // namespace numasoak::testing
