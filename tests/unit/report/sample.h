// Synthetic campaigns for the report tests: run results as the run module
// would produce them, and a realistic two-kernel campaign in a store.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "result/run_result.h"

namespace numasoak::test {

RunResult failed(const std::string& kernel, int n, double ttf, const std::string& title = "bad pmd",
                 const std::string& kind = "bad-pmd");
RunResult survived(const std::string& kernel, int n, double exposure);
RunResult errored(const std::string& kernel, int n, const std::string& kind, const std::string& title);

// Writes `<dir>/numasoak.db` for campaign "backport-6.1": "6.1" fails 10/10
// (mostly bad pmd), "6.1+backport" survives 9 and has one boot failure; with
// telemetry, artifacts (files written under dir/runs) and example reports.
void make_sample_campaign(const std::filesystem::path& dir);

}  // namespace numasoak::test
