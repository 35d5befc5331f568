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

// Runs scripts/libvirt-test-env: 0 ready, 2 cannot run here (skip), 1 failed.
int ensure_libvirt();
// GTEST_SKIP / FAIL unless libvirtd answers on qemu:///system.
#define NUMASOAK_REQUIRE_LIBVIRT()                                                   \
  do {                                                                               \
    const int rc_ = ::numasoak::testing::ensure_libvirt();                           \
    if (rc_ == 2) GTEST_SKIP() << "libvirt cannot run here (see libvirt-test-env)";  \
    ASSERT_EQ(rc_, 0) << "scripts/libvirt-test-env could not start libvirtd";        \
  } while (0)

// Names of the active domains on qemu:///system that start with `prefix`.
std::vector<std::string> active_domains(const std::string& prefix = "numasoak-");

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
