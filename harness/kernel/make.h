// How a kernel build calls kbuild: make in the source tree with the object
// tree out of tree (O=), ccache when asked for and installed, and the
// environment every make of a build gets (CCACHE_DIR, the build user/host
// that end up in the banner, ARCH).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kernel/build.h"

namespace numasoak::kernel {

// Whether ccache is installed (looked up once).
bool ccache_available();

// make -jN's N when BuildOptions::jobs is 0: the machine's cores.
int default_jobs();

// make O=<obj> [CC=ccache gcc] <targets...>
std::vector<std::string> make_argv(const std::filesystem::path& obj, const BuildOptions& options,
                                   std::vector<std::string> targets);

// The environment of every make a build runs.
std::map<std::string, std::string> make_env();

}  // namespace numasoak::kernel
