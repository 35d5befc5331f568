// The bench image: the default initramfs plus the alternatives numasoak bench
// measures against, at the paths guest/spec/external_paths.h names (guest/workload/external runs them from there):
//   /bin/selftest-migration   tools/testing/selftests/vm/migration from the
//                             same linux-source-6.1 the 6.1 kernels are built
//                             from, compiled static (gcc -static, libnuma.a)
//                             and cached by content under
//                             cache_dir()/bench/selftest-migration/<hash>/
//   /bin/stress-ng            Debian's, with every shared library ldd names
//                             (and the loader) at its host path
// A separate image (its own cache key): the default image does not change.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/kernel_spec.h"
#include "image/image.h"

namespace numasoak::bench {

/// The bench variant of the guest image and how it was made.
struct BenchImage {
  image::ImageArtifact image;
  std::filesystem::path selftest;  // the cached static binary
  bool selftest_cache_hit = false;
  std::string selftest_source;     // "linux-source-6.1 6.1.192-2"
  std::filesystem::path stress_ng;
  std::size_t libraries = 0;       // shared objects copied for stress-ng
};

// Builds (or finds) the selftest and the image. `source_kernel` names the
// Debian source package (the "6.1" kernel's). Throws a one-line Error with a
// hint (apt-get install stress-ng libnuma-dev) when something is missing.
BenchImage build_bench_image(const KernelSpec& source_kernel, const image::ImageProgress& progress = {});

// The shared objects an `ldd` listing names by absolute path (the loader
// included, the vDSO and "not found" entries not): pure, tested.
std::vector<std::filesystem::path> parse_ldd(std::string_view listing);

}  // namespace numasoak::bench
