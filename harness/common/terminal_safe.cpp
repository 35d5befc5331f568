#include "common/terminal_safe.h"

#include "common/utf8.h"

namespace numasoak {

std::string terminal_safe(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, len] = utf8::decode(text, i);
    if (len == 0) {
      out += '?';
      ++i;
      continue;
    }
    if ((cp == '\n' && keep_newlines) || cp == '\t') {
      out += static_cast<char>(cp);
    } else if (utf8::is_control(cp)) {
      out += '?';
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace numasoak
