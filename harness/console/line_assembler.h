// LineAssembler: raw console bytes in, safe complete lines out.
//
// A serial console delivers bytes in arbitrary chunks: a line may arrive in
// pieces, end in CRLF, carry terminal escape sequences (SeaBIOS clears the
// screen with them), NULs, or garbage from a dying guest. Everything the
// detector, the terminal and the reports see goes through here first, so each
// emitted line is
//   - complete: split on '\n' only; every '\r' is dropped;
//   - safe: ANSI escape sequences (CSI, OSC, DCS, ...) are removed, other C0
//     and C1 controls and DEL become '?', tab is kept, invalid UTF-8 bytes
//     become '?' (valid UTF-8 passes through);
//   - bounded: a line longer than `max_line` bytes is cut, marked with
//     kCutMarker and emitted at once; the rest of it, up to the next newline,
//     is dropped. Memory held never exceeds max_line + a few bytes, whatever
//     the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::console {

/// Raw console bytes in, complete, neutralised and bounded lines out.
class LineAssembler {
 public:
  static constexpr size_t kDefaultMaxLine = 4096;
  // Appended to a line that was cut at max_line bytes.
  static constexpr std::string_view kCutMarker = " [...]";

  using LineSink = std::function<void(std::string_view line)>;

  explicit LineAssembler(size_t max_line = kDefaultMaxLine);

  // Consumes `bytes`; calls `sink` once per completed line (without the
  // newline). The view is valid only during the call.
  void feed(std::string_view bytes, const LineSink& sink);
  // Same, collecting the lines.
  std::vector<std::string> feed(std::string_view bytes);

  // End of stream: emits the partial last line, if any.
  void finish(const LineSink& sink);
  std::vector<std::string> finish();

  // Bytes currently held for the unfinished line (bounded by
  // max_line() + kCutMarker.size() + 4).
  size_t buffered() const { return line_.size() + utf8_len_; }
  size_t max_line() const { return max_line_; }

  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t lines_out() const { return lines_out_; }
  std::uint64_t lines_cut() const { return lines_cut_; }

 private:
  /// Which escape sequence the assembler is inside and dropping (ESC, CSI, an OSC/DCS string, its ESC).
  enum class Esc : std::uint8_t { kNone, kEsc, kCsi, kString, kStringEsc };

  void byte(unsigned char c, const LineSink& sink);
  void put(std::string_view text, const LineSink& sink);
  void cut(const LineSink& sink);
  void flush_utf8_as_invalid(const LineSink& sink);
  void end_line(const LineSink& sink);

  size_t max_line_;
  std::string line_;
  bool dropping_ = false;  // the current line was cut: drop until '\n'
  Esc esc_ = Esc::kNone;
  unsigned char utf8_[4] = {};
  size_t utf8_len_ = 0;   // bytes of a multi-byte sequence seen so far
  size_t utf8_need_ = 0;  // its total length
  std::uint64_t bytes_in_ = 0;
  std::uint64_t lines_out_ = 0;
  std::uint64_t lines_cut_ = 0;
};

// Applies the same neutralisation to a complete piece of text (a file name,
// a title from elsewhere) so it can be printed on a terminal. Newlines
// become '?' too: the result is one line, at most `max_len` bytes.
std::string neutralize(std::string_view text, size_t max_len = LineAssembler::kDefaultMaxLine);

}  // namespace numasoak::console
