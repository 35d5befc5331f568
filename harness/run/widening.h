// How a run's race window is widened, decided once per plan: by numasoak's
// source patch (a kernel built with the amplifier series), from outside the
// source (a kernel built without it but with the widen module: the module is
// loaded at the point the window locator found in that kernel's vmlinux), or
// not at all. The run's result and report say which (README "Widening the
// window from outside").
#pragma once

#include <string>

#include "config/kernel_spec.h"
#include "kernel/build.h"
#include "kernel/window.h"

namespace numasoak {

/// How one run widens the change_pmd_range() race window.
struct Widening {
  /// Which way: not at all, the amplifier compiled into the kernel, or the widen module from outside.
  enum class How { kNone, kSourcePatch, kOutside };
  How how = How::kNone;
  kernel::WindowPoint point;           // kOutside: where the module waits
  std::filesystem::path module;        // kOutside: numasoak_widen.ko of this kernel
  int numa_us = 0, uffd_us = 0;        // the delays asked for
  std::string note;                    // kNone with delays asked: why not

  /// "source patch (numa 200 us, uffd 0 us)", "outside: kprobe at change_protection+0x3e6 (...) ...", "none".
  std::string describe() const;
};

/// Decides how `kernel` is widened for delays `numa_us`/`uffd_us`. A kernel
/// with the widen module is located in its vmlinux (memoized next to it in
/// window.json); if the window cannot be found that throws the locator's
/// one-line Error, before any guest starts.
Widening decide_widening(const KernelSpec& spec, const KernelArtifact& kernel, int numa_us, int uffd_us);

}  // namespace numasoak
