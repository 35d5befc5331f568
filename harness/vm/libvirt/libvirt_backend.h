// LibvirtBackend: guests as transient libvirt domains on one host.
//
// The same contract as QemuBackend (console on ttyS0, agent channel on
// ttyS1, pvpanic -> GuestEvent::kPanicked, destroy on reboot/crash, on_exit
// exactly once after the last bytes), over the libvirt C API on the caller's
// io_context (see event_loop.h). Per guest: the kernel and initramfs are
// uploaded into the host's "numasoak" storage pool (volumes.h), a transient
// domain is created paused from render_domain_xml(), both serial ports are
// opened as non-blocking console streams, and then it runs. Domains are
// created with AUTODESTROY (libvirtd kills them when this connection
// closes, e.g. the harness dies) and carry an owner tag; connect() destroys
// numasoak-* domains of dead numasoak processes from this machine.
//
// Domain type: 'kvm' only when the GuestSpec asks for KVM, the host's
// capabilities list it, options allow it and probe_kvm() (a real boot) did
// not find it broken; otherwise 'qemu' (TCG).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "vm/accel_probe.h"
#include "vm/backend.h"

namespace numasoak::vm {

namespace libvirt {
class Connection;
}

/// How a LibvirtBackend uses its host: accelerator, keepalive, storage pool, machine.
struct LibvirtOptions {
  // kAuto: follow GuestSpec::accel where the host supports KVM; kTcg: always
  // type 'qemu'; kKvm: always 'kvm' (connect() fails on hosts without it).
  Accel accel = Accel::kAuto;
  std::chrono::seconds keepalive_interval{5};  // virConnectSetKeepAlive: a silent host
  int keepalive_count = 3;                     // is gone after interval x (count + 1)
  std::chrono::milliseconds connect_check_timeout{5000};  // TCP check before opening a remote URI
  std::chrono::milliseconds drain{2000};  // wait for the last console bytes after the domain stopped
  std::string pool_name = "numasoak";
  std::filesystem::path pool_dir = "/var/lib/libvirt/numasoak";
  std::string machine = "pc";
  bool cleanup_orphans = true;
};

/// What the host reported at connect().
struct LibvirtHostInfo {
  int cpus = 0;               // virNodeGetInfo
  bool kvm = false;           // capabilities list <domain type='kvm'> for x86_64
  std::optional<bool> kvm_works;  // set by probe_kvm()
  std::string emulator;       // x86_64 emulator path
  std::string hostname;
  unsigned long long libvirt_version = 0;
  int orphans_removed = 0;    // by the last connect()
};

// A guest that ended because its host went away (connection closed,
// keepalive timeout) exits with ExitCause::kHostGone, its reason starting
// with this (for people: the run's title).
inline constexpr const char* kHostGonePrefix = "host-gone: ";

/// Guests as transient libvirt domains on one host (see above).
class LibvirtBackend : public Backend {
 public:
  LibvirtBackend(boost::asio::io_context& io, std::string uri, LibvirtOptions options = {});
  ~LibvirtBackend() override;
  LibvirtBackend(const LibvirtBackend&) = delete;
  LibvirtBackend& operator=(const LibvirtBackend&) = delete;

  // Opens the connection, checks capabilities, prepares the storage pool,
  // removes orphans. Blocking (a remote host is TCP-checked first, bounded
  // by connect_check_timeout). Throws a one-line Error naming the host and
  // what to do: unreachable, authentication, libvirtd not running, storage
  // permissions, no x86_64 emulator.
  void connect();
  // The same without blocking on an unreachable host: the TCP check runs on
  // the io_context, then connect(). `done` gets nullopt or the Error.
  void connect_async(std::function<void(std::optional<Error>)> done);
  bool connected() const;
  const LibvirtHostInfo& info() const;
  const std::string& uri() const;

  std::string name() const override;  // the URI
  // Throws when not connected, on bad paths, or when the domain cannot be
  // created and its volumes were already there; failures after returning
  // (an upload that fails) end the guest through on_exit.
  std::unique_ptr<Guest> start(const GuestSpec& spec, GuestHandlers handlers) override;

  // Called once per lost connection, after its guests got their on_exit
  // (cause kHostGone). connect()/connect_async() again to
  // come back.
  void on_connection_lost(std::function<void(const std::string& why)> cb);
  // Called after any guest of this host ended (room for another).
  void on_guest_ended(std::function<void()> cb);

  // Uploads (or finds) a file's volume ahead of the first start.
  void prepare(const std::filesystem::path& file, const std::string& role, std::function<void(const std::string& error)> done);
  // The volume path a file gets on this host ("<pool dir>/<sha256>.<role>").
  std::string volume_path(const std::filesystem::path& file, const std::string& role);

  // Boots `kernel` as a KVM domain for at most `timeout`; KVM is used on this
  // host only if the console shows userspace. No-op (kTcg) when the host
  // does not list KVM or options.accel is kTcg.
  void probe_kvm(const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                 std::chrono::milliseconds timeout, std::function<void(AccelDecision)> done);

  // The accelerator a guest asking for `requested` gets here now (domain
  // type 'kvm' or 'qemu'): what the run records as its accel.
  Accel accel_for(Accel requested) const;

  // Guests of this backend not yet ended.
  int running() const;
  // Volumes uploaded / reused since construction.
  int uploads() const;
  int reuses() const;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<libvirt::Connection> conn_;
};

}  // namespace numasoak::vm
