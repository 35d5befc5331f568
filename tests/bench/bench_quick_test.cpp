// `numasoak bench --quick` runs end to end and its bench.json has every part:
// a result for every row (stressors alone and the alternatives included, in
// the bench image), boot times, the injected-marker detection, scaling.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/plan.h"
#include "common/paths.h"

namespace fs = std::filesystem;

namespace {

// Runs argv with stdout to `out_file`; returns the exit status.
int run(const std::vector<std::string>& argv, const fs::path& out_file) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const nlohmann::json* cost(const nlohmann::json& j, const std::string& prefix) {
  for (const auto& c : j["costs"])
    if (c["name"].get<std::string>().rfind(prefix, 0) == 0) return &c;
  return nullptr;
}

}  // namespace

TEST(BenchQuick, RunsEveryPartAndWritesBenchJson) {
  const fs::path dir = numasoak::make_private_dir("numasoak-bench-quick");
  const fs::path out = dir / "out";
  const int rc = run({NUMASOAK_CLI, "bench", "--quick", "-o", out.string()}, dir / "stdout.txt");
  const std::string table = numasoak::read_file(dir / "stdout.txt");
  ASSERT_EQ(rc, 0) << table;
  ASSERT_TRUE(fs::is_regular_file(out / "bench.json"));
  const auto j = nlohmann::json::parse(numasoak::read_file(out / "bench.json"));
  EXPECT_TRUE(j["quick"].get<bool>());

  // Every row ran in a guest that booted and accepted its setup.
  std::set<std::string> rows;
  for (const auto& c : j["cells"]) {
    const std::string row = c["row"];
    rows.insert(row);
    EXPECT_GE(c["runs"].get<int>(), 1) << row;  // failed, survived or idle: the program ran
    for (const auto& k : c["error_kinds"]) {
      const std::string kind = k;
      EXPECT_TRUE(kind != "boot-failure" && kind != "config" && kind != "lost" && kind != "infrastructure")
          << row << ": " << kind;
    }
    EXPECT_FALSE(c["failures_per_hour"]["text"].get<std::string>().empty()) << row;
  }
  for (const auto& r : numasoak::bench::bench_rows()) EXPECT_TRUE(rows.count(r.name)) << r.name;
  const auto& bad = j["cells"][0];
  EXPECT_EQ(bad["profile"], "bad-pmd");
  EXPECT_GT(bad["rates_per_s"]["race_events"].get<double>(), 0.0);
  EXPECT_FALSE(j["natural"].is_null());
  EXPECT_EQ(j["natural"]["amplify_us"], 0);

  // Costs: boot, the injected marker detected, harness CPU and RSS.
  for (const char* name : {"boot to workload start (6.1", "detection: marker", "harness CPU per guest-hour, 1",
                           "harness peak RSS, 1", "guest image, bench variant", "kernel 6.1, warm cache"}) {
    const auto* c = cost(j, name);
    ASSERT_NE(c, nullptr) << name;
    ASSERT_FALSE((*c)["value"].is_null()) << name << ": " << (*c)["note"];
    EXPECT_GT((*c)["value"].get<double>(), 0.0) << name;
  }
  ASSERT_GE(j["scaling"].size(), 2u);
  for (const auto& s : j["scaling"]) EXPECT_GT(s["aggregate_race_events_per_s"].get<double>(), 0.0);

  // The table and the headline reach stdout.
  EXPECT_NE(table.find("Harness costs"), std::string::npos) << table;
  EXPECT_NE(table.find(j["headline"]["text"].get<std::string>()), std::string::npos) << table;
  fs::remove_all(dir);
}
