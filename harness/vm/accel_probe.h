// AccelProbe: decides between KVM and TCG with a real boot, not a guess.
//
// /dev/kvm can exist and still not work (here guests hang at kernel entry).
// So "auto" boots the actual kernel under KVM with a short timeout and takes
// KVM only if the console shows the kernel reaching userspace; otherwise it
// falls back to TCG and says why, once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "vm/backend.h"

namespace numasoak::vm {

enum class AccelRequest { kAuto, kKvm, kTcg };

struct AccelDecision {
  Accel accel = Accel::kTcg;
  std::string warning;  // non-empty when auto fell back to TCG: why
  std::string error;    // non-empty when kvm was required and does not work
  double probe_s = 0;   // how long the probe took
};

// Probes asynchronously on `io`; `done` is called once, from the io_context.
void probe_accel(boost::asio::io_context& io, Backend& backend, AccelRequest request,
                 const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                 std::chrono::milliseconds timeout, std::function<void(AccelDecision)> done);

// Why /dev/kvm cannot be used, or "" when it opens read-write.
std::string kvm_device_problem();

}  // namespace numasoak::vm
