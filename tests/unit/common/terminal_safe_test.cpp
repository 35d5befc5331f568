// terminal_safe: no guest text can drive the operator's terminal.
#include <gtest/gtest.h>

#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "common/utf8.h"

namespace numasoak {
namespace {

// True when `s` holds nothing a terminal would act on: no C0 control but
// \t (and \n when allowed), no DEL, no C1 control (raw or UTF-8 encoded), and
// only valid UTF-8.
bool inert(std::string_view s, bool newlines_ok = false) {
  for (size_t i = 0; i < s.size();) {
    const auto [cp, len] = utf8::decode(s, i);
    if (len == 0) return false;
    if (utf8::is_control(cp) && cp != '\t' && !(newlines_ok && cp == '\n')) return false;
    i += len;
  }
  return true;
}

TEST(TerminalSafe, EscapeSequencesLoseTheirEscape) {
  // CSI (clear screen, cursor home, colour), OSC (window title, ended by BEL
  // and by ST), DCS, and a 7-bit ST.
  EXPECT_EQ(terminal_safe("\x1b[2J\x1b[H\x1b[31mred"), "?[2J?[H?[31mred");
  EXPECT_EQ(terminal_safe("\x1b]0;pwned\x07"), "?]0;pwned?");
  EXPECT_EQ(terminal_safe("\x1b]2;t\x1b\\x"), "?]2;t?\\x");
  EXPECT_EQ(terminal_safe("\x1bP1$r\x1b\\"), "?P1$r?\\");
}

TEST(TerminalSafe, C1ControlsRawAndEncoded) {
  // U+009B (CSI) and U+009D (OSC) as UTF-8, and as the single bytes some
  // terminals take in 8-bit mode (invalid UTF-8 on their own).
  EXPECT_EQ(terminal_safe("a\xc2\x9b" "2Jb"), "a?2Jb");
  EXPECT_EQ(terminal_safe("a\xc2\x9d" "0;t"), "a?0;t");
  EXPECT_EQ(terminal_safe("a\x9b" "2J\x9d"), "a?2J?");
  EXPECT_EQ(terminal_safe(std::string_view("a\x85z", 3)), "a?z");
}

TEST(TerminalSafe, OverwriteTricks) {
  // CR back to column 0, backspaces over "FAIL", BEL, DEL, NUL, vertical tab
  // and form feed: all visible as '?', so what was printed stays printed.
  EXPECT_EQ(terminal_safe("FAILED\rPASSED"), "FAILED?PASSED");
  EXPECT_EQ(terminal_safe("FAIL\b\b\b\bPASS"), "FAIL????PASS");
  EXPECT_EQ(terminal_safe(std::string_view("\x07\x7f\0\x0b\x0c", 5)), "?????");
}

TEST(TerminalSafe, NewlinesOnlyWhenAsked) {
  EXPECT_EQ(terminal_safe("a\nb\tc"), "a?b\tc");
  EXPECT_EQ(terminal_safe("a\nb\tc", true), "a\nb\tc");
}

TEST(TerminalSafe, Utf8PassesInvalidBytesAreRepaired) {
  EXPECT_EQ(terminal_safe("µs — ✓ 𝄞"), "µs — ✓ 𝄞");
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "??");          // overlong '/'
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "???");     // surrogate
  EXPECT_EQ(terminal_safe("\xf4\x90\x80\x80"), "????");  // above U+10FFFF
  EXPECT_EQ(terminal_safe("ok\xe2\x9c"), "ok??");        // cut sequence
}

TEST(TerminalSafe, EveryByteValueAloneAndInPairsIsInert) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    EXPECT_TRUE(inert(terminal_safe(one))) << "byte " << a;
    for (int b = 0x80; b < 0xC0; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_TRUE(inert(terminal_safe(two))) << "bytes " << a << " " << b;
    }
  }
}

TEST(StatusLine, PlainLinesAreTerminalSafeAndOneLine) {
  // Under ctest stderr is not a terminal: the status line prints plain lines.
  StatusLine status(std::chrono::seconds(0));
  ASSERT_FALSE(status.tty());
  ::testing::internal::CaptureStderr();
  status.update("kernel \x1b]0;owned\x07 building\nstill \xc2\x9b" "2J");
  status.done();
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "kernel ?]0;owned? building still ?2J\n");
  EXPECT_TRUE(inert(out, true));
}

}  // namespace
}  // namespace numasoak
