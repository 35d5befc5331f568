// make_plan: the one place a RunPlan is made, for run, compare and bench.
#include "run/plan.h"

#include "image/gzip.h"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace numasoak {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct PlanTest : ::testing::Test {
  void SetUp() override {
    dir = fs::temp_directory_path() / ("numasoak-plan-test-" + std::to_string(::getpid()));
    fs::create_directories(dir / "kernel");
    fs::create_directories(dir / "image");
    campaign.name = "c";
    campaign.topology.nodes = {NumaNode{2, MiB(1024)}, NumaNode{2, MiB(1024)}};
    campaign.workload.profile = "bad-pmd";
    campaign.workload.amplify_us = 200;
    campaign.workload.amplify_uffd_us = 50;
    campaign.workload.knobs["walkers"] = "3";
    campaign.watchdog.boot = 30s;
    campaign.watchdog.silence = 40s;
    campaign.duration = 90s;
    campaign.on_failure = OnFailure::kContinue;
    spec.name = "6.1";
    spec.amplifier = true;
    kernel.name = "6.1";
    kernel.release = "6.1.192";
    kernel.bzimage = dir / "kernel" / "bzImage";
    kernel.dir = dir / "kernel";
    image.path = dir / "image" / "initramfs.cpio.gz";
    image.manifest = dir / "image" / "manifest.json";
  }
  void TearDown() override { fs::remove_all(dir); }
  static void touch(const fs::path& p) { std::ofstream(p) << "{}\n"; }

  fs::path dir;
  Campaign campaign;
  KernelSpec spec;
  KernelArtifact kernel;
  image::ImageArtifact image;
};

TEST_F(PlanTest, TakesTheCampaignsSettingsTheArtifactsAndTheSlot) {
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kKvm, {"6.1-3", "numasoak-c-6.1-3", dir / "runs" / "6.1-3"});
  EXPECT_EQ(p.run_id, "6.1-3");
  EXPECT_EQ(p.guest_name, "numasoak-c-6.1-3");
  EXPECT_EQ(p.out_dir, dir / "runs" / "6.1-3");
  EXPECT_EQ(p.kernel, "6.1");
  EXPECT_EQ(p.kernel_release, "6.1.192");
  EXPECT_EQ(p.kernel_image, kernel.bzimage);
  EXPECT_EQ(p.initrd, image.path);
  EXPECT_EQ(p.topology.total_cpus(), 4);
  EXPECT_EQ(p.workload.amplify_us, 200);
  EXPECT_EQ(p.workload.amplify_uffd_us, 50);
  EXPECT_EQ(p.watchdog.boot, Duration(30s));
  EXPECT_EQ(p.watchdog.silence, Duration(40s));
  EXPECT_EQ(p.duration, Duration(90s));
  EXPECT_EQ(p.on_failure, OnFailure::kContinue);
  EXPECT_EQ(p.accel, vm::Accel::kKvm);
  EXPECT_EQ(p.host, "local");
}

TEST_F(PlanTest, AKernelBuiltWithoutTheAmplifierRunsWithItOff) {
  spec.amplifier = false;
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"});
  EXPECT_EQ(p.workload.amplify_us, 0);
  EXPECT_EQ(p.workload.amplify_uffd_us, 0);
  EXPECT_EQ(run_cmdline(p).find("race_widen"), std::string::npos) << run_cmdline(p);
  // Also when the caller asks for it (bench rows, `run --amplify-us`).
  PlanOverrides o;
  o.amplify_us = 200;
  EXPECT_EQ(make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"}, o).workload.amplify_us, 0);
}

TEST_F(PlanTest, AKernelWithTheWidenModuleIsWidenedFromOutsideAtItsLocatedPoint) {
  // A kernel built without the amplifier series but with the widen module
  // (the numasoak-outside fragment): the module goes into the initrd and the
  // located point onto the command line. The point comes from the artifact's
  // window.json memo here (the locator itself: tests/unit/kernel/window_test.cpp).
  spec.amplifier = false;
  const char* old_cache = std::getenv("NUMASOAK_CACHE_DIR");
  const std::string saved = old_cache ? old_cache : "";
  ::setenv("NUMASOAK_CACHE_DIR", (dir / "cache").c_str(), 1);
  std::ofstream(kernel.dir / "numasoak_widen.ko") << "module bytes";
  std::ofstream(kernel.dir / "vmlinux") << "vmlinux bytes";
  std::ofstream(image.path, std::ios::binary) << image::gzip_deterministic("base image");
  image.hash = "base";
  const auto vm = kernel.dir / "vmlinux";
  const std::string stamp = std::to_string(fs::file_size(vm)) + " " +
                            std::to_string(fs::last_write_time(vm).time_since_epoch().count());
  std::ofstream(kernel.dir / "window.json")
      << R"({"locator":3,"vmlinux":")" << stamp
      << R"(","shape":"reread","symbol":"change_protection","offsets":[3814],"ptr_reg":"r12","val_reg":"",)"
      << R"J("source":"include/linux/pgtable.h:1370 (pmd_read_atomic in pmd_none_or_clear_bad_unless_trans_huge)","copies":1})J";
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"});
  if (old_cache) ::setenv("NUMASOAK_CACHE_DIR", saved.c_str(), 1); else ::unsetenv("NUMASOAK_CACHE_DIR");

  EXPECT_EQ(p.widening.how, Widening::How::kOutside);
  EXPECT_EQ(p.workload.amplify_us, 200);
  const std::string cmd = run_cmdline(p);
  for (const char* want : {"numasoak_widen.symbol=change_protection", "numasoak_widen.offsets=0xee6",
                           "numasoak_widen.ptr_reg=r12", "numasoak_widen.numa_us=200", "numasoak_widen.uffd_us=50"}) {
    EXPECT_NE(cmd.find(want), std::string::npos) << want << " in " << cmd;
  }
  EXPECT_EQ(cmd.find("numasoak.race_widen"), std::string::npos) << cmd;
  EXPECT_NE(p.widening.describe().find("outside: kprobe at change_protection+0xee6"), std::string::npos)
      << p.widening.describe();
  // The image's bytes, then an archive with the module.
  ASSERT_NE(p.initrd, image.path);
  std::ifstream in(p.initrd, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string base = image::gzip_deterministic("base image");
  ASSERT_EQ(bytes.substr(0, base.size()), base);
  const std::string extra = image::gunzip(bytes.substr(base.size()));
  EXPECT_NE(extra.find("lib/numasoak_widen.ko"), std::string::npos);
  EXPECT_NE(extra.find("module bytes"), std::string::npos);
}

TEST_F(PlanTest, OverridesChangeOnlyWhatTheySay) {
  PlanOverrides o;
  o.profile = "quiet";
  o.amplify_us = 20;
  o.duration = 3s;
  o.on_failure = OnFailure::kStop;
  o.min_boot = 90s;
  o.min_silence = 10s;  // below the campaign's: the campaign's stays
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"}, o);
  EXPECT_EQ(p.workload.profile, "quiet");
  EXPECT_EQ(p.workload.amplify_us, 20);
  EXPECT_EQ(p.workload.amplify_uffd_us, 50);
  EXPECT_EQ(p.workload.knobs.at("walkers"), "3");
  EXPECT_EQ(p.duration, Duration(3s));
  EXPECT_EQ(p.on_failure, OnFailure::kStop);
  EXPECT_EQ(p.watchdog.boot, Duration(90s));
  EXPECT_EQ(p.watchdog.silence, Duration(40s));
}

TEST_F(PlanTest, ManifestsThatExistAreCopiedUnderNamesOfTheirOwn) {
  EXPECT_TRUE(make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"}).manifests.empty());
  touch(kernel.dir / "manifest.json");
  touch(image.manifest);
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"});
  ASSERT_EQ(p.manifests.size(), 2u);
  EXPECT_EQ(p.manifests[0].source, kernel.dir / "manifest.json");
  EXPECT_EQ(p.manifests[0].name, "manifest.json");
  EXPECT_EQ(p.manifests[1].source, image.manifest);
  EXPECT_EQ(p.manifests[1].name, "image-manifest.json");
  // A ready bzImage has no cache folder.
  kernel.dir.clear();
  EXPECT_EQ(make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"}).manifests.size(), 1u);
}

TEST_F(PlanTest, CommandLineCarriesAmplifierProfileAndKnobs) {
  const RunPlan p = make_plan(campaign, spec, kernel, image, vm::Accel::kTcg, {"a", "g", dir / "a"});
  const std::string cmd = run_cmdline(p);
  EXPECT_NE(cmd.find("numasoak.race_widen_us=200"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("numasoak.race_widen_uffd_us=50"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("profile=bad-pmd"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("walkers=3"), std::string::npos) << cmd;
}

}  // namespace
}  // namespace numasoak
