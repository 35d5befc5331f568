// Step 3 of a compiled kernel build: the .config. tinyconfig, then the
// fragments merged in, then olddefconfig, then the check that every fragment
// request survived; skipped (only checked) when the work tree's last
// configuration had the same inputs (inputs.h config_key). A configure_only
// check uses its own object tree, obj-check/, so the next real build does not
// recompile everything.
#pragma once

#include <filesystem>

#include "kernel/build.h"
#include "kernel/build_log.h"
#include "kernel/inputs.h"
#include "kernel/worktree.h"

namespace numasoak::kernel {

// Configures the object tree for `in` and returns it (wt.obj(), or
// obj-check/ with configure_only). A failed step or a dropped fragment
// option throws a one-line Error; `failed_log` is where the hint points.
std::filesystem::path configure_tree(const BuildInputs& in, WorkTree& wt, BuildLog& log, const BuildOptions& options,
                                     const std::filesystem::path& failed_log, const Reporter& report);

}  // namespace numasoak::kernel
