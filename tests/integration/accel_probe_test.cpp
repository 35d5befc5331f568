// The KVM probe boots the real kernel under KVM with a timeout. Where KVM
// works it is chosen; where it does not (here: /dev/kvm exists but guests
// hang at kernel entry) the probe must fall back to TCG within its timeout,
// with a warning that says why, and not hang the harness.
#include <gtest/gtest.h>

#include "campaign/prepare.h"
#include "guest_fixture.h"
#include "vm/qemu/qemu_backend.h"

namespace numasoak::testing {
namespace {

TEST(AccelProbe, AutoDecidesWithinItsTimeoutAndExplainsAFallback) {
  boost::asio::io_context io;
  vm::QemuBackend backend(io);
  std::optional<vm::AccelDecision> d;
  const auto t0 = std::chrono::steady_clock::now();
  vm::probe_accel(io, backend, vm::Accel::kAuto, kernel_61().bzimage, image_with_init("chatty").path,
                  std::chrono::seconds(10), [&](vm::AccelDecision x) { d = x; });
  io.run_for(std::chrono::seconds(40));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(d.has_value()) << "no decision within 40 s";
  EXPECT_TRUE(d->error.empty());
  EXPECT_LT(d->probe_s, 15.0);
  if (d->accel == vm::Accel::kTcg) {
    EXPECT_FALSE(d->warning.empty());
    std::cout << "KVM probe fell back to TCG after " << d->probe_s << " s: " << d->warning << "\n";
  }
  EXPECT_LT(took, 40.0);
  // The probe guest is gone.
  EXPECT_TRUE(pids_with_cmdline("numasoak-kvm-probe-" + std::to_string(::getpid())).empty());
}

TEST(AccelProbe, RequiredKvmThatDoesNotWorkIsAnErrorNotAHang) {
  if (vm::kvm_device_problem().empty()) {
    // KVM opens: only a machine where it also boots can say more.
    boost::asio::io_context io;
    vm::QemuBackend backend(io);
    std::optional<vm::AccelDecision> d;
    vm::probe_accel(io, backend, vm::Accel::kKvm, "/nonexistent/bzImage", image_with_init("chatty").path,
                    std::chrono::seconds(10), [&](vm::AccelDecision x) { d = x; });
    io.run_for(std::chrono::seconds(20));
    ASSERT_TRUE(d.has_value());
    EXPECT_NE(d->error.find("does not exist"), std::string::npos) << d->error;
  }
  boost::asio::io_context io;
  vm::QemuBackend backend(io);
  std::optional<vm::AccelDecision> d;
  vm::probe_accel(io, backend, vm::Accel::kTcg, kernel_61().bzimage, image_with_init("chatty").path,
                  std::chrono::seconds(10), [&](vm::AccelDecision x) { d = x; });
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->accel, vm::Accel::kTcg);
  EXPECT_TRUE(d->warning.empty());
}

}  // namespace
}  // namespace numasoak::testing
