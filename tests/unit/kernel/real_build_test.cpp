// Real kernels (needs linux-source-6.1; fails, does not skip, without it):
// the fragment check on a real tinyconfig, ONE real build of the library's
// "6.1" (cached in the user's cache dir, so a repeated run is a cache hit),
// and a variant adding a small patch, rebuilt incrementally in under 60 s.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <sstream>

#include "common/error.h"
#include "config/campaign.h"
#include "kernel/build.h"
#include "kernel/bzimage.h"
#include "support.h"

namespace numasoak {
namespace {

namespace fs = std::filesystem;

// Phase changes on stderr, so a long cold build shows it is alive.
BuildOptions verbose_options() {
  BuildOptions o;
  auto last = std::make_shared<std::string>();
  o.progress = [last](const BuildProgress& p) {
    const std::string phase = to_string(p.phase);
    if (phase == *last && p.phase != BuildPhase::kPatching) return;
    *last = phase;
    std::fprintf(stderr, "  [kernel] %s %s\n", phase.c_str(), p.detail.c_str());
  };
  return o;
}

TEST(RealKernel, DroppedFragmentOptionIsReported) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  KernelSpec spec;
  spec.name = "numa-balancing-without-numa";
  spec.kind = KernelSourceKind::kDebianSource;
  spec.package = "linux-source-6.1";
  spec.fragments = {(test::fixtures() / "numa-balancing-without-numa.config").string()};
  BuildOptions o = verbose_options();
  o.configure_only = true;
  try {
    build_kernel(spec, o);
    FAIL() << "expected the dropped option to be reported";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("fragment numa-balancing-without-numa.config asks for CONFIG_NUMA_BALANCING=y but olddefconfig "
                       "dropped it (missing dependency?)"),
              std::string::npos)
        << msg;
  }
}

TEST(RealKernel, GuestFragmentSurvivesOn61) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  KernelSpec spec = load_kernel_library().at("6.1");
  BuildOptions o = verbose_options();
  o.configure_only = true;
  const KernelArtifact a = build_kernel(spec, o);
  EXPECT_TRUE(fs::exists(a.config));
}

// The "6.12" entry: its two fragments survive and its amplifier applies.
TEST(RealKernel, GuestFragmentsSurviveOn612) {
  if (!test::require_linux_source("linux-source-6.12")) return;
  KernelSpec spec = load_kernel_library().at("6.12");
  BuildOptions o = verbose_options();
  o.configure_only = true;
  const KernelArtifact a = build_kernel(spec, o);
  EXPECT_TRUE(fs::exists(a.config));
}

TEST(RealKernel, Default61BuildsAndIsCachedAfterwards) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  const KernelSpec spec = load_kernel_library().at("6.1");
  const KernelArtifact a = build_kernel(spec, verbose_options());
  std::fprintf(stderr, "6.1: %s in %.1f s (%s), release %s, %llu bytes\n", a.cache_hit ? "cache hit" : "built",
               seconds(a.elapsed), a.bzimage.c_str(), a.release.c_str(), static_cast<unsigned long long>(a.size.value));
  ASSERT_TRUE(fs::is_regular_file(a.bzimage));
  EXPECT_TRUE(kernel::looks_like_bzimage(a.bzimage));
  EXPECT_TRUE(a.release.starts_with("6.1.")) << a.release;
  EXPECT_EQ(a.manifest.value("release", ""), a.release);
  EXPECT_TRUE(a.banner.starts_with("Linux version " + a.release + " (numasoak@numasoak) (gcc")) << a.banner;
  EXPECT_EQ(kernel::release_of(kernel::bzimage_version(a.bzimage).value_or("")), a.release);
  EXPECT_TRUE(a.manifest["amplifier"].value("on", false));
  EXPECT_FALSE(a.manifest["source"].value("version", "").empty());

  const KernelArtifact again = build_kernel(spec);
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(again.bzimage, a.bzimage);
  EXPECT_LT(again.elapsed, std::chrono::seconds(1));
  std::fprintf(stderr, "6.1 again: cache hit in %.3f s\n", seconds(again.elapsed));
}

// "6.1" plus one patch adding a line to mm/mprotect.c (`line` goes inside a
// comment's place: see small-variant.patch.in), as a series in `dir`.
KernelSpec variant_of_61(const fs::path& dir, const std::string& line) {
  std::string patch = read_file(test::fixtures() / "small-variant.patch.in");
  patch.replace(patch.find("@TOKEN@"), 7, line);
  test::write(dir / "0001-numasoak-test-variant.patch", patch);
  KernelSpec variant = load_kernel_library().at("6.1");
  variant.name = "6.1+test-variant";
  variant.patches = {dir.string()};
  variant.amplifier = false;
  return variant;
}

TEST(RealKernel, VariantWithASmallPatchRebuildsUnder60s) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  build_kernel(load_kernel_library().at("6.1"), verbose_options());  // a cache hit after the test above

  // A patch no earlier run has built (a fresh token), so this measures a real
  // variant switch, not a cache hit.
  test::TempDir tmp;
  const KernelSpec variant = variant_of_61(
      tmp.path() / "series", fmt::format("{}", std::chrono::system_clock::now().time_since_epoch().count()));

  const KernelArtifact v = build_kernel(variant, verbose_options());
  std::fprintf(stderr, "variant rebuild: %.1f s (cc_count %d)\n", seconds(v.elapsed), v.manifest.value("cc_count", -1));
  EXPECT_FALSE(v.cache_hit);
  EXPECT_LT(v.elapsed, std::chrono::seconds(60));
  EXPECT_TRUE(fs::is_regular_file(v.bzimage));
  EXPECT_EQ(v.manifest["patches"].size(), 1u);
  // Where the time went: each command of build.log and how long it took.
  std::istringstream log(read_file(v.dir / "build.log"));
  std::string line, cmd;
  while (std::getline(log, line)) {
    if (line.starts_with("$ ")) cmd = line.substr(line.rfind(' ') + 1);
    if (line.starts_with("# exit ")) std::fprintf(stderr, "  %-40s %s\n", cmd.c_str(), line.c_str() + 2);
  }
  std::error_code ec;
  fs::remove_all(v.dir, ec);  // one-off: keep the user's cache clean
}

TEST(RealKernel, CompilerFailureShowsTheErrorLinesAndTheLog) {
  if (!test::require_linux_source("linux-source-6.1")) return;
  test::TempDir tmp;
  const KernelSpec broken =
      variant_of_61(tmp.path() / "series", "*/ _Static_assert(0, \"numasoak deliberate failure\"); /*");
  try {
    build_kernel(broken, verbose_options());
    FAIL() << "expected a compiler failure";
  } catch (const Error& e) {
    const std::string msg = e.what();
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("build failed: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("mm/mprotect.c:11:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("numasoak deliberate failure"), std::string::npos) << msg;
    const auto at = msg.find("log: ");
    ASSERT_NE(at, std::string::npos) << msg;
    const std::string log = msg.substr(at + 5, msg.size() - at - 6);
    EXPECT_TRUE(fs::is_regular_file(log)) << log;
  }
}

}  // namespace
}  // namespace numasoak
