// Campaign file loading: every malformed file in tests/fixtures/configs/bad
// names the problems it must produce in "# expect:" lines (line:col: key:
// message), and the loader must report exactly those, in order; a valid
// file loads into the expected structure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/campaign.h"

namespace fs = std::filesystem;
using namespace numasoak;

namespace {

const fs::path kConfigs = fs::path(NUMASOAK_FIXTURES) / "configs";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("NUMASOAK_DATA_DIR", (kConfigs / "data").c_str(), 1); }
  void TearDown() override { unsetenv("NUMASOAK_DATA_DIR"); }
};

std::vector<std::string> expected_issues(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const std::string tag = "# expect: ";
    if (line.rfind(tag, 0) == 0) out.push_back(file.filename().string() + ":" + line.substr(tag.size()));
  }
  return out;
}

std::vector<std::string> actual_issues(const fs::path& file) {
  std::vector<std::string> out;
  try {
    load_campaign(file);
  } catch (const ConfigErrors& e) {
    for (auto issue : e.issues()) {
      issue.where.file = fs::path(issue.where.file).filename().string();
      out.push_back(issue.to_string());
    }
  }
  return out;
}

TEST_F(ConfigTest, EveryMalformedFileGivesItsExactErrors) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kConfigs / "bad")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 15u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    auto actual = actual_issues(f);
    ASSERT_FALSE(actual.empty()) << "loaded without error";
    auto expected = expected_issues(f);
    if (f.filename() == "empty.toml") expected = {"empty.toml:1:1: the file is empty (a campaign needs at least kernels = [\"6.1\", \"6.1+backport\"]; see configs/default.toml)"};
    if (f.filename() == "binary.toml") expected = {"binary.toml:1:1: this is a binary file, not a TOML campaign file"};
    EXPECT_EQ(actual, expected);
  }
}

TEST_F(ConfigTest, ValidFileLoadsEveryKey) {
  const Campaign c = load_campaign(kConfigs / "good" / "full.toml");
  EXPECT_EQ(c.name, "full-example");
  EXPECT_EQ(c.output_dir, fs::absolute("out/full").lexically_normal());
  EXPECT_EQ(c.kernel_names, (std::vector<std::string>{"6.1+backport", "6.1", "custom"}));
  EXPECT_EQ(c.runs_per_kernel, 7);
  EXPECT_EQ(c.duration, std::chrono::minutes(90));
  EXPECT_EQ(c.parallel, 2);
  EXPECT_DOUBLE_EQ(c.oversubscribe, 1.5);
  EXPECT_EQ(c.accel, Accel::kTcg);
  EXPECT_EQ(c.on_failure, OnFailure::kContinue);
  EXPECT_EQ(c.stop, CampaignStop::kDecisive);
  ASSERT_TRUE(c.budget.has_value());
  EXPECT_EQ(*c.budget, std::chrono::hours(48));
  EXPECT_DOUBLE_EQ(c.confidence, 0.99);

  ASSERT_EQ(c.topology.nodes.size(), 4u);
  for (const auto& n : c.topology.nodes) {
    EXPECT_EQ(n.cpus, 2);
    EXPECT_EQ(n.memory, MiB(512));
  }
  EXPECT_EQ(c.topology.distance(0, 3), 40);
  EXPECT_EQ(c.topology.distance(2, 1), 20);
  EXPECT_EQ(c.topology.total_cpus(), 8);

  EXPECT_EQ(c.workload.profile, "uffd-wp-only");
  EXPECT_EQ(c.workload.amplify_us, 50);
  EXPECT_EQ(c.workload.amplify_uffd_us, 20);
  EXPECT_EQ(c.workload.extra_cmdline, std::vector<std::string>{"loglevel=7"});
  EXPECT_EQ(c.workload.knobs.at("balancing_procs"), "3");
  EXPECT_EQ(c.workload.knobs.at("uffd_wp"), "1");
  EXPECT_EQ(c.workload.knobs.at("ratio"), "0.5");
  EXPECT_EQ(c.workload.knobs.at("mode"), "fast");

  EXPECT_EQ(c.watchdog.boot, std::chrono::seconds(90));
  EXPECT_EQ(c.watchdog.silence, std::chrono::minutes(4));

  EXPECT_EQ(c.backend.kind, BackendKind::kLibvirt);
  ASSERT_EQ(c.backend.hosts.size(), 2u);
  EXPECT_EQ(c.backend.hosts[0].uri, "qemu:///system");
  EXPECT_EQ(c.backend.hosts[0].capacity, 8);
  EXPECT_EQ(c.backend.hosts[0].labels, std::vector<std::string>{"local"});
  EXPECT_EQ(c.backend.hosts[1].capacity, 0);

  const KernelSpec& custom = c.kernel("custom");
  EXPECT_EQ(custom.kind, KernelSourceKind::kBzImage);
  EXPECT_EQ(custom.path, (kConfigs / "data" / "bzImage-test").lexically_normal());
  EXPECT_EQ(custom.description, "my bzImage");
  const KernelSpec& bp = c.kernel("6.1+backport");
  EXPECT_EQ(bp.kind, KernelSourceKind::kDebianSource);
  EXPECT_EQ(bp.package, "linux-source-6.1");
  EXPECT_EQ(bp.patches, std::vector<std::string>{"6.1/backport"});
  EXPECT_TRUE(bp.amplifier);
  EXPECT_EQ(bp.fragments, std::vector<std::string>{"numasoak-guest"});
  EXPECT_EQ(c.planned_guest_time(), std::chrono::minutes(90) * 21);
}

TEST_F(ConfigTest, DefaultsWhenOnlyKernelsAreGiven) {
  const Campaign c = load_campaign_text("kernels = [\"6.1\"]\n", "mini.toml", kConfigs);
  EXPECT_EQ(c.topology.nodes.size(), 2u);
  EXPECT_EQ(c.topology.total_memory(), GiB(2));
  EXPECT_EQ(c.runs_per_kernel, 5);
  EXPECT_EQ(c.workload.profile, "bad-pmd");
  EXPECT_EQ(c.name, "mini");
}

TEST_F(ConfigTest, MissingFileIsAUsageError) {
  try {
    load_campaign(kConfigs / "nope.toml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("nope.toml does not exist"), std::string::npos);
  }
}

TEST(ClosestMatch, SuggestsNearKeysOnly) {
  EXPECT_EQ(closest_match("runs_per_kernal", {"runs_per_kernel", "parallel"}), "runs_per_kernel");
  EXPECT_EQ(closest_match("zzzzzz", {"runs_per_kernel", "parallel"}), "");
}

TEST(Durations, ParseAndReject) {
  EXPECT_EQ(parse_duration("90s"), Duration(90000));
  EXPECT_EQ(parse_duration("1h30m"), Duration(5400000));
  EXPECT_EQ(parse_duration("500ms"), Duration(500));
  EXPECT_FALSE(parse_duration("90"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(Sizes, ParseAndReject) {
  EXPECT_EQ(parse_bytes("1G"), GiB(1));
  EXPECT_EQ(parse_bytes("512M"), MiB(512));
  EXPECT_EQ(parse_bytes("1.5G"), MiB(1536));
  EXPECT_EQ(parse_bytes("2GiB"), GiB(2));
  EXPECT_FALSE(parse_bytes("G"));
  EXPECT_FALSE(parse_bytes("1X"));
  EXPECT_EQ(format_bytes(MiB(1536)), "1536M");
  EXPECT_EQ(format_bytes(GiB(2)), "2G");
}

}  // namespace

// Every kernel numasoak builds has a ":debug" variant without an entry of its
// own; a prebuilt kernel has none and cannot ask for one.
TEST_F(ConfigTest, EveryBuiltKernelHasADebugVariant) {
  const auto lib = load_kernel_library();
  ASSERT_TRUE(lib.count("6.1+backport:debug"));
  const KernelSpec& d = lib.at("6.1+backport:debug");
  EXPECT_TRUE(d.debug);
  EXPECT_EQ(d.patches, lib.at("6.1+backport").patches);
  EXPECT_EQ(d.amplifier, lib.at("6.1+backport").amplifier);
  EXPECT_FALSE(lib.at("6.1+backport").debug);
  EXPECT_FALSE(lib.count("prebuilt:debug"));
  const Campaign c = load_campaign_text("kernels = [\"6.1:debug\"]\n", "debug.toml", kConfigs);
  EXPECT_TRUE(c.kernel("6.1:debug").debug);
  try {
    load_campaign_text("kernels = [\"x\"]\n[kernel.\"x\"]\nsource = \"bzImage-test\"\ndebug = true\n", "bad.toml",
                       kConfigs / "data");
    ADD_FAILURE() << "a prebuilt kernel with debug = true loaded";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_NE(e.issues()[0].message.find("debug"), std::string::npos) << e.issues()[0].to_string();
  }
}
