// A [sweep] campaign end to end, with real guests: `numasoak compare` on
// the amplified 6.1 swept over two widths (20 us and off), one short quiet
// run each. The store must hold one finished run per arm, each run widened
// as its arm says (the guest got numasoak.race_widen_us=20, or nothing), and
// the report a dose-response section. About 2 x (boot + 5 s) of guest time.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli_fixture.h"
#include "common/paths.h"
#include "guest_fixture.h"
#include "store/store.h"

namespace numasoak::testing {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, EachArmRunsOnceAtItsWidthAndTheReportHasTheDoseResponse) {
  const fs::path dir = fs::temp_directory_path() / ("numasoak-campaign-sweep-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "c.toml") << "name = \"sweep\"\n"
                                << "kernels = [\"6.1\"]\n"
                                << "runs_per_kernel = 1\n"
                                << "duration = \"5s\"\n"
                                << "accel = \"tcg\"\n"
                                << "stop = \"fixed\"\n"
                                << "output = \"" << (dir / "out").string() << "\"\n"
                                << "[workload]\nprofile = \"quiet\"\n"
                                << "[sweep]\namplify_us = [20, 0]\n";
  Compare c(dir / "c.toml");
  const int rc = c.finish(std::chrono::seconds(300));
  EXPECT_EQ(rc, 0) << c.log;
  EXPECT_TRUE(pids_with_cmdline("numasoak-sweep-").empty()) << "a QEMU outlived the campaign";

  Store s = Store::open_read_only(dir / "out");
  const auto kernels = s.kernels();
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].name, "6.1@20us");
  EXPECT_EQ(kernels[1].name, "6.1@off");
  const auto runs = s.runs();
  ASSERT_EQ(runs.size(), 2u) << c.log;
  for (const auto& r : runs) {
    EXPECT_EQ(r.state, RunState::kFinished) << r.run_id;
    ASSERT_TRUE(r.verdict.has_value()) << r.run_id;
    EXPECT_EQ(*r.verdict, Verdict::kSurvived) << r.run_id << " " << r.kind << " " << r.title;
  }
  const auto results = s.finished_runs();
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    // Both arms ran the one 6.1 build; what differs is the width.
    EXPECT_EQ(r.kernel_release, results[0].kernel_release);
    if (r.kernel == "6.1@20us") {
      EXPECT_EQ(r.run_id, "6.1@20us-1");
      EXPECT_NE(r.widened.find("numa 20 us"), std::string::npos) << r.widened;
    } else {
      EXPECT_EQ(r.kernel, "6.1@off");
      EXPECT_EQ(r.widened, "none") << r.widened;
    }
    EXPECT_GT(r.exposure_s, 3) << r.run_id;
  }
  // The guest's own command line says what it was given.
  const auto argv20 = read_file(dir / "out" / "runs" / sanitize_filename("6.1@20us-1") / "command.json");
  EXPECT_NE(argv20.find("numasoak.race_widen_us=20"), std::string::npos) << argv20;
  const auto argv0 = read_file(dir / "out" / "runs" / sanitize_filename("6.1@off-1") / "command.json");
  EXPECT_EQ(argv0.find("race_widen_us="), std::string::npos) << argv0;

  const std::string html = read_file(dir / "out" / "report.html");
  EXPECT_NE(html.find("<h2>Dose-response</h2>"), std::string::npos);
  EXPECT_NE(html.find("<svg class=dose"), std::string::npos);
  const auto summary = nlohmann::json::parse(read_file(dir / "out" / "summary.json"));
  ASSERT_EQ(summary["dose_response"].size(), 1u);
  EXPECT_EQ(summary["dose_response"][0]["kernel"], "6.1");
  ASSERT_EQ(summary["dose_response"][0]["rows"].size(), 2u);
  EXPECT_EQ(summary["dose_response"][0]["rows"][0]["width_us"], 20);
  EXPECT_EQ(summary["dose_response"][0]["rows"][0]["runs"], 1);
  EXPECT_EQ(summary["dose_response"][0]["rows"][1]["width_us"], 0);
  EXPECT_NE(summary["dose_response"][0]["text"].get<std::string>().find("no failures at any width"),
            std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace numasoak::testing
