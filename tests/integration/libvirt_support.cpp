#include "libvirt_support.h"

#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <map>
#include <random>
#include <set>
#include <sys/stat.h>

#include "image/cpio.h"
#include "image/gzip.h"

namespace numasoak::testing {

namespace fs = std::filesystem;
namespace bp = boost::process;
namespace asio = boost::asio;

int ensure_libvirt() {
  static const int rc = [] {
    const fs::path script = fs::path(NUMASOAK_SOURCE_DIR) / "scripts" / "libvirt-test-env";
    std::error_code ec;
    const int r = bp::system(bp::exe = script.string(), bp::args = std::vector<std::string>{}, bp::std_in.close(), ec);
    return ec ? 1 : r;
  }();
  return rc;
}

std::vector<std::string> active_domains(const std::string& prefix) {
  std::vector<std::string> out;
  virConnectPtr c = virConnectOpen("qemu:///system");
  if (!c) {
    ADD_FAILURE() << "cannot open qemu:///system to list domains";
    return out;
  }
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  for (int i = 0; i < n; ++i) {
    const char* name = virDomainGetName(doms[i]);
    if (name && std::string(name).rfind(prefix, 0) == 0) out.emplace_back(name);
    virDomainFree(doms[i]);
  }
  free(doms);
  virConnectClose(c);
  return out;
}

bool delete_volume(const std::string& path) {
  virConnectPtr c = virConnectOpen("qemu:///system");
  if (!c) return false;
  bool ok = false;
  if (virStorageVolPtr v = virStorageVolLookupByPath(c, path.c_str())) {
    ok = virStorageVolDelete(v, 0) == 0;
    virStorageVolFree(v);
  }
  virResetLastError();
  virConnectClose(c);
  return ok;
}

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  if (done()) return true;
  asio::steady_timer timer(io);
  bool expired = false;
  timer.expires_after(limit);
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) expired = true;
  });
  io.restart();
  while (!done() && !expired && io.run_one() > 0) {
  }
  timer.cancel();
  io.poll();  // let the cancelled timer's handler run before `expired` goes
  return done();
}

fs::path unique_initrd(const fs::path& initrd, const fs::path& dir) {
  std::ifstream in(initrd, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::random_device rd;
  const std::string token = fmt::format("{:08x}{:08x}", rd(), rd());
  image::CpioWriter extra;
  extra.add_file("numasoak-unique-" + token, token + "\n", 0644);
  // The kernel unpacks concatenated compressed archives one after the other.
  bytes += image::gzip_deterministic(extra.finish());
  const fs::path out = dir / ("initramfs-" + token + ".cpio.gz");
  std::ofstream(out, std::ios::binary) << bytes;
  return out;
}

namespace {

void write_text(const fs::path& p, const std::string& text, fs::perms perms) {
  std::ofstream(p) << text;
  fs::permissions(p, perms);
}

bool keygen(const fs::path& key) {
  std::error_code ec;
  const int r = bp::system(bp::exe = "/usr/bin/ssh-keygen",
                           bp::args = std::vector<std::string>{"-q", "-t", "ed25519", "-N", "", "-C", "numasoak-test", "-f",
                                                               key.string()},
                           bp::std_in.close(), bp::std_out > bp::null, ec);
  return !ec && r == 0;
}

// Every process below `root` (children, their children ...), from /proc.
std::vector<int> descendants(int root) {
  std::multimap<int, int> children;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    children.emplace(ppid, std::stoi(name));
  }
  std::vector<int> out;
  std::vector<int> todo = {root};
  while (!todo.empty()) {
    const int p = todo.back();
    todo.pop_back();
    auto [a, b] = children.equal_range(p);
    for (auto it = a; it != b; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

}  // namespace

SshServer::SshServer(asio::io_context& io, int port) : io_(io), port_(port) {
  char tmpl[] = "/tmp/numasoak-sshd-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (!d) throw std::runtime_error("mkdtemp failed");
  dir_ = d;
  if (!keygen(dir_ / "host_key") || !keygen(dir_ / "client_key") || !keygen(dir_ / "other_key")) {
    throw std::runtime_error("ssh-keygen failed");
  }
  std::ifstream pub(dir_ / "client_key.pub");
  std::string key((std::istreambuf_iterator<char>(pub)), std::istreambuf_iterator<char>());
  write_text(dir_ / "authorized_keys", key, fs::perms::owner_read | fs::perms::owner_write);
  write_text(dir_ / "sshd_config",
             fmt::format("ListenAddress 127.0.0.1:{}\n"
                         "HostKey {}\n"
                         "PidFile {}\n"
                         "AuthorizedKeysFile {}\n"
                         "PermitRootLogin prohibit-password\n"
                         "PubkeyAuthentication yes\n"
                         "PasswordAuthentication no\n"
                         "KbdInteractiveAuthentication no\n"
                         "UsePAM no\n"
                         "StrictModes no\n"
                         "LogLevel INFO\n",
                         port_, (dir_ / "host_key").string(), (dir_ / "sshd.pid").string(),
                         (dir_ / "authorized_keys").string()),
             fs::perms::owner_read | fs::perms::owner_write);
  // libvirt runs this instead of ssh (URI parameter command=): the same ssh,
  // but known hosts live here, not in ~/.ssh, and no ssh_config applies.
  write_text(dir_ / "ssh",
             fmt::format("#!/bin/sh\nexec /usr/bin/ssh -F /dev/null -o UserKnownHostsFile={}/known_hosts "
                         "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n",
                         dir_.string()),
             fs::perms::owner_all);
  // sshd's privilege separation directory (Debian's service creates it).
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);
}

SshServer::~SshServer() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool SshServer::running() const { return child_ && child_->running(); }

void SshServer::read_log() {
  auto out = out_;
  const std::string ready = fmt::format("Server listening on 127.0.0.1 port {}", port_);
  auto step = std::make_shared<std::function<void()>>();
  *step = [out, ready, step] {
    out->pipe->async_read_some(asio::buffer(out->buf), [out, ready, step](const boost::system::error_code& ec, size_t n) {
      out->log.append(out->buf.data(), n);
      if (out->log.find(ready) != std::string::npos) out->listening = true;
      if (ec) {
        *step = nullptr;  // breaks the cycle
        return;
      }
      (*step)();
    });
  };
  (*step)();
}

bool SshServer::start(std::chrono::milliseconds limit) {
  if (running()) return true;
  out_ = std::make_shared<Output>();
  out_->pipe = std::make_unique<bp::async_pipe>(io_);
  std::error_code ec;
  child_ = std::make_unique<bp::child>(bp::exe = "/usr/sbin/sshd",
                                       bp::args = std::vector<std::string>{"-D", "-e", "-f", (dir_ / "sshd_config").string()},
                                       bp::std_in.close(), bp::std_out > bp::null, bp::std_err > *out_->pipe, io_, ec);
  if (ec) return false;
  read_log();
  auto out = out_;
  return run_until(io_, [this, out] { return out->listening || !child_->running(); }, limit) && out->listening;
}

void SshServer::stop() {
  if (!child_) return;
  if (child_->running()) {
    const int pid = child_->id();
    for (int p : descendants(pid)) ::kill(p, SIGKILL);
    ::kill(pid, SIGKILL);
    std::error_code ec;
    child_->wait(ec);
  }
  if (out_ && out_->pipe) {
    boost::system::error_code ignored;
    out_->pipe->close(ignored);
  }
  child_.reset();
}

void SshServer::freeze() {
  if (!running()) return;
  const int pid = child_->id();
  ::kill(pid, SIGSTOP);
  for (int p : descendants(pid)) ::kill(p, SIGSTOP);
}

std::string SshServer::uri(bool authorised_key) const {
  return fmt::format("qemu+ssh://root@127.0.0.1:{}/system?keyfile={}&no_verify=1&command={}", port_,
                     (dir_ / (authorised_key ? "client_key" : "other_key")).string(), (dir_ / "ssh").string());
}

}  // namespace numasoak::testing
