// build.log, make's error tail and the build clock (kernel/build_log.h).
#include "kernel/build_log.h"

#include <fmt/format.h>
#include <vector>

#include "common/error.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

Duration since(BuildClock::time_point t0) { return std::chrono::duration_cast<Duration>(BuildClock::now() - t0); }

BuildLog::BuildLog(const fs::path& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw infra_error(fmt::format("cannot write {}", path.string()));
}

int BuildLog::run(const ToolRun& r) {
  out_ << "$ " << (r.cwd.empty() ? "" : "(cd " + r.cwd.string() + ") ") << argv_text(r.argv) << "\n";
  ToolRun wrapped = r;
  wrapped.on_line = [this, &r](std::string_view line, bool err) {
    out_ << line << "\n";
    if (r.on_line) r.on_line(line, err);
  };
  const auto t0 = BuildClock::now();
  const int rc = run_tool(io_, wrapped).exit_code;
  out_ << fmt::format("# exit {} after {:.1f}s\n", rc, seconds(since(t0))) << std::flush;
  return rc;
}

void ErrorTail::feed(std::string_view line) {
  const std::string l(line);
  if (l.find(": error: ") != std::string::npos || l.find(": fatal error: ") != std::string::npos ||
      l.find("undefined reference to") != std::string::npos || l.find(" Error ") != std::string::npos ||
      l.find("***") != std::string::npos) {
    errors_.push_back(l);
    if (errors_.size() > 50) errors_.pop_front();
  }
  last_.push_back(l);
  if (last_.size() > 5) last_.pop_front();
}

std::string ErrorTail::summary() const {
  std::vector<std::string> pick;
  for (const auto& e : errors_) {
    if (e.find(": error: ") != std::string::npos || e.find(": fatal error: ") != std::string::npos ||
        e.find("undefined reference to") != std::string::npos)
      pick.push_back(e);
  }
  if (pick.empty()) pick.assign(errors_.begin(), errors_.end());
  if (pick.empty()) pick.assign(last_.begin(), last_.end());
  if (pick.size() > 3) pick.erase(pick.begin(), pick.end() - 3);
  std::string out;
  for (const auto& p : pick) {
    if (!out.empty()) out += " | ";
    out += p;
  }
  return out;
}

}  // namespace numasoak::kernel
