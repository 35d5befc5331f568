// AgentParser: one agent line -> one typed Message. The line comes from a
// guest kernel under test, so it is untrusted: length-bounded, every field
// type-checked, strings truncated and stripped of control characters.
// parse() never throws; bad lines are counted and dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/messages.h"

namespace numasoak::telemetry {

/// What the parser saw of the agent channel: lines, parsed, rejected.
struct ParseStats {
  std::uint64_t lines = 0;          // non-empty lines seen
  std::uint64_t parsed = 0;         // turned into a Message
  std::uint64_t errors = 0;         // not JSON, not an object, wrong field types, too long
  std::uint64_t too_long = 0;       // (part of errors) longer than kMaxAcceptedLine
  std::uint64_t unknown_types = 0;  // valid but a "type" this host does not know (ignored)
};

/// Turns agent lines (untrusted JSON, bounded) into Messages.
class AgentParser {
 public:
  // The guest sends at most proto::kMaxLine; some slack for a newer guest.
  static constexpr std::size_t kMaxAcceptedLine = 4 * proto::kMaxLine;
  static constexpr std::size_t kMaxText = 512;  // reason, kernel, ... (longer is cut)

  // One line, with or without its '\n' / "\r\n".
  std::optional<Message> parse(std::string_view line);

  const ParseStats& stats() const { return stats_; }
  // Why the last bad line was rejected (for a debug log); "" if none yet.
  const std::string& last_error() const { return last_error_; }

 private:
  ParseStats stats_;
  std::string last_error_;
};

// Text from the guest made safe to store and show: at most `max` bytes,
// control characters replaced by '?', cut on a UTF-8 boundary.
std::string sanitize_text(std::string_view s, std::size_t max);

}  // namespace numasoak::telemetry
