// Steps 4 and 5 of a compiled kernel build: make bzImage (and modules when
// the kernel carries the outside amplifier's widen module, then that module
// against this very tree), with progress from make's CC/LD lines; then what
// was built: the release (make kernelrelease), the banner as init/version.c
// prints it, and the bzImage's own version string.
#pragma once

#include <filesystem>
#include <string>

#include "kernel/build.h"
#include "kernel/build_log.h"
#include "kernel/inputs.h"
#include "kernel/worktree.h"

namespace numasoak::kernel {

/// What one compile left in the object tree: the bzImage, the widen module, and what they say they are.
struct CompiledTree {
  int jobs = 0;                   // make -jN
  int cc_count = 0;               // CC lines of this build
  std::filesystem::path bzimage;  // obj/arch/x86/boot/bzImage
  std::filesystem::path widen_ko; // in the snapshot's inputs/kmod; "" without the widen module
  std::string release;            // make kernelrelease: "6.1.192"
  std::string banner;             // "Linux version 6.1.192 (numasoak@numasoak) (gcc ...) #1 SMP ..."
  std::string image_version;      // the bzImage header's version string
};

// Compiles wt.obj() (configured) for `in`. A failed make, a missing module or
// an unreadable bzImage throws a one-line Error; `failed_log` is where the
// hint points. Remembers the CC count in the work tree for the next progress bar.
CompiledTree compile_tree(const BuildInputs& in, WorkTree& wt, BuildLog& log, const BuildOptions& options,
                          const std::filesystem::path& failed_log, const Reporter& report);

}  // namespace numasoak::kernel
