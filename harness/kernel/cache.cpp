// The kernel cache's folders: temporary builds, publishing, reading a
// published build (kernel/cache.h).
#include "kernel/cache.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/paths.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

KernelArtifact artifact_from_dir(const fs::path& dir, const std::string& name, const std::string& key) {
  KernelArtifact a;
  a.name = name;
  a.key = key;
  a.dir = dir;
  a.manifest = json::parse(read_file(dir / "manifest.json"));
  a.bzimage = dir / "bzImage";
  if (fs::exists(dir / "config")) a.config = dir / "config";
  a.release = a.manifest.value("release", "");
  a.banner = a.manifest.value("banner", "");
  std::error_code ec;
  a.size = Bytes{static_cast<std::uint64_t>(fs::file_size(a.bzimage, ec))};
  return a;
}

// Renames the finished temporary folder into place.
void publish_dir(const fs::path& tmp, const fs::path& final) {
  std::error_code ec;
  if (fs::exists(final, ec)) {
    const fs::path old = final.string() + ".old-" + std::to_string(::getpid());
    fs::rename(final, old, ec);
    fs::rename(tmp, final, ec);
    std::error_code ignore;
    fs::remove_all(old, ignore);
  } else {
    fs::rename(tmp, final, ec);
  }
  if (ec) throw infra_error(fmt::format("cannot publish {}: {}", final.string(), ec.message()));
}

}  // namespace

TempBuild::TempBuild(const fs::path& kernels, const std::string& key, const std::string& name, const std::string& suffix)
    : dir_(kernels / fmt::format(".tmp-{}-{}", key, ::getpid())),
      failed_log_(kernels.parent_path() / "logs" / fmt::format("{}-{}{}", sanitize_filename(name), key.substr(0, 12), suffix)) {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", dir_.string(), ec.message()));
}

TempBuild::~TempBuild() {
  std::error_code ec;
  if (!published_ && fs::exists(dir_, ec)) {
    fs::create_directories(failed_log_.parent_path(), ec);
    fs::rename(dir_ / "build.log", failed_log_, ec);
    fs::remove_all(dir_, ec);
  }
}

void sweep_stale(const fs::path& kernels) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kernels, ec)) {
    const std::string n = e.path().filename().string();
    if (!n.starts_with(".tmp-")) continue;
    const auto dash = n.rfind('-');
    const pid_t pid = static_cast<pid_t>(std::atol(n.c_str() + dash + 1));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    std::error_code ignore;
    fs::remove_all(e.path(), ignore);
  }
}

std::optional<KernelArtifact> published(const fs::path& dir, const std::string& name, const std::string& key) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "manifest.json", ec) || !fs::is_regular_file(dir / "bzImage", ec)) return std::nullopt;
  try {
    return artifact_from_dir(dir, name, key);
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable manifest: rebuild
  }
}

KernelArtifact publish_build(TempBuild& tmp, BuildLog& log, json manifest, const fs::path& final,
                             const std::string& name, const std::string& key, BuildClock::time_point t0,
                             const Reporter& report) {
  manifest["built_at"] = utc_now();
  manifest["build_seconds"] = seconds(since(t0));
  write_file_atomic(tmp.dir() / "manifest.json", manifest.dump(2) + "\n");
  log.close();
  publish_dir(tmp.dir(), final);
  tmp.published();
  KernelArtifact a = artifact_from_dir(final, name, key);
  a.elapsed = since(t0);
  report(BuildPhase::kDone, a.bzimage.string());
  return a;
}

}  // namespace numasoak::kernel
