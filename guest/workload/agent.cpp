#include "workload/agent.h"

#include <cerrno>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "workload/sys.h"

namespace numasoak::guest {

std::string Agent::open(const std::string& path) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) return path + ": " + errno_text(errno);
    own_ = true;
  }
  if (::isatty(fd_)) {
    termios t{};
    if (::tcgetattr(fd_, &t) == 0) {
      ::cfmakeraw(&t);
      ::cfsetospeed(&t, B115200);
      ::cfsetispeed(&t, B115200);
      t.c_cflag |= CLOCAL;
      ::tcsetattr(fd_, TCSANOW, &t);
    }
  }
  return "";
}

bool Agent::send(const std::string& line) {
  if (fd_ < 0 || line.size() > kMaxLine || line.empty() || line.back() != '\n') return false;
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

Agent::~Agent() {
  if (own_ && fd_ >= 0) ::close(fd_);
}

}  // namespace numasoak::guest
