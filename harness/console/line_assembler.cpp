#include "console/line_assembler.h"

#include <algorithm>

namespace numasoak::console {

LineAssembler::LineAssembler(size_t max_line) : max_line_(std::max<size_t>(max_line, 16)) {
  line_.reserve(max_line_ + kCutMarker.size());
}

void LineAssembler::feed(std::string_view bytes, const LineSink& sink) {
  bytes_in_ += bytes.size();
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Fast paths, same result as byte(): skipping a cut line's tail, and
    // copying runs of printable ASCII.
    if (esc_ == Esc::kNone && utf8_need_ == 0) {
      if (dropping_) {
        const size_t nl = bytes.find('\n', i);
        if (nl == std::string_view::npos) return;  // nothing before a newline counts
        i = nl;
      } else {
        size_t j = i;
        while (j < n && bytes[j] >= 0x20 && bytes[j] < 0x7F) ++j;
        if (j > i) {
          const size_t room = max_line_ - line_.size();
          if (j - i <= room) {
            line_.append(bytes.substr(i, j - i));
            i = j;
          } else {
            line_.append(bytes.substr(i, room));
            cut(sink);
            i += room + 1;  // the byte that did not fit is dropped with the rest
          }
          continue;
        }
      }
    }
    byte(static_cast<unsigned char>(bytes[i++]), sink);
  }
}

std::vector<std::string> LineAssembler::feed(std::string_view bytes) {
  std::vector<std::string> out;
  feed(bytes, [&out](std::string_view l) { out.emplace_back(l); });
  return out;
}

void LineAssembler::finish(const LineSink& sink) {
  flush_utf8_as_invalid(sink);
  if (!dropping_ && !line_.empty()) {
    ++lines_out_;
    sink(line_);
  }
  line_.clear();
  dropping_ = false;
  esc_ = Esc::kNone;
}

std::vector<std::string> LineAssembler::finish() {
  std::vector<std::string> out;
  finish([&out](std::string_view l) { out.emplace_back(l); });
  return out;
}

void LineAssembler::put(std::string_view text, const LineSink& sink) {
  if (dropping_) return;
  if (line_.size() + text.size() > max_line_) {
    cut(sink);
    return;
  }
  line_ += text;
}

void LineAssembler::cut(const LineSink& sink) {
  line_ += kCutMarker;
  ++lines_out_;
  ++lines_cut_;
  sink(line_);
  line_.clear();
  dropping_ = true;
}

void LineAssembler::flush_utf8_as_invalid(const LineSink& sink) {
  if (utf8_len_ == 0) return;
  utf8_len_ = utf8_need_ = 0;
  put("?", sink);  // one replacement per broken sequence
}

void LineAssembler::end_line(const LineSink& sink) {
  if (dropping_) {
    dropping_ = false;  // the cut line was emitted already
  } else {
    ++lines_out_;
    sink(line_);
  }
  line_.clear();
}

// Whether `c` may follow `lead` as the second byte of a UTF-8 sequence
// (rules out overlong forms, surrogates and code points above U+10FFFF).
static bool valid_second(unsigned char lead, unsigned char c) {
  switch (lead) {
    case 0xE0: return c >= 0xA0 && c <= 0xBF;
    case 0xED: return c >= 0x80 && c <= 0x9F;
    case 0xF0: return c >= 0x90 && c <= 0xBF;
    case 0xF4: return c >= 0x80 && c <= 0x8F;
    default: return c >= 0x80 && c <= 0xBF;
  }
}

void LineAssembler::byte(unsigned char c, const LineSink& sink) {
  // Escape sequences: consumed, never emitted. A newline always ends one,
  // so an unterminated OSC cannot swallow the rest of the log.
  if (esc_ != Esc::kNone && c != '\n') {
    switch (esc_) {
      case Esc::kEsc:
        if (c == '[') {
          esc_ = Esc::kCsi;
        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
          esc_ = Esc::kString;
        } else if (c == 0x1B || (c >= 0x20 && c <= 0x2F)) {
          // another ESC, or an intermediate byte ("ESC ( B"): keep going
        } else {
          esc_ = Esc::kNone;  // final byte of a two-byte sequence
        }
        return;
      case Esc::kCsi:
        if (c == 0x1B) {
          esc_ = Esc::kEsc;
        } else if (c < 0x20 || c > 0x3F) {
          esc_ = Esc::kNone;  // final byte (0x40-0x7E), or garbage that aborts it
        }
        return;
      case Esc::kString:
        if (c == 0x07) esc_ = Esc::kNone;
        else if (c == 0x1B) esc_ = Esc::kStringEsc;
        return;
      case Esc::kStringEsc:
        esc_ = c == '\\' ? Esc::kNone : Esc::kString;
        return;
      case Esc::kNone:
        break;
    }
  }
  esc_ = Esc::kNone;

  if (utf8_need_ != 0) {
    const bool ok = utf8_len_ == 1 ? valid_second(utf8_[0], c) : (c >= 0x80 && c <= 0xBF);
    if (ok) {
      utf8_[utf8_len_++] = c;
      if (utf8_len_ == utf8_need_) {
        // U+0080..U+009F are C1 controls (U+009B is CSI on some terminals).
        const bool c1 = utf8_[0] == 0xC2 && utf8_[1] <= 0x9F;
        if (c1) put("?", sink);
        else put(std::string_view(reinterpret_cast<const char*>(utf8_), utf8_len_), sink);
        utf8_len_ = utf8_need_ = 0;
      }
      return;
    }
    flush_utf8_as_invalid(sink);  // then handle `c` on its own
  }

  if (c == '\n') {
    end_line(sink);
  } else if (c == '\r') {
    // dropped: CRLF and lone CR alike
  } else if (c == 0x1B) {
    esc_ = Esc::kEsc;
  } else if (c == '\t') {
    put("\t", sink);
  } else if (c < 0x20 || c == 0x7F) {
    put("?", sink);
  } else if (c < 0x80) {
    const char ch = static_cast<char>(c);
    put(std::string_view(&ch, 1), sink);
  } else if (c >= 0xC2 && c <= 0xF4) {
    utf8_[0] = c;
    utf8_len_ = 1;
    utf8_need_ = c <= 0xDF ? 2 : c <= 0xEF ? 3 : 4;
  } else {
    put("?", sink);  // stray continuation byte, 0xC0/0xC1, 0xF5..0xFF
  }
}

std::string neutralize(std::string_view text, size_t max_len) {
  std::string in(text);
  std::replace(in.begin(), in.end(), '\n', '\x01');  // a control: becomes '?'
  LineAssembler la(max_len);
  std::string out;
  auto keep_first = [&out](std::string_view l) {
    if (out.empty()) out = l;
  };
  la.feed(in, keep_first);
  la.finish(keep_first);
  return out;
}

}  // namespace numasoak::console
