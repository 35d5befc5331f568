// AccelProbe: decides between KVM and TCG by asking the kernel, then with a
// real boot, not a guess.
//
// /dev/kvm can exist and still not work (here a vCPU runs guest code a
// thousand times too slowly and guests hang at kernel entry). So "auto"
// first runs a vCPU through a short loop (vm/kvm_check.h, about a second at
// worst); only when that works does it boot the actual kernel under KVM
// with a short timeout, taking KVM only if the console shows the kernel
// reaching userspace. Otherwise it falls back to TCG and says why, once.
// Both backends probe through probe_boot(): the QEMU one on this machine,
// the libvirt one on each host.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "vm/backend.h"

namespace numasoak::vm {

/// The probe's answer: the accelerator, and why not KVM when not.
struct AccelDecision {
  Accel accel = Accel::kTcg;
  std::string warning;  // non-empty when auto fell back to TCG: why
  std::string error;    // non-empty when kvm was required and does not work
  double probe_s = 0;   // how long the probe took
};

/// Optional Backend interface (ask with dynamic_cast): a backend whose
/// hosts each decide KVM or TCG for themselves with a probe of their own
/// (the libvirt pool). Backends without it run on this machine and are
/// probed with probe_accel().
class PerHostAccel {
 public:
  virtual ~PerHostAccel() = default;
  // Probes every host that is up; done(decision per host), from the io_context.
  virtual void probe_hosts(const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                           std::chrono::milliseconds timeout,
                           std::function<void(std::map<std::string, AccelDecision>)> done) = 0;
  // The accelerator a guest asking for `requested` gets on `host`.
  virtual Accel accel_on(const std::string& host, Accel requested) const = 0;
};

/// Where a probe boot runs, for its guest's name and its messages.
struct ProbeTarget {
  std::string guest_name;                                        // "numasoak-kvm-probe-<pid>..."
  std::string where = "here";                                    // "KVM does not work <where>"
  std::string fallback = "using TCG (software emulation, much slower)";
};

/// Starts a guest the way a backend does (Backend::start, or a libvirt
/// host's start forcing domain type 'kvm').
using StartGuest = std::function<std::unique_ptr<Guest>(const GuestSpec&, GuestHandlers)>;

/// The test boot: starts `kernel` under KVM through `start` and decides KVM
/// if its console shows userspace within `timeout`; `required` makes a
/// failure an error instead of a TCG fallback. `done` is called once, from
/// the io_context.
void probe_boot(boost::asio::io_context& io, StartGuest start, bool required, const ProbeTarget& target,
                const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                std::chrono::milliseconds timeout, std::function<void(AccelDecision)> done);

/// For guests on this machine: kTcg at once; else check_kvm(), then
/// probe_boot() through `backend`. `done` is called once, from the io_context.
void probe_accel(boost::asio::io_context& io, Backend& backend, Accel request,
                 const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                 std::chrono::milliseconds timeout, std::function<void(AccelDecision)> done);

/// Why KVM cannot be used on this machine (vm/kvm_check.h: /dev/kvm does
/// not open, or a vCPU does not run a short loop in time), "" when it works.
std::string kvm_device_problem();

}  // namespace numasoak::vm
