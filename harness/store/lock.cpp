// The campaign's exclusive lock (store/impl.h).
#include "store/impl.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/error.h"

namespace numasoak {

namespace fs = std::filesystem;
using store_detail::Db;
using store_detail::Stmt;
using store_detail::Transaction;

// The campaign's exclusive lock: flock on <dir>/numasoak.lock, which holds
// the owner's pid so the refusal can name it. The kernel drops the flock when
// the process dies, however it dies, so a stale file never blocks a resume.
int store_detail::take_lock(const fs::path& dir) {
  const fs::path path = dir / kStoreLockName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw infra_error(fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)),
                      fmt::format("check that {} is writable", dir.string()));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    if (err == EWOULDBLOCK) {
      char buf[32] = {};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      ::close(fd);
      const bool numeric = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
      throw usage_error(numeric ? fmt::format("campaign {} is in use by numasoak pid {}", dir.string(), pid)
                                : fmt::format("campaign {} is in use by another numasoak", dir.string()));
    }
    ::close(fd);
    throw infra_error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    throw infra_error(fmt::format("cannot write lock file {}: {}", path.string(), std::strerror(err)),
                      "check free space and permissions");
  }
  return fd;
}


Store::Impl::~Impl() {
  db = Db();  // close the database before dropping the lock
  if (lock_fd >= 0) ::close(lock_fd);
}

}  // namespace numasoak
