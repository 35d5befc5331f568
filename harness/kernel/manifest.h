// manifest.json of a published kernel build: what it was built from (the
// source, every patch, fragment and the amplifier with its origin, its copy in
// the artifact and its sha256, the compiler, the recipe, the key) and what
// came out (release, banner, the bzImage's size and sha256). cache.h's
// publish_build stamps built_at and build_seconds and writes it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "kernel/build.h"
#include "kernel/compile.h"
#include "kernel/inputs.h"

namespace numasoak::kernel {

// The manifest of a compiled build. `resolved`: the inputs as found (their
// origin), `used`: the copies in `artifact` (snapshot_inputs), whose bzImage
// is already in place; `tarball_sha`: "" unless a Debian source.
nlohmann::json compiled_manifest(const BuildInputs& resolved, const BuildInputs& used, const std::string& key,
                                 const CompiledTree& built, const std::string& tarball_sha, const BuildOptions& options,
                                 const std::filesystem::path& artifact);

// The manifest of a downloaded Debian kernel image: `deb` the package file's
// name, `release` from its /boot/vmlinuz-<release>; `artifact` holds the bzImage.
nlohmann::json debian_image_manifest(const BuildInputs& in, const std::string& key, const std::string& deb,
                                     const std::string& release, const std::filesystem::path& artifact);

}  // namespace numasoak::kernel
