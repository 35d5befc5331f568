// build_kernel (kernel/build.h): the order of a kernel build and its cache
// lookups. A ready bzImage is only checked; a Debian image is downloaded
// (kernel/debian_image); a source is compiled in its steps, each in its own
// file: 1-2 the source tree (kernel/source_tree), 3 the .config
// (kernel/configure), 4-5 the compile and what it made (kernel/compile), 6 the
// manifest (kernel/manifest) and publishing into the cache (kernel/cache).
#include "kernel/build.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/build_log.h"
#include "kernel/bzimage.h"
#include "kernel/cache.h"
#include "kernel/compile.h"
#include "kernel/configure.h"
#include "kernel/debian_image.h"
#include "kernel/inputs.h"
#include "kernel/manifest.h"
#include "kernel/source_tree.h"
#include "kernel/worktree.h"

namespace numasoak {

namespace fs = std::filesystem;
using namespace numasoak::kernel;

const char* to_string(BuildPhase p) {
  switch (p) {
    case BuildPhase::kResolving: return "resolving";
    case BuildPhase::kWaiting: return "waiting";
    case BuildPhase::kDownloading: return "downloading";
    case BuildPhase::kUnpacking: return "unpacking";
    case BuildPhase::kPatching: return "patching";
    case BuildPhase::kConfiguring: return "configuring";
    case BuildPhase::kCompiling: return "compiling";
    case BuildPhase::kLinking: return "linking";
    case BuildPhase::kPublishing: return "publishing";
    case BuildPhase::kDone: return "done";
  }
  return "?";
}

namespace {

KernelArtifact ready_bzimage(const KernelSpec& spec, BuildClock::time_point t0, const Reporter& report) {
  std::error_code ec;
  if (!fs::is_regular_file(spec.path, ec)) {
    throw usage_error(fmt::format("kernel {}: {} does not exist", spec.name, spec.path.string()), "", spec.where);
  }
  if (!looks_like_bzimage(spec.path)) {
    throw usage_error(fmt::format("kernel {}: {} is not a bzImage (no \"HdrS\" magic at 0x202)", spec.name,
                                  spec.path.string()),
                      "point source at arch/x86/boot/bzImage or a /boot/vmlinuz-*", spec.where);
  }
  KernelArtifact a;
  a.name = spec.name;
  a.bzimage = spec.path;
  const std::string version = bzimage_version(spec.path).value_or("");
  a.release = release_of(version);
  a.banner = version.empty() ? "" : "Linux version " + version;
  a.size = Bytes{static_cast<std::uint64_t>(fs::file_size(spec.path, ec))};
  a.cache_hit = true;
  a.manifest = {{"kernel", spec.name},
                {"source", {{"kind", "bzimage"}, {"path", spec.path.string()}}},
                {"release", a.release},
                {"banner", a.banner},
                {"image_version", version},
                {"bzimage", {{"path", spec.path.string()}, {"size", a.size.value}, {"sha256", sha256_file(spec.path)}}}};
  a.elapsed = since(t0);
  report(BuildPhase::kDone, spec.path.string());
  return a;
}

// A source kernel: the work tree's lock, then steps 1 to 6 into a temporary
// folder that is published when complete.
KernelArtifact compile_kernel(const BuildInputs& resolved, const std::string& key, const BuildOptions& asked,
                              BuildClock::time_point t0, const Reporter& report) {
  // ccache only for a user's tree: a cold 6.1 build took 282 s of make with
  // ccache against 196 s without (README, Benchmark), and numasoak's own
  // trees rebuild incrementally in their object folder, so it never hits there.
  BuildOptions options = asked;
  options.use_ccache = asked.use_ccache && resolved.spec.kind == KernelSourceKind::kTree;
  const fs::path kernels = cache_dir() / "kernels";
  const fs::path final = kernels / key;
  WorkTree wt(cache_dir() / "src" / resolved.source.slug);
  WorkTree::Lock lock(wt.root() / "lock", [&] { report(BuildPhase::kWaiting, resolved.source.slug); });
  if (!options.force && !options.configure_only) {
    if (auto a = published(final, resolved.spec.name, key)) {  // built while we waited
      a->cache_hit = true;
      a->elapsed = since(t0);
      report(BuildPhase::kDone, a->bzimage.string());
      return *a;
    }
  }
  fs::create_directories(kernels);
  sweep_stale(kernels);
  TempBuild tmp(kernels, key, resolved.spec.name, options.configure_only ? ".check.log" : ".log");
  const BuildInputs in = snapshot_inputs(resolved, tmp.dir() / "inputs");
  BuildLog log(tmp.dir() / "build.log");
  auto run = [&log](const ToolRun& r) { return log.run(r); };
  log.note(fmt::format("numasoak kernel build {} key {} at {}", in.spec.name, key, utc_now()));

  // 1. Source, 2. Patches.
  const std::string tarball_sha = prepare_tree(in, wt, run, report);

  // 3. Configuration.
  const fs::path obj = configure_tree(in, wt, log, options, tmp.failed_log(), report);
  if (options.configure_only) {
    KernelArtifact a;
    a.name = in.spec.name;
    a.key = key;
    a.config = obj / ".config";
    a.elapsed = since(t0);
    report(BuildPhase::kDone, a.config.string());
    return a;
  }

  // 4. Compile, 5. What was built.
  const CompiledTree built = compile_tree(in, wt, log, options, tmp.failed_log(), report);

  // 6. Publish.
  report(BuildPhase::kPublishing);
  fs::copy_file(built.bzimage, tmp.dir() / "bzImage");
  fs::copy_file(wt.obj() / ".config", tmp.dir() / "config");
  std::error_code ec;
  if (fs::exists(wt.obj() / "System.map", ec)) fs::copy_file(wt.obj() / "System.map", tmp.dir() / "System.map");
  // vmlinux (with its symbol table) is what the window locator disassembles
  // and what stack frames are decoded against.
  if (fs::exists(wt.obj() / "vmlinux", ec)) fs::copy_file(wt.obj() / "vmlinux", tmp.dir() / "vmlinux");
  if (!built.widen_ko.empty()) fs::copy_file(built.widen_ko, tmp.dir() / "numasoak_widen.ko");
  auto m = compiled_manifest(resolved, in, key, built, tarball_sha, options, tmp.dir());
  log.note("published " + final.string());
  return publish_build(tmp, log, std::move(m), final, in.spec.name, key, t0, report);
}

}  // namespace

KernelArtifact build_kernel(const KernelSpec& spec, const BuildOptions& options) {
  const auto t0 = BuildClock::now();
  const Reporter report{options};
  report(BuildPhase::kResolving, spec.name);
  if (spec.kind == KernelSourceKind::kBzImage) return ready_bzimage(spec, t0, report);
  const fs::path images = options.images_dir.empty() ? default_images_dir() : options.images_dir;
  const BuildInputs in = resolve_inputs(spec, images);
  const std::string key = cache_key(in);
  if (!options.force && !options.configure_only) {
    if (auto a = published(cache_dir() / "kernels" / key, spec.name, key)) {
      a->cache_hit = true;
      a->elapsed = since(t0);
      report(BuildPhase::kDone, a->bzimage.string());
      return *a;
    }
  }
  std::error_code ec;
  fs::create_directories(cache_dir() / "kernels", ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", (cache_dir() / "kernels").string(), ec.message()));
  if (spec.kind == KernelSourceKind::kDebianImage) return fetch_debian_image(in, key, options, t0, report);
  return compile_kernel(in, key, options, t0, report);
}

std::optional<KernelArtifact> find_cached_kernel(const KernelSpec& spec, const BuildOptions& options) {
  if (spec.kind == KernelSourceKind::kBzImage) return ready_bzimage(spec, BuildClock::now(), Reporter{options});
  const fs::path images = options.images_dir.empty() ? default_images_dir() : options.images_dir;
  const BuildInputs in = resolve_inputs(spec, images);
  const std::string key = cache_key(in);
  auto a = published(cache_dir() / "kernels" / key, spec.name, key);
  if (a) a->cache_hit = true;
  return a;
}

}  // namespace numasoak
