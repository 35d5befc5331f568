// The kernel cache's folders (layout in kernel/build.h): a build in progress
// in kernels/.tmp-<key>-<pid>/ (its build.log kept under logs/ when it
// fails), the sweep of those whose builder is gone, publishing a finished
// one by one rename with its manifest.json stamped, and reading a published
// build back as a KernelArtifact.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kernel/build.h"
#include "kernel/build_log.h"

namespace numasoak::kernel {

/// A temporary build folder that disappears unless published; on failure its build.log is kept under logs/.
class TempBuild {
 public:
  // kernels/.tmp-<key>-<pid>, emptied; the failed log goes to
  // logs/<name>-<key12><suffix> (".log", or ".check.log" for configure_only).
  TempBuild(const std::filesystem::path& kernels, const std::string& key, const std::string& name,
            const std::string& suffix = ".log");
  ~TempBuild();
  TempBuild(const TempBuild&) = delete;
  TempBuild& operator=(const TempBuild&) = delete;
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& failed_log() const { return failed_log_; }
  void published() { published_ = true; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path failed_log_;
  bool published_ = false;
};

// Removes the .tmp-* folders under `kernels` whose builder process is gone.
void sweep_stale(const std::filesystem::path& kernels);

// The published build in `dir` (kernels/<key>), or nullopt when it is
// missing or its manifest cannot be read (then it is rebuilt).
std::optional<KernelArtifact> published(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& key);

// The last step of every build, downloaded or compiled: stamp and write the
// manifest, then move the finished folder into the cache (`final`) in one rename.
KernelArtifact publish_build(TempBuild& tmp, BuildLog& log, nlohmann::json manifest, const std::filesystem::path& final,
                             const std::string& name, const std::string& key, BuildClock::time_point t0,
                             const Reporter& report);

}  // namespace numasoak::kernel
