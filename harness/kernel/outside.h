// Getting Debian's prebuilt kernel ready for the outside amplifier: what the
// distro ships apart from the image. The window locator needs the kernel's
// vmlinux with DWARF (linux-image-<release>-dbg; the image package has no
// usable System.map), and the widen module must be built against the same
// kernel (linux-headers-<release>, which scripts/install-deps installs for
// the current Debian 12 kernel). Both land in the artifact's folder, next to
// its bzImage, once: numasoak's own builds put them there themselves.
#pragma once

#include <filesystem>

#include "kernel/build.h"

namespace numasoak::kernel {

/// Adds vmlinux (from the -dbg package, downloaded with apt-get download)
/// and numasoak_widen.ko (built against /usr/src/linux-headers-<release>) to
/// the Debian image artifact `a`, unless they are there. Throws a one-line
/// Error naming the package that is missing.
void prepare_debian_outside(const KernelArtifact& a, const std::filesystem::path& images_dir,
                            const std::function<void(const std::string&)>& progress = {});

}  // namespace numasoak::kernel
