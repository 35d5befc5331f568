#include "common/status_line.h"

#include <cstdio>
#include <unistd.h>

#include "common/terminal_safe.h"

namespace numasoak {

StatusLine::StatusLine(std::chrono::seconds plain_interval)
    : tty_(::isatty(STDERR_FILENO) == 1), interval_(plain_interval) {}

StatusLine::~StatusLine() { done(); }

void StatusLine::update(const std::string& raw) {
  std::string text = terminal_safe(raw, true);
  for (auto& c : text) if (c == '\n') c = ' ';
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    live_ = true;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (text == last_ || now - last_plain_ < interval_) return;
  last_plain_ = now;
  last_ = text;
  std::fprintf(stderr, "%s\n", text.c_str());
}

void StatusLine::done() {
  if (tty_ && live_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  live_ = false;
}

}  // namespace numasoak
