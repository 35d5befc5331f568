// What a kernel build records and tells while it runs: build.log (every
// command and every line of its output), the error lines a failed make left
// (for the one-line Error), and progress for whoever listens
// (BuildOptions::progress). Used by the build's steps (kernel/build*.cpp,
// kernel/configure, kernel/compile, ...), not outside kernel/.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "kernel/build.h"
#include "kernel/tool.h"

namespace numasoak::kernel {

/// The clock a build's elapsed times are measured on.
using BuildClock = std::chrono::steady_clock;

// The time since `t0` on the build clock.
Duration since(BuildClock::time_point t0);

/// Passes a build's progress to BuildOptions::progress, if anyone listens.
struct Reporter {
  const BuildOptions& options;
  void operator()(BuildPhase phase, std::string detail = {}, int done = 0, int total = 0) const {
    if (options.progress) options.progress(BuildProgress{phase, std::move(detail), done, total});
  }
};

/// build.log: every command a build runs and every line of its output, with exit codes and times.
class BuildLog {
 public:
  explicit BuildLog(const std::filesystem::path& path);
  const std::filesystem::path& path() const { return path_; }
  void note(const std::string& text) { out_ << "# " << text << "\n" << std::flush; }
  // Runs `r`, writing its command line and output here; returns the exit code.
  int run(const ToolRun& r);
  void close() { out_.close(); }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
  boost::asio::io_context io_;
};

/// The error lines a failed make left, newest last, and the last lines of its output.
class ErrorTail {
 public:
  void feed(std::string_view line);
  // The last compiler errors, or make's own complaint, or the last lines.
  std::string summary() const;

 private:
  std::deque<std::string> errors_;
  std::deque<std::string> last_;
};

}  // namespace numasoak::kernel
