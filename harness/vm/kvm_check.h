// Asking the kernel whether KVM works here, before paying for a test boot.
//
// /dev/kvm can exist and open and still not run guests usefully (on this
// project's CI machine a nested KVM executes guest code about a thousand
// times slower than the CPU: a Linux guest hangs at kernel entry). So the
// check does what a guest does, in a forked child bounded by a timeout:
// open /dev/kvm, KVM_CREATE_VM with an in-kernel irqchip (as QEMU makes it),
// one vCPU in 32-bit protected mode over a 64 KiB memory slot, and
// KVM_RUN of a 4-million-iteration loop that ends with an `out` to the
// serial port. A working KVM finishes in milliseconds; a broken or
// pathologically slow one is killed at the timeout.
#pragma once

#include <chrono>
#include <string>

namespace numasoak::vm {

/// What asking the kernel about KVM found: "" when a vCPU ran the test
/// loop in time, else one line saying why KVM cannot be used.
struct KvmCheck {
  std::string problem;
  double seconds = 0;  // how long the check took
  bool works() const { return problem.empty(); }
};

/// The check above, synchronous (waits on the child's pidfd, at most
/// `timeout` plus the child's reaping).
KvmCheck check_kvm(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

}  // namespace numasoak::vm
