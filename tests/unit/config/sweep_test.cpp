// [sweep] amplify_us: every kernel at every race-window width, one arm per
// pair, named "<kernel>@<width>us" ("@off" for 0), in the file's order.
// (Malformed sweeps are fixtures in tests/fixtures/configs/bad/sweep-*.toml.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/campaign.h"

namespace fs = std::filesystem;
using namespace numasoak;

namespace {

const fs::path kConfigs = fs::path(NUMASOAK_FIXTURES) / "configs";

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("NUMASOAK_DATA_DIR", (kConfigs / "data").c_str(), 1); }
  void TearDown() override { unsetenv("NUMASOAK_DATA_DIR"); }
};

std::vector<std::string> names(const std::vector<CampaignArm>& arms) {
  std::vector<std::string> out;
  for (const auto& a : arms) out.push_back(a.name);
  return out;
}

TEST_F(SweepTest, EveryKernelRunsAtEveryWidthAsItsOwnArm) {
  const Campaign c = load_campaign_text(
      "kernels = [\"6.1\", \"6.1+backport\"]\nruns_per_kernel = 3\nduration = \"90s\"\n"
      "[workload]\namplify_uffd_us = 7\n[sweep]\namplify_us = [200, 20, 1, 0]\n",
      "dose.toml", kConfigs);
  ASSERT_TRUE(c.is_sweep());
  EXPECT_EQ(c.sweep_amplify_us, (std::vector<int>{200, 20, 1, 0}));
  const auto arms = c.arms();
  EXPECT_EQ(names(arms), (std::vector<std::string>{"6.1@200us", "6.1@20us", "6.1@1us", "6.1@off", "6.1+backport@200us",
                                                   "6.1+backport@20us", "6.1+backport@1us", "6.1+backport@off"}));
  EXPECT_EQ(arms[1].kernel, "6.1");
  EXPECT_EQ(arms[1].amplify_us, 20);
  EXPECT_EQ(arms[3].amplify_us, 0);
  EXPECT_EQ(arms[7].kernel, "6.1+backport");
  // Every arm keeps the campaign's uffd-wp width; the kernels stay two.
  EXPECT_EQ(c.workload.amplify_uffd_us, 7);
  EXPECT_EQ(c.kernel_names.size(), 2u);
  EXPECT_EQ(c.planned_guest_time(), std::chrono::seconds(90) * (3 * 8));
  ASSERT_TRUE(c.arm("6.1+backport@1us"));
  EXPECT_EQ(c.arm("6.1+backport@1us")->kernel, "6.1+backport");
  EXPECT_FALSE(c.arm("6.1"));
  EXPECT_FALSE(c.arm("6.1@5us"));
}

TEST_F(SweepTest, WithoutASweepEachKernelIsOneArmAtTheWorkloadWidth) {
  const Campaign c = load_campaign_text("kernels = [\"6.1\", \"6.1+backport\"]\n[workload]\namplify_us = 50\n",
                                        "plain.toml", kConfigs);
  EXPECT_FALSE(c.is_sweep());
  const auto arms = c.arms();
  EXPECT_EQ(names(arms), (std::vector<std::string>{"6.1", "6.1+backport"}));
  EXPECT_FALSE(arms[0].amplify_us);
  EXPECT_EQ(c.arm("6.1")->kernel, "6.1");
  EXPECT_FALSE(campaign_to_json(c).contains("sweep"));
}

TEST_F(SweepTest, ArmNamesSayOffForZero) {
  EXPECT_EQ(sweep_arm_name("6.1-bare", 20), "6.1-bare@20us");
  EXPECT_EQ(sweep_arm_name("6.1-bare", 0), "6.1-bare@off");
  EXPECT_EQ(sweep_arm_name("6.1-bare", 10000), "6.1-bare@10000us");
}

TEST_F(SweepTest, TheSnapshotNamesEveryArmWithItsKernelAndWidth) {
  // `numasoak report` rebuilds the dose-response from this, never from names.
  const Campaign c = load_campaign_text("kernels = [\"6.1\"]\n[sweep]\namplify_us = [50, 0]\n", "s.toml", kConfigs);
  const auto j = campaign_to_json(c);
  ASSERT_TRUE(j.contains("sweep"));
  EXPECT_EQ(j["sweep"]["amplify_us"], nlohmann::json::array({50, 0}));
  ASSERT_EQ(j["sweep"]["arms"].size(), 2u);
  EXPECT_EQ(j["sweep"]["arms"][0]["name"], "6.1@50us");
  EXPECT_EQ(j["sweep"]["arms"][0]["kernel"], "6.1");
  EXPECT_EQ(j["sweep"]["arms"][0]["amplify_us"], 50);
  EXPECT_EQ(j["sweep"]["arms"][1]["name"], "6.1@off");
  EXPECT_EQ(j["sweep"]["arms"][1]["amplify_us"], 0);
  // The kernels list stays the kernels: one build each.
  EXPECT_EQ(j["kernels"].size(), 1u);
}

TEST_F(SweepTest, ASweepWithABudgetAndFixedStopIsFine) {
  const Campaign c = load_campaign_text(
      "kernels = [\"6.1\"]\nstop = \"fixed\"\nbudget = \"2h\"\n[sweep]\namplify_us = [10000, 0]\n", "b.toml", kConfigs);
  EXPECT_EQ(c.arms().size(), 2u);
}

TEST_F(SweepTest, ErrorsNameTheFileAndTheKey) {
  try {
    load_campaign_text("kernels = [\"6.1\"]\n[sweep]\namplify_us = [5, 5]\n", "dup.toml", kConfigs);
    FAIL() << "loaded";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].to_string(), "dup.toml:3:18: sweep.amplify_us: 5 is listed twice");
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
  try {
    load_campaign_text("kernels = [\"6.1\"]\nsweep = [1, 2]\n", "flat.toml", kConfigs);
    FAIL() << "loaded";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].to_string(), "flat.toml:2:9: sweep: expected a table, got an array");
  }
}

}  // namespace
