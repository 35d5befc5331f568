// Steps 1 and 2 of a compiled kernel build: the source tree it compiles.
// The resolved patches and fragments are first copied into the build folder
// (the build uses exactly the bytes the key covers); then the Debian source
// tarball is unpacked into the work tree once (a tree source is checked to be
// unconfigured), and the patch series and the amplifier are applied to it.
#pragma once

#include <filesystem>
#include <string>

#include "kernel/build_log.h"
#include "kernel/inputs.h"
#include "kernel/worktree.h"

namespace numasoak::kernel {

// Writes the resolved bytes of every patch and fragment under `dir`
// (inputs/patches/NN-name, inputs/fragments/NN-name, inputs/kmod/<name>) and
// returns the inputs pointing at those copies.
BuildInputs snapshot_inputs(const BuildInputs& in, const std::filesystem::path& dir);

// 1. Source, 2. Patches (the series in order, then the amplifier): brings
// wt.tree() to the source of `in` with its patches applied. Returns the
// Debian tarball's sha256 (remembered in the work tree), "" for a tree.
std::string prepare_tree(const BuildInputs& in, WorkTree& wt, const Runner& run, const Reporter& report);

}  // namespace numasoak::kernel
