// Helpers for the kernel module's tests: temporary folders, a scoped
// NUMASOAK_CACHE_DIR, fixture paths, and the check that linux-source is
// installed (tests that need it fail loudly instead of skipping).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/paths.h"

namespace numasoak::test {

namespace fs = std::filesystem;

inline fs::path fixtures() { return fs::path(NUMASOAK_FIXTURES) / "kernel"; }

inline void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class TempDir {
 public:
  TempDir() : dir_(make_private_dir("numasoak-kernel-test")) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

// Sets an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// True when the Debian package's tarball is there; otherwise records a
// failure that says how to install it.
inline bool require_linux_source(const std::string& package) {
  const fs::path tarball = fs::path("/usr/src") / (package + ".tar.xz");
  if (fs::exists(tarball)) return true;
  ADD_FAILURE() << package << " is not installed (" << tarball.string()
                << " is missing): apt-get install " << package << " — this test needs a real kernel source";
  return false;
}

}  // namespace numasoak::test
