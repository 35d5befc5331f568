// UTF-8 decoding for text that may not be UTF-8 at all (guest output).
//
// One strict decoder shared by everything that repairs or measures untrusted
// text (terminal_safe, html_escape, truncate_text), so they agree on what is
// valid: no overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <string_view>

namespace numasoak::utf8 {

/// One decoded UTF-8 code point and its length in bytes (0 when the bytes are not valid UTF-8).
struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;  // bytes; 0 = the bytes at that offset are not valid UTF-8
};

// Decodes the sequence starting at text[i] (i < text.size()).
CodePoint decode(std::string_view text, std::size_t i);

// C0 controls, DEL and the C1 controls U+0080..U+009F (CSI, OSC, ... as
// single code points).
constexpr bool is_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

}  // namespace numasoak::utf8
