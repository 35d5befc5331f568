// A downloaded Debian kernel image as a build (kernel/debian_image.h).
#include "kernel/debian_image.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/paths.h"
#include "kernel/bzimage.h"
#include "kernel/cache.h"
#include "kernel/manifest.h"
#include "kernel/worktree.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

KernelArtifact fetch_debian_image(const BuildInputs& in, const std::string& key, const BuildOptions& options,
                                  BuildClock::time_point t0, const Reporter& report) {
  const fs::path kernels = cache_dir() / "kernels";
  const fs::path final = kernels / key;
  fs::create_directories(cache_dir() / "src");
  WorkTree::Lock lock(cache_dir() / "src" / (in.source.slug + ".lock"),
                      [&] { report(BuildPhase::kWaiting, in.source.package); });
  if (!options.force) {
    if (auto a = published(final, in.spec.name, key)) {
      a->cache_hit = true;
      a->elapsed = since(t0);
      return *a;
    }
  }
  sweep_stale(kernels);
  TempBuild tmp(kernels, key, in.spec.name);
  BuildLog log(tmp.dir() / "build.log");
  auto run = [&log](const ToolRun& r) { return log.run(r); };

  report(BuildPhase::kDownloading, in.source.package + "=" + in.source.version);
  const fs::path dl = tmp.dir() / "download";
  fs::create_directories(dl);
  fs::permissions(dl, fs::perms::all, fs::perm_options::replace);  // apt's _apt user writes here
  if (run(ToolRun{{"apt-get", "download", in.source.package + "=" + in.source.version}, dl, {}, {}}) != 0) {
    throw infra_error(fmt::format("apt-get download {}={} failed", in.source.package, in.source.version),
                      "see " + tmp.failed_log().string() + "; apt-get update?");
  }
  fs::path deb;
  for (const auto& e : fs::directory_iterator(dl)) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  if (deb.empty()) throw infra_error(fmt::format("apt-get download {} produced no .deb", in.source.package));

  report(BuildPhase::kUnpacking, deb.filename().string());
  const fs::path x = tmp.dir() / "extract";
  if (run(ToolRun{{"dpkg-deb", "-x", deb.string(), x.string()}, tmp.dir(), {}, {}}) != 0) {
    throw infra_error(fmt::format("dpkg-deb -x {} failed", deb.string()), "see " + tmp.failed_log().string());
  }
  fs::path vmlinuz;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(x / "boot", ec)) {
    if (e.path().filename().string().starts_with("vmlinuz-")) vmlinuz = e.path();
  }
  if (vmlinuz.empty() || !looks_like_bzimage(vmlinuz)) {
    throw infra_error(fmt::format("{} holds no /boot/vmlinuz-* bzImage", deb.filename().string()));
  }
  const std::string release = vmlinuz.filename().string().substr(8);
  fs::copy_file(vmlinuz, tmp.dir() / "bzImage");
  if (fs::exists(x / "boot" / ("config-" + release))) fs::copy_file(x / "boot" / ("config-" + release), tmp.dir() / "config");
  if (fs::exists(x / "boot" / ("System.map-" + release)))
    fs::copy_file(x / "boot" / ("System.map-" + release), tmp.dir() / "System.map");
  fs::rename(deb, tmp.dir() / deb.filename());
  fs::remove_all(x);
  fs::remove_all(dl);

  report(BuildPhase::kPublishing);
  auto m = debian_image_manifest(in, key, deb.filename().string(), release, tmp.dir());
  return publish_build(tmp, log, std::move(m), final, in.spec.name, key, t0, report);
}

}  // namespace numasoak::kernel
