#include "console/console_line.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace numasoak::console {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "Nov 24 12:00:00 host kernel: " or "2025-11-24T12:00:00.123+00:00 host kernel: ":
// returns the offset just past "kernel: ", or 0.
size_t syslog_prefix(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  bool looks_like_date = false;
  if (s.size() > 6 && s[3] == ' ') {
    for (auto m : kMonths) looks_like_date |= s.substr(0, 3) == m;
  }
  if (!looks_like_date && s.size() > 10) {
    looks_like_date = is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-' &&
                      is_digit(s[5]) && is_digit(s[6]) && s[7] == '-';
  }
  if (!looks_like_date) return 0;
  constexpr std::string_view kKernel = " kernel: ";
  const size_t at = s.substr(0, 120).find(kKernel);
  return at == std::string_view::npos ? 0 : at + kKernel.size();
}

// "[   12.345678]" at s[pos]: returns the length consumed and sets `uptime`.
size_t timestamp_at(std::string_view s, size_t pos, std::optional<double>& uptime) {
  size_t i = pos;
  if (i >= s.size() || s[i] != '[') return 0;
  ++i;
  while (i < s.size() && s[i] == ' ') ++i;
  const size_t int_start = i;
  std::uint64_t whole = 0, frac = 0, scale = 1;
  while (i < s.size() && is_digit(s[i]) && i - int_start < 12) whole = whole * 10 + static_cast<unsigned>(s[i++] - '0');
  if (i == int_start || i >= s.size() || s[i] != '.') return 0;
  ++i;
  const size_t frac_start = i;
  while (i < s.size() && is_digit(s[i]) && i - frac_start < 9) {
    frac = frac * 10 + static_cast<unsigned>(s[i++] - '0');
    scale *= 10;
  }
  if (i == frac_start || i >= s.size() || s[i] != ']') return 0;
  // Integer parts first, one division: 0.839658 stays 0.839658 in JSON.
  uptime = static_cast<double>(whole) + static_cast<double>(frac) / static_cast<double>(scale);
  return i + 1 - pos;
}

// "[  T123]" or "[    C1]" at s[pos]: returns the length consumed and sets `caller`.
size_t caller_at(std::string_view s, size_t pos, std::string_view& caller) {
  size_t i = pos;
  if (i >= s.size() || s[i] != '[') return 0;
  ++i;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || (s[i] != 'T' && s[i] != 'C')) return 0;
  const size_t id_start = i++;
  const size_t digits_start = i;
  while (i < s.size() && is_digit(s[i]) && i - digits_start < 10) ++i;
  if (i == digits_start || i >= s.size() || s[i] != ']') return 0;
  caller = s.substr(id_start, i - id_start);
  return i + 1 - pos;
}

}  // namespace

ConsoleLine parse_console_line(std::string_view line) {
  ConsoleLine out;
  size_t pos = syslog_prefix(line);

  // "<3>": a printk level, as dmesg -r and /dev/kmsg readers print it.
  if (pos < line.size() && line[pos] == '<') {
    size_t i = pos + 1;
    while (i < line.size() && is_digit(line[i]) && i - pos <= 3) ++i;
    if (i > pos + 1 && i < line.size() && line[i] == '>') pos = i + 1;
  }

  // The timestamp, where printk puts it or a little later (a login prompt
  // or other text may share the line with the kernel message).
  size_t n = timestamp_at(line, pos, out.uptime);
  if (n == 0) {
    const size_t limit = std::min(line.size(), pos + 64);
    for (size_t i = pos; i < limit && n == 0; ++i) {
      if (line[i] == '[') {
        n = timestamp_at(line, i, out.uptime);
        if (n != 0) pos = i;
      }
    }
  }
  pos += n;
  const size_t c = caller_at(line, pos, out.caller);
  pos += c;
  if ((n != 0 || c != 0) && pos < line.size() && line[pos] == ' ') ++pos;
  out.message = line.substr(pos);
  return out;
}

}  // namespace numasoak::console
