// StatusLine: one line of live progress on stderr.
//
// On a terminal it rewrites itself in place ("\r" + clear); elsewhere (a log
// file, CI) it prints a plain line at most every `plain_interval`, so long
// work shows progress without flooding logs. Text is the harness's own, but
// it still goes through terminal_safe() in case guest text reaches it.
#pragma once

#include <chrono>
#include <string>

namespace numasoak {

/// One line of live progress on stderr: rewritten in place on a terminal, a throttled plain line elsewhere.
class StatusLine {
 public:
  explicit StatusLine(std::chrono::seconds plain_interval = std::chrono::seconds(15));
  ~StatusLine();
  void update(const std::string& text);
  // Ends the live line (a newline on a terminal) so normal output can follow.
  void done();
  bool tty() const { return tty_; }

 private:
  bool tty_;
  bool live_ = false;
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point last_plain_{};
  std::string last_;
};

}  // namespace numasoak
