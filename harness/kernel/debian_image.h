// A Debian kernel image package as a kernel build: apt-get download the
// resolved linux-image .deb, dpkg-deb -x it, and publish its
// /boot/vmlinuz-<release> as the bzImage (with its config and System.map, and
// the .deb itself) under kernels/<key>/. Nothing is compiled.
#pragma once

#include <string>

#include "kernel/build.h"
#include "kernel/build_log.h"
#include "kernel/inputs.h"

namespace numasoak::kernel {

// Downloads and publishes the image `in` resolved to (or returns the build
// another process published while this one waited for the lock).
KernelArtifact fetch_debian_image(const BuildInputs& in, const std::string& key, const BuildOptions& options,
                                  BuildClock::time_point t0, const Reporter& report);

}  // namespace numasoak::kernel
