// build_kernel: turns a KernelSpec into a bzImage, through a
// content-addressed cache so that each distinct build happens once.
//
// Cache layout (under cache_dir()):
//   kernels/<key>/        one published build: bzImage, manifest.json,
//                         build.log, config, System.map (Debian image: the .deb)
//   kernels/.tmp-<key>-<pid>/   a build in progress; renamed into place when
//                         complete, so a failed or killed build leaves no artifact
//   src/<slug>/           the persistent work tree of one source (worktree.h)
//   ccache/               CCACHE_DIR for the kernel compiles
//   logs/<name>-<key12>.log   build.log of the last failed build of a key
//                         (.check.log: of the last configure_only run)
// The key (inputs.h) covers the source identity, every patch, the amplifier,
// every fragment, the compiler and the recipe version.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/duration.h"
#include "config/kernel_spec.h"

namespace numasoak {

/// The step a kernel build is in, as its progress reports say.
enum class BuildPhase {
  kResolving,    // reading the inputs, computing the key
  kWaiting,      // another process is building the same source
  kDownloading,  // apt-get download (Debian image)
  kUnpacking,    // tar (Debian source), cp (tree), dpkg-deb (Debian image)
  kPatching,     // detail = the patch
  kConfiguring,  // tinyconfig + fragments + olddefconfig + check
  kCompiling,    // done = CC lines so far, total = the last build's count (0 = unknown)
  kLinking,      // vmlinux, bzImage
  kPublishing,
  kDone,
};
const char* to_string(BuildPhase p);

/// One progress report of a kernel build: its phase, what it is on, CC lines done of the expected total.
struct BuildProgress {
  BuildPhase phase = BuildPhase::kResolving;
  std::string detail;
  int done = 0;
  int total = 0;
};

/// How to build a kernel: make -jN, a progress callback, where fragments and patches are, ccache, force, check only.
struct BuildOptions {
  int jobs = 0;                          // make -jN; 0 = the machine's cores
  std::function<void(const BuildProgress&)> progress;
  std::filesystem::path images_dir;      // fragments and patches; "" = data_dir()/images
  bool use_ccache = true;                // for a kernel tree (kTree) when ccache is installed
  bool force = false;                    // rebuild even when cached
  bool configure_only = false;           // stop after the .config check; publishes nothing
};

/// A kernel ready to boot: its bzImage, .config, release and banner, cache key and manifest.
struct KernelArtifact {
  std::string name;                   // the spec's name
  std::string key;                    // cache key ("" for a ready bzImage)
  std::filesystem::path dir;          // cache_dir()/kernels/<key> ("" for a ready bzImage)
  std::filesystem::path bzimage;      // "" only with configure_only
  std::filesystem::path config;       // the final .config (built kernels)
  std::string release;                // uname -r: "6.1.192"
  std::string banner;                 // "Linux version 6.1.192 (numasoak@numasoak) (gcc ...) #1 SMP ..."
  Bytes size;                         // of the bzImage
  bool cache_hit = false;
  Duration elapsed{0};
  nlohmann::json manifest;            // manifest.json as written
};

// Builds (or finds in the cache, or downloads, or checks) the kernel `spec`
// describes. Throws a one-line numasoak::Error when a package is missing, a
// patch does not apply, a fragment option is dropped, or the compiler fails.
KernelArtifact build_kernel(const KernelSpec& spec, const BuildOptions& options = {});

// The published artifact for `spec` if there is one, without building or
// downloading anything (for `kernel list`). Throws like build_kernel when
// the inputs cannot be resolved.
std::optional<KernelArtifact> find_cached_kernel(const KernelSpec& spec, const BuildOptions& options = {});

}  // namespace numasoak
