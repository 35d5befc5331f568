// Backend: where guests run. One small interface (syzkaller's vm/ is the
// model) with a QEMU implementation (vm/qemu) and a libvirt host pool
// (vm/libvirt), made by vm/backends.h's make_backend(). A backend starts a
// guest from a GuestSpec and hands its console and agent-channel bytes,
// lifecycle events and exit to the caller's handlers, all on the caller's
// Asio io_context. It also says how many guests it has room for and where
// the next one would go (Ninja's CommandRunner::CanRunMore(), syzkaller's
// vm.Pool{Count, Create}), so a scheduler needs nothing but a Backend&.
// Extras only some backends have are optional interfaces a caller asks for
// with dynamic_cast (syzkaller's Infoer style; see vm/accel_probe.h's
// PerHostAccel), never a concrete backend type.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/accel.h"
#include "topology/topology.h"

namespace numasoak::vm {

// The accelerator (config/accel.h): a guest runs with kKvm or kTcg.
using numasoak::Accel;
using numasoak::to_string;

/// What a backend needs to start one guest.
struct GuestSpec {
  std::string name;                  // unique: "numasoak-<campaign>-<run>"
  std::filesystem::path kernel;      // bzImage
  std::filesystem::path initrd;      // initramfs (cpio.gz)
  std::string cmdline;               // kernel command line (console=ttyS0 is added by the backend)
  Topology topology;
  Accel accel = Accel::kTcg;
};

/// Lifecycle events a backend reports besides bytes.
enum class GuestEvent {
  kPanicked,  // the guest's pvpanic device fired (QMP GUEST_PANICKED)
  kShutdown,  // the guest powered off or asked to reset (-no-reboot)
};

/// Why a guest ended, as its backend saw it: the run's verdict reads this,
/// never the text of the reason.
enum class ExitCause {
  kClean,     // the guest powered off, or was stopped on request
  kCrashed,   // the emulator died, was killed or exited with an error
  kHostGone,  // the host running it went away (connection closed, keepalive timeout)
};

/// How a guest ended: its cause, and a line for people.
struct ExitInfo {
  ExitCause cause = ExitCause::kCrashed;
  std::string reason;       // "exit status 1", "killed by signal 9", ...
  std::string last_stderr;  // the emulator's last error lines, if any
  int signal = 0;           // the signal that killed the emulator (0: it exited, or unknown)
  // The emulator died under the guest without saying why: libvirt's
  // "failed: the emulator exited unexpectedly" (a QEMU killed from outside
  // under libvirt; libvirt does not pass on the signal).
  bool emulator_died = false;
  bool clean() const { return cause == ExitCause::kClean; }
  // Killed from outside (a signal, or an emulator that died under libvirt):
  // nothing the kernel did.
  bool killed() const { return signal != 0 || emulator_died; }
};

/// Where a guest's bytes, events and exit go (all called on the io_context).
struct GuestHandlers {
  std::function<void(std::string_view bytes)> on_console;  // kernel console (ttyS0)
  std::function<void(std::string_view bytes)> on_agent;    // agent channel (ttyS1)
  std::function<void(GuestEvent)> on_event;
  std::function<void(const ExitInfo&)> on_exit;            // called exactly once, last
};

/// A running guest. Destroying it kills the guest if it still runs.
class Guest {
 public:
  virtual ~Guest() = default;
  // Asks the guest to stop (QMP quit / libvirt destroy); kills it if it is
  // still there after `grace`. on_exit follows.
  virtual void stop(std::chrono::milliseconds grace) = 0;
  // What was run, for the artifacts: the argv (JSON array) or domain XML.
  virtual std::string command() const = 0;
  // Cumulative time the guest was runnable but waited for a host CPU, per
  // vCPU; nullopt when the backend cannot tell. The watchdogs do not count
  // it (run/watchdog.h): an overloaded host is not a hung guest.
  virtual std::optional<std::chrono::milliseconds> starved() const { return std::nullopt; }
};

/// Where the backend would start a guest now, and what it runs with there.
struct Placement {
  std::optional<std::string> host;  // nullopt: the backend has one place (this machine)
  Accel accel = Accel::kTcg;
};

/// Where guests run: starts them and says how much room it has.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "qemu", the libvirt URI, "libvirt: uri1, uri2"
  // Starts a guest; throws numasoak::Error when it cannot even start (a
  // backend whose can_start() is false may throw).
  virtual std::unique_ptr<Guest> start(const GuestSpec& spec, GuestHandlers handlers) = 0;

  // Capacity. How many guests of this topology the backend holds when idle;
  // nullopt: as many as this machine's cores allow (the caller's rule).
  virtual std::optional<int> capacity(const Topology&) const { return std::nullopt; }
  // Room for one more guest of this topology right now.
  virtual bool can_start(const Topology&) const { return true; }
  // `cb` is called (from the io_context) when room may have appeared after
  // can_start() was false: a guest ended, a host came back.
  virtual void on_capacity(std::function<void()> cb) { (void)cb; }

  // Placement: the host start() would pick for this guest right now and
  // the accelerator a guest asking for `requested` gets there (a run
  // records both just before it starts).
  virtual Placement place(const Topology& t, const std::filesystem::path& kernel, Accel requested) const {
    (void)t;
    (void)kernel;
    return {std::nullopt, requested};
  }
  // One line for logs and status: where guests run and how busy it is.
  virtual std::string describe() const { return name(); }
};

}  // namespace numasoak::vm
