#include "vm/libvirt/errors.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

namespace numasoak::vm::libvirt {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has(const std::string& haystack, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    if (haystack.find(n) != std::string::npos) return true;
  }
  return false;
}

bool is_auth_code(int code) {
  return code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED || code == VIR_ERR_AUTH_UNAVAILABLE;
}

}  // namespace

std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

LibvirtError last_error() {
  LibvirtError e;
  virErrorPtr err = virGetLastError();
  if (err) {
    e.code = err->code;
    e.domain = err->domain;
    e.message = err->message ? one_line(err->message) : "unknown libvirt error";
  } else {
    e.message = "unknown libvirt error";
  }
  virResetLastError();
  return e;
}

const char* to_string(Failure f) {
  switch (f) {
    case Failure::kUnreachable: return "unreachable";
    case Failure::kAuthentication: return "authentication";
    case Failure::kDaemonDown: return "daemon-down";
    case Failure::kConnectionLost: return "connection-lost";
    case Failure::kEmulatorDied: return "emulator-died";
    case Failure::kStoragePermission: return "storage-permission";
    case Failure::kNoNuma: return "no-numa";
    case Failure::kOther: return "other";
  }
  return "other";
}

Failure classify_connect(const LibvirtError& e) {
  const std::string m = lower(e.message);
  if (is_auth_code(e.code) ||
      has(m, {"permission denied (publickey", "permission denied, please try again", "host key verification failed",
              "too many authentication failures", "authentication failed", "authentication unavailable",
              "no polkit agent", "access denied", "not authorized"})) {
    return Failure::kAuthentication;
  }
  // The daemon's socket is missing or refuses, locally or at the far end of
  // ssh (virt-ssh-helper / nc report it).
  if (has(m, {"libvirt-sock", "virtqemud-sock", "virtproxyd-sock"})) {
    if (has(m, {"permission denied"})) return Failure::kAuthentication;
    return Failure::kDaemonDown;
  }
  if (has(m, {"virt-ssh-helper", "nc: unix connect failed", "cannot connect to the hypervisor"})) return Failure::kDaemonDown;
  // A unix socket given in the URI (?socket=...) that nothing listens on.
  if (has(m, {"failed to connect socket to"}) && has(m, {"no such file or directory", "connection refused"})) {
    return Failure::kDaemonDown;
  }
  if (has(m, {"connection refused", "no route to host", "network is unreachable", "connection timed out",
              "timed out", "could not resolve", "name or service not known", "temporary failure in name resolution",
              "unable to connect to server", "connection closed by", "is not reachable"})) {
    return Failure::kUnreachable;
  }
  return Failure::kOther;
}

Failure classify_storage(const LibvirtError& e) {
  const std::string m = lower(e.message);
  if (e.code == VIR_ERR_OPERATION_DENIED || e.code == VIR_ERR_ACCESS_DENIED ||
      has(m, {"permission denied", "operation not permitted", "read only access", "read-only", "operation forbidden", "access denied",
              "read-only file system", "not authorized"})) {
    return Failure::kStoragePermission;
  }
  return Failure::kOther;
}

Failure classify_create(const LibvirtError& e) {
  const std::string m = lower(e.message);
  // The RPC layer's own errors: the socket to libvirtd closed under the
  // call ("End of file while reading data", "Cannot write data: Broken
  // pipe"), not anything about the domain.
  if (e.domain == VIR_FROM_RPC) return Failure::kConnectionLost;
  // QEMU went away while libvirt was starting it and left no word on its
  // stderr: libvirt's message ends at "closed the monitor". A QEMU that
  // refuses its configuration says why after a colon, and stays an error.
  std::string tail = m;
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == ':' || tail.back() == '.')) tail.pop_back();
  if (tail.ends_with("qemu unexpectedly closed the monitor")) return Failure::kEmulatorDied;
  if ((e.code == VIR_ERR_CONFIG_UNSUPPORTED || e.code == VIR_ERR_OPERATION_UNSUPPORTED || e.code == VIR_ERR_INTERNAL_ERROR ||
       e.code == VIR_ERR_XML_ERROR) &&
      has(m, {"numa", "memory-backend", "memdev", "distance"})) {
    return Failure::kNoNuma;
  }
  if (classify_storage(e) == Failure::kStoragePermission) return Failure::kStoragePermission;
  return Failure::kOther;
}

Error connect_error(const std::string& uri, const LibvirtError& e) {
  const std::string head = fmt::format("libvirt host {}: cannot connect: {}", uri, e.message);
  switch (classify_connect(e)) {
    case Failure::kUnreachable:
      return infra_error(head, "check that the host is up and reachable, and the port in the URI (ssh: sshd listening)");
    case Failure::kAuthentication:
      return usage_error(head,
                         "check the login: for qemu+ssh an unattended key (keyfile=... in the URI or ssh-agent) the host "
                         "accepts, and a known host key (or no_verify=1); locally, run as root or in group libvirt");
    case Failure::kDaemonDown:
      return infra_error(head, "start libvirtd on that host (as root: virtlogd -d && libvirtd -d, or systemctl start libvirtd)");
    default:
      return infra_error(head, "check the URI and that libvirtd runs there (virsh -c URI version)");
  }
}

Error storage_error(const std::string& uri, const std::string& what, const LibvirtError& e) {
  const std::string head = fmt::format("libvirt host {}: {}: {}", uri, what, e.message);
  if (classify_storage(e) == Failure::kStoragePermission) {
    return usage_error(head,
                       "numasoak needs a connection that may manage storage (qemu:///system as root or group libvirt, "
                       "not read-only), and libvirtd must be able to write /var/lib/libvirt/numasoak");
  }
  return infra_error(head, "see libvirtd's log on that host; 'virsh -c URI pool-info numasoak' shows the pool");
}

Error create_error(const std::string& uri, const std::string& domain, const LibvirtError& e) {
  const std::string head = fmt::format("libvirt host {}: cannot start domain {}: {}", uri, domain, e.message);
  switch (classify_create(e)) {
    case Failure::kNoNuma:
      return usage_error(head,
                         "that host's emulator cannot build a NUMA guest: install qemu-system-x86 (QEMU >= 2.1 with "
                         "memory-backend-ram and -numa dist) there, or leave the host out");
    case Failure::kStoragePermission:
      return usage_error(head, "libvirtd (its qemu user) must be able to read the kernel and initramfs volumes");
    default:
      return infra_error(head, "see /var/log/libvirt/qemu/" + domain + ".log on that host");
  }
}

}  // namespace numasoak::vm::libvirt
