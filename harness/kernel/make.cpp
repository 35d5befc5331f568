// make's argv and environment for kernel builds (kernel/make.h).
#include "kernel/make.h"

#include <thread>
#include <unistd.h>

#include "common/paths.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

bool ccache_available() {
  static const bool yes = [] {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
      if (::access((fs::path(dir) / "ccache").c_str(), X_OK) == 0) return true;
    }
    return false;
  }();
  return yes;
}

int default_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::vector<std::string> make_argv(const fs::path& obj, const BuildOptions& options, std::vector<std::string> targets) {
  std::vector<std::string> argv{"make", "O=" + obj.string()};
  if (options.use_ccache && ccache_available()) argv.push_back("CC=ccache gcc");
  argv.insert(argv.end(), targets.begin(), targets.end());
  return argv;
}

std::map<std::string, std::string> make_env() {
  return {{"CCACHE_DIR", (cache_dir() / "ccache").string()},
          {"KBUILD_BUILD_USER", "numasoak"},
          {"KBUILD_BUILD_HOST", "numasoak"},
          {"ARCH", "x86_64"}};
}

}  // namespace numasoak::kernel
