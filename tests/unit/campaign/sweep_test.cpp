// A [sweep] campaign in the store and the runner's plans: its arms are
// planned as the store's kernels and interleaved round by round; each run
// is planned on its base kernel's artifact at its arm's width, with the
// campaign's uffd-wp width, and its result is keyed by the arm.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "campaign/runner.h"
#include "common/paths.h"
#include "config/campaign.h"
#include "run/plan.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace numasoak;

namespace {

const fs::path kConfigs = fs::path(NUMASOAK_FIXTURES) / "configs";

class SweepCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("NUMASOAK_DATA_DIR", (kConfigs / "data").c_str(), 1);
    dir_ = fs::temp_directory_path() / ("numasoak-sweep-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    unsetenv("NUMASOAK_DATA_DIR");
    fs::remove_all(dir_);
  }
  Campaign sweep() const {
    return load_campaign_text("kernels = [\"6.1\", \"6.1+backport\"]\nruns_per_kernel = 2\n"
                              "output = \"" + (dir_ / "out").string() + "\"\n"
                              "[workload]\namplify_uffd_us = 3\n[sweep]\namplify_us = [20, 0]\n",
                              "dose.toml", kConfigs);
  }
  static std::vector<std::string> arm_names(const Campaign& c) {
    std::vector<std::string> out;
    for (const auto& a : c.arms()) out.push_back(a.name);
    return out;
  }
  fs::path dir_;
};

TEST_F(SweepCampaign, ArmsAreInterleavedRoundByRound) {
  const Campaign c = sweep();
  Store store = Store::open(dir_);
  EXPECT_EQ(store.plan_runs(arm_names(c), c.runs_per_kernel), 8);
  std::vector<std::string> order;
  for (const auto& r : store.runs()) order.push_back(r.run_id);
  EXPECT_EQ(order, (std::vector<std::string>{"6.1@20us-1", "6.1@off-1", "6.1+backport@20us-1", "6.1+backport@off-1",
                                             "6.1@20us-2", "6.1@off-2", "6.1+backport@20us-2", "6.1+backport@off-2"}));
  // What the scheduler takes first is round 1's first arm; resuming plans
  // the same arms again and adds nothing.
  EXPECT_EQ(store.next_queued()->run_id, "6.1@20us-1");
  EXPECT_EQ(store.plan_runs(arm_names(sweep()), c.runs_per_kernel), 0);
  const auto kernels = store.kernels();
  ASSERT_EQ(kernels.size(), 4u);
  EXPECT_EQ(kernels[0].name, "6.1@20us");
  EXPECT_EQ(kernels[3].name, "6.1+backport@off");
}

TEST_F(SweepCampaign, EachRunIsPlannedOnItsBaseKernelAtItsArmsWidth) {
  const Campaign c = sweep();
  std::map<std::string, KernelArtifact> kernels;
  for (const auto& name : c.kernel_names) {
    KernelArtifact k;
    k.name = name;
    k.bzimage = dir_ / (name + ".bzImage");
    k.release = "6.1.192";
    kernels[name] = k;
  }
  image::ImageArtifact img;
  img.path = dir_ / "initramfs.cpio.gz";

  RunRow row;
  row.run_id = "6.1+backport@20us-2";
  row.kernel = "6.1+backport@20us";
  const RunPlan wide = plan_for_row(c, row, kernels, img, vm::Accel::kTcg);
  EXPECT_EQ(wide.kernel, "6.1+backport@20us");  // the result is keyed by the arm
  EXPECT_EQ(wide.kernel_image, dir_ / "6.1+backport.bzImage");
  EXPECT_EQ(wide.workload.amplify_us, 20);
  EXPECT_EQ(wide.workload.amplify_uffd_us, 3);
  EXPECT_NE(run_cmdline(wide).find("numasoak.race_widen_us=20"), std::string::npos) << run_cmdline(wide);
  EXPECT_EQ(wide.out_dir, c.output_dir / "runs" / sanitize_filename(row.run_id));

  row.run_id = "6.1@off-1";
  row.kernel = "6.1@off";
  const RunPlan off = plan_for_row(c, row, kernels, img, vm::Accel::kTcg);
  EXPECT_EQ(off.kernel, "6.1@off");
  EXPECT_EQ(off.kernel_image, dir_ / "6.1.bzImage");
  EXPECT_EQ(off.workload.amplify_us, 0);
  EXPECT_EQ(run_cmdline(off).find("race_widen_us="), std::string::npos) << run_cmdline(off);

  // Each attempt of a run has a guest name of its own: a re-run must not
  // collide with the domain of the attempt killed a moment ago.
  EXPECT_EQ(off.guest_name, "numasoak-" + c.name + "-" + sanitize_filename("6.1@off-1"));
  row.attempts = 2;  // two attempts interrupted: this is the third
  EXPECT_EQ(plan_for_row(c, row, kernels, img, vm::Accel::kTcg).guest_name, off.guest_name + "-try3");

  // A run of an arm the file no longer names is a usage error, not a crash.
  row.kernel = "6.1@5us";
  row.run_id = "6.1@5us-1";
  try {
    plan_for_row(c, row, kernels, img, vm::Accel::kTcg);
    FAIL() << "planned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("6.1@5us"), std::string::npos) << e.what();
  }
}

}  // namespace
