// Backend: where guests run. One small interface (syzkaller's vm/ is the
// model) with a QEMU implementation (vm/qemu) and a libvirt one
// (vm/libvirt). A backend starts a guest from a GuestSpec and hands its
// console and agent-channel bytes, lifecycle events and exit to the caller's
// handlers, all on the caller's Asio io_context.
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

#include "topology/topology.h"

namespace numasoak::vm {

enum class Accel { kKvm, kTcg };
const char* to_string(Accel a);

struct GuestSpec {
  std::string name;                  // unique: "numasoak-<campaign>-<run>"
  std::filesystem::path kernel;      // bzImage
  std::filesystem::path initrd;      // initramfs (cpio.gz)
  std::string cmdline;               // kernel command line (console=ttyS0 is added by the backend)
  Topology topology;
  Accel accel = Accel::kTcg;
};

// Lifecycle events a backend reports besides bytes.
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
  bool clean() const { return cause == ExitCause::kClean; }
};

struct GuestHandlers {
  std::function<void(std::string_view bytes)> on_console;  // kernel console (ttyS0)
  std::function<void(std::string_view bytes)> on_agent;    // agent channel (ttyS1)
  std::function<void(GuestEvent)> on_event;
  std::function<void(const ExitInfo&)> on_exit;            // called exactly once, last
};

// A running guest. Destroying it kills the guest if it still runs.
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

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "qemu" or the libvirt URI
  // Starts a guest; throws numasoak::Error when it cannot even start.
  virtual std::unique_ptr<Guest> start(const GuestSpec& spec, GuestHandlers handlers) = 0;
};

}  // namespace numasoak::vm
