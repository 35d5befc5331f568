// ConsoleLine: one console line split into the prefix printk (or syslog)
// put in front of it and the message itself.
//
// Console logs come from many places: a live serial port
// ("[   12.345678] msg"), kernels with CONFIG_PRINTK_CALLER
// ("[   12.345678][  T123] msg"), syslog or journal files
// ("Nov 24 12:00:00 host kernel: [ 12.3] msg"), dmesg with levels
// ("<3>[ 12.3] msg"), or no prefix at all. The detector needs the message,
// the guest uptime and the caller id (which task or CPU printed the line, so
// interleaved reports can be told apart); this parses them without regexes.
#pragma once

#include <optional>
#include <string_view>

namespace numasoak::console {

/// One console line split into its message and what its printk/syslog prefix says (uptime, caller id).
struct ConsoleLine {
  std::string_view message;      // the text after the prefix (whole line if none)
  std::optional<double> uptime;  // printk timestamp, seconds since boot
  std::string_view caller;       // "T123" (task) or "C1" (CPU), or empty
};

// Views point into `line`.
ConsoleLine parse_console_line(std::string_view line);

}  // namespace numasoak::console
