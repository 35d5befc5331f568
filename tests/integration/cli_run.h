// One `numasoak ...` run as a user types it, for tests of what the user sees:
// the real executable from an argv vector (no shell), stdout and stderr
// collected on an io_context, exit code, and a time limit after which the
// child is killed and the test fails.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace numasoak::testing {

struct CliOptions {
  std::chrono::seconds limit{60};
  bool stdout_closed = false;  // stdout is a pipe whose reader has gone
  std::filesystem::path cwd;   // default: the test's working directory
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) ours
};

struct CliResult {
  int exit_code = -1;  // -1: did not end within the limit (killed)
  int signal = 0;      // the signal that ended it, if one did
  std::string out;
  std::string err;
  // The stderr lines, without empty ones.
  std::vector<std::string> err_lines() const;
};

CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options = {});

}  // namespace numasoak::testing
