#include "common/paths.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/error.h"
#include <fmt/format.h>

namespace numasoak {

namespace {
fs::path env_path(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? fs::path(v) : fs::path();
}
}  // namespace

fs::path cache_dir() {
  if (auto p = env_path("NUMASOAK_CACHE_DIR"); !p.empty()) return p;
  if (auto p = env_path("XDG_CACHE_HOME"); !p.empty()) return p / "numasoak";
  if (auto p = env_path("HOME"); !p.empty()) return p / ".cache" / "numasoak";
  return fs::temp_directory_path() / "numasoak-cache";
}

fs::path data_dir() {
  if (auto p = env_path("NUMASOAK_DATA_DIR"); !p.empty()) return p;
  return fs::path(NUMASOAK_SOURCE_DIR);
}

fs::path make_private_dir(const std::string& prefix) {
  fs::path base = env_path("XDG_RUNTIME_DIR");
  if (base.empty() || !fs::is_directory(base)) base = fs::temp_directory_path();
  std::string templ = (base / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(templ.data())) {
    throw infra_error(fmt::format("cannot create a private directory under {}: {}", base.string(), std::strerror(errno)));
  }
  fs::permissions(templ, fs::perms::owner_all, fs::perm_options::replace);
  return templ;
}

ScopedDir::~ScopedDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string sanitize_filename(const std::string& text, size_t max_len) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_len) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '+' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  if (out[0] == '.' || out[0] == '-') out[0] = '_';
  return out;
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw infra_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw infra_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw infra_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw infra_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace numasoak
