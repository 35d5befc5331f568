// Where numasoak keeps things: the build cache (XDG cache dir), its own data
// (configs/ and images/ from the source tree) and private runtime directories.
#pragma once

#include <filesystem>
#include <string>

namespace numasoak {

namespace fs = std::filesystem;

// $NUMASOAK_CACHE_DIR, else $XDG_CACHE_HOME/numasoak, else ~/.cache/numasoak.
fs::path cache_dir();

// $NUMASOAK_DATA_DIR, else the source tree numasoak was built from. Holds
// configs/ (kernels.toml, campaigns) and images/ (fragments, patches).
fs::path data_dir();

// A fresh directory only the current user can enter (mode 0700), under
// $XDG_RUNTIME_DIR or /tmp. The caller removes it (see ScopedDir).
fs::path make_private_dir(const std::string& prefix);

/// Removes a directory tree when it goes out of scope.
class ScopedDir {
 public:
  explicit ScopedDir(fs::path p) : path_(std::move(p)) {}
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  ~ScopedDir();
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Makes a string safe as one path component: keeps [A-Za-z0-9._+-], maps the
// rest to '_', never returns "", "." or "..". Guest-supplied text passes
// through this before it names any file.
std::string sanitize_filename(const std::string& text, size_t max_len = 80);

// Writes a file atomically: to a temporary sibling, fsync, then rename.
void write_file_atomic(const fs::path& path, const std::string& content);

// Reads a whole file; throws a usage Error naming the path when it cannot.
std::string read_file(const fs::path& path);

}  // namespace numasoak
