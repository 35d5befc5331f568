// The numasoak CLI as a user runs it, for integration tests: a campaign file
// in a fresh temp folder, and `numasoak compare` as a child process whose
// stderr is read line by line on an io_context (waiting on the line, with a
// time limit, never sleeping).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/process.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace numasoak::testing {

// Writes <tmp>/numasoak-campaign-<name>-<pid>/c.toml: kernels 6.1 and
// 6.1+backport, `runs` each, TCG, the quiet profile; `extra_top` is added to
// the top-level keys (e.g. "parallel = 2\n"), results go to `output` (default
// the folder's out/). Returns the folder.
std::filesystem::path write_campaign(const std::string& name, int runs, const std::string& duration,
                                     const std::string& extra_top = "", const std::filesystem::path& output = {});

// `numasoak -v compare FILE` (or any verb), stdout discarded, stderr collected in `log`.
struct Compare {
  boost::asio::io_context io;
  boost::process::async_pipe err{io};
  boost::process::child child;
  std::string log;
  boost::asio::streambuf buf;  // bytes read past the last whole line

  explicit Compare(const std::filesystem::path& file);
  // Any verb: `numasoak ARGS...` (e.g. {"-v", "bisect", ...}), stdout discarded.
  explicit Compare(const std::vector<std::string>& args);

  // Reads stderr until a line containing `want` arrives (true), the stream
  // ends or `limit` passes (false).
  bool wait_for(const std::string& want, std::chrono::seconds limit);
  // Reads stderr to its end, then reaps the child: its exit code.
  int finish(std::chrono::seconds limit);
};

}  // namespace numasoak::testing
