// Running the build's tools (tar, patch, make, dpkg-query, ...) as child
// processes: argv vectors, never shell strings; stdout and stderr read to EOF
// line by line on a Boost.Asio io_context (Boost.Process v1).
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::kernel {

/// One tool to run: its argv, working folder, extra environment and a callback for each output line.
struct ToolRun {
  std::vector<std::string> argv;               // argv[0] is looked up in PATH unless it has a '/'
  std::filesystem::path cwd;                   // "" = inherit
  std::map<std::string, std::string> env;      // added to (or replacing in) our environment
  // Called for every output line (without '\n'); `err` says it came from stderr.
  std::function<void(std::string_view line, bool err)> on_line;
};

/// How a tool ended: its exit code, and its stdout when it was captured.
struct ToolResult {
  int exit_code = -1;  // a signal death gives the signal number
  std::string out;     // stdout, when capture was asked for
};

// Runs one tool to completion on `io` (which must not be running elsewhere).
// With `capture`, stdout is also returned whole. Throws an infrastructure
// Error when the program cannot be found or started.
ToolResult run_tool(boost::asio::io_context& io, const ToolRun& run, bool capture = false);

// Convenience: runs with a private io_context and returns stdout; throws an
// infrastructure Error naming the command when it exits non-zero.
std::string tool_output(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

// "make -j2 bzImage": the argv joined for messages and logs (not for a shell).
std::string argv_text(const std::vector<std::string>& argv);

}  // namespace numasoak::kernel
