// The race window widened from outside the source (README "Widening the
// window from outside"): real kernels built with no numasoak patch, the real
// widen module, real guests.
// - the window locator finds the point in numasoak's unpatched 6.1, its
//   backported 6.1 and its 6.12 binaries and in Debian's own 6.1 binary;
// - on the unpatched build and on the backport the module's delay is proven
//   taken in a real run, and the run's record says how the window was widened.
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
  // gcc copied the backport's read into each `goto again` path: all are probed.
  EXPECT_GE(fixed.offsets.size(), 2u) << fixed.describe();
}

TEST(OutsideWindow, TheLocatorFindsTheSingleReadIn612) {
  // Upstream's fix (670ddd8cdcbd): `_pmd = pmdp_get_lockless(pmd)`, once.
  const WindowPoint w = kernel::locate_window(kernel_called("6.12-bare").dir / "vmlinux", "6.12-bare");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kSingle) << w.describe();
  EXPECT_FALSE(w.val_reg.empty());
  EXPECT_NE(w.source.find("pmdp_get"), std::string::npos) << w.source;
  EXPECT_NE(w.source.find("change_pmd_range"), std::string::npos) << w.source;
}

TEST(OutsideWindow, TheLocatorFindsTheRereadInDebiansOwnBinary) {
  // Debian's prebuilt kernel, its -dbg vmlinux fetched once (860 MB).
  const KernelArtifact& deb = kernel_called("debian-6.1");
  kernel::prepare_debian_outside(deb, kernel::default_images_dir());
  const WindowPoint w = kernel::locate_window(deb.dir / "vmlinux", "debian-6.1");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kReread) << w.describe();
  EXPECT_EQ(w.where(), "change_protection+0xee6");  // 6.1.192-3: mov (%r12),%rdi
}

// One 30 s run of `name` with the window widened from outside at 200 us.
RunResult outside_run(const std::string& name) {
  const auto lib = load_kernel_library();
  const KernelSpec& spec = lib.at(name);
  EXPECT_FALSE(spec.amplifier);
  const KernelArtifact& k = kernel_called(name);
  auto plan = small_plan(k, real_image(), "outside-" + name);
  plan.duration = std::chrono::seconds(30);
  plan.workload.profile = "bad-pmd";
  plan.workload.amplify_us = 200;
  plan.widening = decide_widening(spec, k, 200, 0);
  EXPECT_EQ(plan.widening.how, Widening::How::kOutside);
  plan.initrd = image::with_files(real_image(), {{"lib/numasoak_widen.ko", plan.widening.module, 0644}}).path;
  return run_to_end(plan, std::chrono::seconds(300));
}

TEST(OutsideAmplifier, TheDelayIsProvenTakenOnABuildWithNoNumasoakPatch) {
  const RunResult r = outside_run("6.1-bare");
  ASSERT_NE(r.verdict, Verdict::kError) << r.kind << ": " << r.title;
  EXPECT_EQ(r.widened.rfind("outside: kprobe at change_protection+0x", 0), 0u) << r.widened;
  ASSERT_TRUE(r.event_totals.count("race_widen_hits")) << "the module's counters never reached the host";
  EXPECT_GT(r.event_totals.at("race_widen_hits"), 0) << "no delay was taken";
  // A bad pmd is likely within 30 s at 200 us but not certain: when it comes, it is the race.
  if (r.verdict == Verdict::kFailed) {
    EXPECT_EQ(r.kind, "bad-pmd") << r.title;
  }
}

TEST(OutsideAmplifier, TheBackportSurvivesWithTheDelayTakenAtItsRead) {
  // The fix is judged only if the walker really waits at the fix's read: a
  // backport that survives because its delay point is never reached proves
  // nothing (before every copy was probed, it took 0 delays in 60 s).
  const RunResult r = outside_run("6.1+backport-bare");
  ASSERT_NE(r.verdict, Verdict::kError) << r.kind << ": " << r.title;
  EXPECT_NE(r.widened.find("after the single read"), std::string::npos) << r.widened;
  ASSERT_TRUE(r.event_totals.count("race_widen_hits")) << "the module's counters never reached the host";
  EXPECT_GT(r.event_totals.at("race_widen_hits"), 100) << "the backport's read was hardly delayed";
  EXPECT_EQ(r.verdict, Verdict::kSurvived) << r.kind << ": " << r.title;
}

}  // namespace
}  // namespace numasoak::testing
