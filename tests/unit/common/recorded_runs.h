// A campaign's runs as recorded in tests/fixtures/stats/*-runs.csv (one line
// per run in start order: kernel,sequence,verdict,time_s,boot_s; '#' lines
// say where they came from), for the tests that replay a real campaign
// through the sequential tests look by look.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace numasoak::test {

/// One recorded run: its kernel, whether it failed, its time (TTF when it
/// failed, else its exposure) and its boot time, in seconds.
struct RecordedRun {
  std::string kernel;
  bool failed = false;
  double time_s = 0, boot_s = 0;
};

// The runs of tests/fixtures/stats/<name> (empty when it cannot be read).
inline std::vector<RecordedRun> recorded_runs(const std::string& name) {
  std::ifstream f(std::string(NUMASOAK_FIXTURES) + "/stats/" + name);
  std::vector<RecordedRun> rows;
  for (std::string line; std::getline(f, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string k, seq, verdict, t, boot;
    std::getline(ss, k, ',');
    std::getline(ss, seq, ',');
    std::getline(ss, verdict, ',');
    std::getline(ss, t, ',');
    std::getline(ss, boot, ',');
    rows.push_back({k, verdict == "failed", std::stod(t), std::stod(boot)});
  }
  return rows;
}

}  // namespace numasoak::test
