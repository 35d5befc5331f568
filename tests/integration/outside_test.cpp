// The race window widened from outside the source (README "Widening the
// window from outside"): real kernels built with no numasoak patch, the real
// widen module, real guests.
// - the window locator finds the point in numasoak's unpatched 6.1 and
//   backported 6.1 binaries and in Debian's own 6.1 binary;
// - on the unpatched build the module's delay is proven taken in a real run,
//   and the run's record says how the window was widened.
#include <gtest/gtest.h>

#include "guest_fixture.h"
#include "image/append.h"
#include "kernel/inputs.h"
#include "kernel/outside.h"
#include "kernel/window.h"
#include "run/widening.h"

namespace numasoak::testing {
namespace {

using kernel::WindowPoint;

TEST(OutsideWindow, TheLocatorFindsTheRereadInTheUnpatchedBuildAndTheSingleReadInTheBackport) {
  const WindowPoint unfixed = kernel::locate_window(kernel_called("6.1-bare").dir / "vmlinux", "6.1-bare");
  EXPECT_EQ(unfixed.shape, WindowPoint::Shape::kReread) << unfixed.describe();
  EXPECT_FALSE(unfixed.ptr_reg.empty());
  EXPECT_NE(unfixed.source.find("pmd_none_or_clear_bad_unless_trans_huge"), std::string::npos) << unfixed.source;
  const WindowPoint fixed = kernel::locate_window(kernel_called("6.1+backport-bare").dir / "vmlinux", "6.1+backport-bare");
  EXPECT_EQ(fixed.shape, WindowPoint::Shape::kSingle) << fixed.describe();
  EXPECT_FALSE(fixed.val_reg.empty());
  EXPECT_NE(fixed.source.find("in change_pmd_range"), std::string::npos) << fixed.source;
}

TEST(OutsideWindow, TheLocatorFindsTheRereadInDebiansOwnBinary) {
  // Debian's prebuilt kernel, its -dbg vmlinux fetched once (860 MB).
  const KernelArtifact& deb = kernel_called("debian-6.1");
  kernel::prepare_debian_outside(deb, kernel::default_images_dir());
  const WindowPoint w = kernel::locate_window(deb.dir / "vmlinux", "debian-6.1");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kReread) << w.describe();
  EXPECT_EQ(w.where(), "change_protection+0xee6");  // 6.1.192-3: mov (%r12),%rdi
}

TEST(OutsideAmplifier, TheDelayIsProvenTakenOnABuildWithNoNumasoakPatch) {
  const auto lib = load_kernel_library();
  const KernelSpec& spec = lib.at("6.1-bare");
  ASSERT_FALSE(spec.amplifier);
  const KernelArtifact& k = kernel_called("6.1-bare");
  auto plan = small_plan(k, real_image(), "outside-6.1-bare");
  plan.duration = std::chrono::seconds(30);
  plan.workload.profile = "bad-pmd";
  plan.workload.amplify_us = 200;
  plan.widening = decide_widening(spec, k, 200, 0);
  ASSERT_EQ(plan.widening.how, Widening::How::kOutside);
  plan.initrd = image::with_files(real_image(), {{"lib/numasoak_widen.ko", plan.widening.module, 0644}}).path;
  const RunResult r = run_to_end(plan, std::chrono::seconds(300));
  ASSERT_NE(r.verdict, Verdict::kError) << r.kind << ": " << r.title;
  EXPECT_EQ(r.widened.rfind("outside: kprobe at change_protection+0x", 0), 0u) << r.widened;
  ASSERT_TRUE(r.event_totals.count("race_widen_hits")) << "the module's counters never reached the host";
  EXPECT_GT(r.event_totals.at("race_widen_hits"), 0) << "no delay was taken";
  // A bad pmd is likely within 30 s at 200 us but not certain: when it comes, it is the race.
  if (r.verdict == Verdict::kFailed) EXPECT_EQ(r.kind, "bad-pmd") << r.title;
}

}  // namespace
}  // namespace numasoak::testing
