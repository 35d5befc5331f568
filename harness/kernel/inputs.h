// Everything a kernel build depends on, resolved cheaply, and the cache key
// derived from it.
//
// The key is SHA-256 over, in order: the recipe version; the source identity
// (Debian source: package, exact Debian version from dpkg-query, tarball
// size and mtime; Debian image: the real package the metapackage depends on
// and its version; tree: git HEAD + `git diff HEAD --binary` + untracked
// files' bytes when the tree has .git, else the path, size and mtime of every
// file below it, .git excluded); every patch file's bytes in application
// order; whether the amplifier is on and its patches' bytes; every
// fragment's bytes in merge order; the outside amplifier's module source
// when the kernel builds it; and the compiler (`gcc --version`, first
// line). File names, series names and the kernel's name are not in the key:
// renaming a patch without changing the order or bytes reuses the build.
// Resolving a Debian source costs one dpkg-query and one stat: a cache hit
// must stay well under a second.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/kernel_spec.h"

namespace numasoak::kernel {

// Bump when the recipe changes what a given set of inputs produces.
inline constexpr int kRecipeVersion = 2;

/// One input file of a build (patch, fragment, widen module source): its label, its path and its bytes, read once.
struct InputFile {
  std::string label;           // "6.1/backport/0001-mm-foo.patch", "numasoak-guest.config"
  std::filesystem::path path;  // absolute
  // The bytes read when the inputs were resolved. The key is computed from
  // them and the build uses a copy of them (kernels/<key>/inputs/), so an
  // edit made while a build runs cannot give an artifact another key's inputs.
  std::string bytes;
};

/// Which kernel source a build compiles, as the cache key sees it: identity text, version, tarball, tree or package.
struct SourceIdentity {
  std::string id;       // the text hashed into the key
  std::string version;  // Debian version ("6.1.192-2"), git HEAD, or ""
  std::string slug;     // names the persistent work dir: "linux-source-6.1_6.1.192-2"
  std::string series;   // "6.1" (major.minor): picks images/patches/<series>/amplifier
  std::filesystem::path tarball;  // Debian source: /usr/src/<package>.tar.xz
  std::filesystem::path tree;     // tree source
  std::string package;            // Debian image: the real package (linux-image-6.1.0-56-amd64)
};

/// Everything a kernel build is made from, resolved and read: spec, source, patches, amplifier, fragments, compiler.
struct BuildInputs {
  KernelSpec spec;
  SourceIdentity source;
  std::vector<InputFile> patches;             // in application order
  std::filesystem::path amplifier_series;     // "" when the amplifier is off
  std::vector<InputFile> amplifier;           // applied after the patches
  std::vector<InputFile> fragments;           // in merge order
  // The outside amplifier's module source (images/kmod/numasoak_widen/),
  // built against this kernel when its fragments include numasoak-outside
  // (kOutsideFragment); empty otherwise.
  std::vector<InputFile> widen_module;
  std::string compiler;                       // "gcc (Debian 12.2.0-14) 12.2.0"
  int recipe = kRecipeVersion;
};

// Where fragments (images_dir/kernel) and patch series (images_dir/patches)
// come from: data_dir()/images unless a test says otherwise.
std::filesystem::path default_images_dir();

// Resolves the source, the series' files, the fragments and the compiler.
// Throws a one-line Error for a missing package, series or fragment.
BuildInputs resolve_inputs(const KernelSpec& spec, const std::filesystem::path& images_dir);

// Hex SHA-256 of the inputs (see the top of this file).
std::string cache_key(const BuildInputs& inputs);

// What the configuration step (tinyconfig + fragments + olddefconfig)
// depends on: the source, the compiler (Kconfig probes it), the fragments,
// and only those patches that touch a Kconfig*, Makefile*, *.config or
// scripts/ file. Variants whose patches change only C files share it, so
// switching between them skips the three Kconfig runs (about 30 s here).
std::string config_key(const BuildInputs& inputs);

// The pieces, for tests and for `kernel list`.
SourceIdentity debian_source_identity(const std::string& package);
SourceIdentity debian_image_identity(const std::string& package);
SourceIdentity tree_identity(const std::filesystem::path& tree);
std::string compiler_identity();
// The *.patch files directly in `dir`, sorted by file name.
std::vector<std::filesystem::path> series_files(const std::filesystem::path& dir);

}  // namespace numasoak::kernel
