#include "report/text.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "common/utf8.h"

namespace numasoak::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    auto [cp, len] = utf8::decode(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\n':
      case '\t': out += static_cast<char>(cp); break;
      case '\r': break;  // CRLF console lines
      default:
        if (utf8::is_control(cp)) {
          out += "\xEF\xBF\xBD";
        } else {
          out.append(text.substr(i, len));
        }
    }
    i += len;
  }
  return out;
}

std::string truncate_text(std::string_view text, size_t max_chars) {
  // Byte offsets where code points start; invalid bytes count as one each.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size();) {
    starts.push_back(i);
    const size_t len = utf8::decode(text, i).length;
    i += len == 0 ? 1 : len;
  }
  if (starts.size() <= max_chars) return std::string(text);
  const size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  return std::string(text.substr(0, starts[keep])) + "...";
}

std::string url_encode_path(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string format_seconds(double s) {
  if (!std::isfinite(s)) return "-";
  if (s < 0) s = 0;
  if (s < 10) return fmt::format("{:.1f} s", s);
  if (s < 100) return fmt::format("{:.0f} s", s);
  if (s < 600) {
    const long total = std::lround(s);
    return total % 60 == 0 ? fmt::format("{} min", total / 60) : fmt::format("{} min {} s", total / 60, total % 60);
  }
  if (s < 3600) return fmt::format("{} min", std::lround(s / 60));
  if (s < 48 * 3600) {
    const long minutes = std::lround(s / 60);
    return fmt::format("{} h {:02d} min", minutes / 60, static_cast<int>(minutes % 60));
  }
  return fmt::format("{:.1f} d", s / 86400);
}

std::string format_number(double v) {
  if (std::isnan(v)) return "?";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 10) return fmt::format("{:.0f}", v);
  // Two significant digits.
  const int digits = 1 - static_cast<int>(std::floor(std::log10(a)));
  return fmt::format("{:.{}f}", v, std::max(digits, 0));
}

std::string format_rate_short(const stats::RateEstimate& rate) {
  if (!rate.has_exposure()) return "-";
  const char* unit = rate.unit == stats::RateUnit::kPerHour     ? "/h"
                     : rate.unit == stats::RateUnit::kPerSecond ? "/s"
                                                                : " per 1M events";
  if (rate.upper_bound_only) return fmt::format("< {}{}", format_number(rate.upper), unit);
  return fmt::format("{}{} [{}, {}]", format_number(rate.rate), unit, format_number(rate.lower),
                     format_number(rate.upper));
}

std::string format_p(double p) { return stats::format_p_value(p); }

}  // namespace numasoak::report
