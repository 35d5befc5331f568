// KernelSpec: one named kernel build, as configs/kernels.toml or a campaign
// file defines it. What to build from (or use as is), which patch series and
// config fragments, and whether the race-window amplifier is compiled in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"

namespace numasoak {

/// What a kernel is built from, or used as is: a Debian source package, a Debian image, a tree, a bzImage.
enum class KernelSourceKind {
  kDebianSource,  // "debian:linux-source-6.1": the tarball a Debian package installs in /usr/src
  kDebianImage,   // "debian-image:linux-image-amd64": Debian's prebuilt kernel, no build
  kTree,          // a path to a kernel source tree
  kBzImage,       // a path to a ready bzImage, no build
};

/// One named kernel build as kernels.toml or a campaign defines it: its source, patches, fragments, amplifier.
struct KernelSpec {
  std::string name;          // stable name users type: "6.1", "6.1+backport"
  std::string description;   // one line for `kernel list`
  KernelSourceKind kind = KernelSourceKind::kDebianSource;
  std::string package;       // kDebianSource / kDebianImage: the Debian package name
  std::filesystem::path path;  // kTree / kBzImage: absolute path
  // Patch series, relative to images/patches/ ("6.1/backport"); each is a
  // folder of *.patch files applied in file-name order.
  std::vector<std::string> patches;
  // Config fragments: names in images/kernel/ without ".config", or paths.
  std::vector<std::string> fragments;
  // Apply the race-window amplifier series that matches the last patch
  // series (images/patches/<series>/amplifier), or the source's own
  // (images/patches/<major.minor>/amplifier) when there are no patches.
  bool amplifier = false;
  // A debug build: images/kernel/numasoak-debug.config (lockdep, KASAN,
  // DEBUG_VM, PAGE_TABLE_CHECK, SLUB_DEBUG_ON, ...) merged after the
  // fragments, in a work tree of its own (a debug .config recompiles
  // everything, so it must not share objects with the plain build). Every
  // built kernel NAME has a variant "NAME:debug" (kDebugSuffix) with this set.
  bool debug = false;
  SourceLocation where;      // where it was defined

  bool needs_build() const { return kind == KernelSourceKind::kDebianSource || kind == KernelSourceKind::kTree; }
};

}  // namespace numasoak

namespace numasoak {
// The name suffix of a kernel's debug variant: "6.1+backport:debug".
inline constexpr const char* kDebugSuffix = ":debug";
// The fragment a debug build adds (images/kernel/<name>.config).
inline constexpr const char* kDebugFragment = "numasoak-debug";

// The fragment a kernel built without numasoak's patch adds so its race
// window can be widened from outside (MODULES, KPROBES, OPTPROBES); such a
// build also builds the widen module (images/kmod/numasoak_widen/).
inline constexpr const char* kOutsideFragment = "numasoak-outside";

// "debian:linux-source-6.1", "debian-image:linux-image-amd64" or the path.
std::string describe_source(const KernelSpec& spec);
}  // namespace numasoak
