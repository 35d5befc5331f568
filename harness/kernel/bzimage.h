// What a bzImage says about itself, read from the x86 boot protocol setup
// header: the "HdrS" magic at 0x202 and the version string the 16-bit
// pointer at 0x20E points to (+0x200). Used for prebuilt kernels and to
// cross-check our own builds, with no `strings` or `file`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace numasoak::kernel {

// True when the file has the setup header magic.
bool looks_like_bzimage(const std::filesystem::path& path);

// "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2025-...)",
// or nullopt when the file is not a bzImage or has no version string.
std::optional<std::string> bzimage_version(const std::filesystem::path& path);

// The release (first word of the version string): what `uname -r` prints.
std::string release_of(const std::string& version_string);

}  // namespace numasoak::kernel
