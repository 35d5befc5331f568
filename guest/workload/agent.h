// Agent: the guest end of the host<->guest channel, a serial port (ttyS1)
// or any file, carrying one JSON object per line (see guest/PROTOCOL.md).
// The port is put in raw mode so nothing echoes or turns '\n' into "\r\n".
#pragma once

#include <cstddef>
#include <string>

#include "spec/protocol.h"

namespace numasoak::guest {

class Agent {
 public:
  // Longest line the agent sends (the host accepts a little more).
  static constexpr std::size_t kMaxLine = nsw::protocol::kMaxLine;

  // Opens `path` ("-" = stdout). Returns "" or the reason it could not.
  std::string open(const std::string& path);
  // Writes one line (must end in '\n'); longer lines are not sent. Returns
  // false when the line was dropped or the write failed.
  bool send(const std::string& line);
  ~Agent();

 private:
  int fd_ = -1;
  bool own_ = false;
};

}  // namespace numasoak::guest
