#include "common/bytes.h"

#include <cctype>
#include <cmath>
#include <fmt/format.h>

namespace numasoak {

std::optional<Bytes> parse_bytes(std::string_view text) {
  size_t i = 0;
  double number = 0;
  bool any_digit = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    number = number * 10 + (text[i] - '0');
    any_digit = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number += (text[i] - '0') * scale;
      scale /= 10;
      any_digit = true;
      ++i;
    }
  }
  if (!any_digit) return std::nullopt;
  std::string unit;
  for (; i < text.size(); ++i) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  double mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB") mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  const double value = number * mult;
  if (value > 1e18 || value != std::floor(value)) return std::nullopt;
  return Bytes{static_cast<std::uint64_t>(value)};
}

std::string format_bytes(Bytes b) {
  static constexpr const char* units[] = {"", "K", "M", "G", "T"};
  std::uint64_t v = b.value;
  int u = 0;
  while (u < 4 && v != 0 && v % 1024 == 0) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{}{}", v, units[u]);
}

}  // namespace numasoak
