#include "console/line_assembler.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace numasoak::console {
namespace {

using Lines = std::vector<std::string>;

Lines all(std::string_view bytes, size_t max_line = LineAssembler::kDefaultMaxLine) {
  LineAssembler la(max_line);
  Lines out = la.feed(bytes);
  for (auto& l : la.finish()) out.push_back(l);
  return out;
}

TEST(LineAssembler, SplitsOnNewlineAndKeepsPartialLines) {
  LineAssembler la;
  EXPECT_TRUE(la.feed("hello wo").empty());
  EXPECT_EQ(la.buffered(), 8u);
  EXPECT_EQ(la.feed("rld\nsecond\nthi"), (Lines{"hello world", "second"}));
  EXPECT_EQ(la.finish(), (Lines{"thi"}));
  EXPECT_EQ(la.lines_out(), 3u);
  EXPECT_EQ(la.bytes_in(), 22u);
  EXPECT_EQ(la.buffered(), 0u);
}

TEST(LineAssembler, EmptyLinesAreLines) { EXPECT_EQ(all("a\n\n\nb\n"), (Lines{"a", "", "", "b"})); }

TEST(LineAssembler, FinishWithNothingPendingEmitsNothing) {
  LineAssembler la;
  la.feed("done\n");
  EXPECT_TRUE(la.finish().empty());
}

TEST(LineAssembler, StripsCarriageReturns) {
  EXPECT_EQ(all("one\r\ntwo\r\n"), (Lines{"one", "two"}));
  EXPECT_EQ(all("lone\rcr\n"), (Lines{"lonecr"}));
  EXPECT_EQ(all("\r\r\n"), (Lines{""}));
}

TEST(LineAssembler, SameLinesWhateverTheChunking) {
  const std::string text =
      "\x1b[0mSeaBIOS\r\n[    0.000000] Linux version 6.1 \xc3\xa9t\xc3\xa9\r\n"
      "\x1b]0;title\x07[    1.000000] bad pmd\r\nx\xe2\x82\xacy\n\xf0\x9f\x98\x80!\ntail";
  const Lines expected = all(text);
  ASSERT_EQ(expected.size(), 6u);
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    LineAssembler la;
    Lines got;
    auto sink = [&got](std::string_view l) { got.emplace_back(l); };
    size_t at = 0;
    while (at < text.size()) {
      const size_t n = std::min<size_t>(1 + rng() % 7, text.size() - at);
      la.feed(std::string_view(text).substr(at, n), sink);
      at += n;
    }
    la.finish(sink);
    ASSERT_EQ(got, expected) << "round " << round;
  }
}

TEST(LineAssembler, BulkAndByteAtATimeAgreeOnConsoleLikeNoise) {
  // Printable runs, newlines, CR, escapes, UTF-8 and garbage, with a small
  // line limit so cuts happen often.
  const std::string alphabet[] = {"abc", "x y z ", "\n", "\r\n", "\x1b[0m", "\x1b]0;t\x07", "\xc3\xa9",
                                  "\xe2\x82",  "\xff", "\t", std::string(1, '\0'), "[    1.000000] ",
                                  std::string(40, 'L')};
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::string text;
    for (int k = 0; k < 400; ++k) text += alphabet[rng() % std::size(alphabet)];
    LineAssembler bulk(24), single(24);
    Lines a = bulk.feed(text), b;
    for (char c : text) {
      for (auto& l : single.feed(std::string_view(&c, 1))) b.push_back(l);
    }
    for (auto& l : bulk.finish()) a.push_back(l);
    for (auto& l : single.finish()) b.push_back(l);
    ASSERT_EQ(a, b) << "round " << round;
    EXPECT_EQ(bulk.lines_cut(), single.lines_cut());
  }
}

TEST(LineAssembler, ReplacesControlCharactersButKeepsTab) {
  EXPECT_EQ(all(std::string("a\0b\x01\x7f\tc\n", 8)), (Lines{"a?b??\tc"}));
  EXPECT_EQ(all("bell\x07here\n"), (Lines{"bell?here"}));
}

TEST(LineAssembler, StripsAnsiEscapeSequences) {
  // Real SeaBIOS output on a QEMU serial port.
  EXPECT_EQ(all("\x1b" "c\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r\n"), (Lines{"SeaBIOS (version 1.16.2)"}));
  EXPECT_EQ(all("\x1b[1;31mred\x1b[0m text\n"), (Lines{"red text"}));
  EXPECT_EQ(all("\x1b]0;evil title\x07ok\n"), (Lines{"ok"}));          // OSC ended by BEL
  EXPECT_EQ(all("\x1b]8;;http://x\x1b\\link\n"), (Lines{"link"}));     // OSC ended by ST
  EXPECT_EQ(all("\x1bP1$r\x1b\\after\n"), (Lines{"after"}));           // DCS
  EXPECT_EQ(all("\x1b(Bcharset\n"), (Lines{"charset"}));                // designation
}

TEST(LineAssembler, UnterminatedEscapeEndsAtNewline) {
  EXPECT_EQ(all("\x1b]0;never ends\nnext line\n"), (Lines{"", "next line"}));
  EXPECT_EQ(all("\x1b[12;\nkept\n"), (Lines{"", "kept"}));
}

TEST(LineAssembler, KeepsValidUtf8AndNeutralisesInvalid) {
  EXPECT_EQ(all("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"), (Lines{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}));
  EXPECT_EQ(all("a\xff" "b\n"), (Lines{"a?b"}));        // never valid
  EXPECT_EQ(all("a\x80" "b\n"), (Lines{"a?b"}));        // stray continuation
  EXPECT_EQ(all("a\xc3" "b\n"), (Lines{"a?b"}));        // truncated sequence
  EXPECT_EQ(all("a\xc0\xaf" "b\n"), (Lines{"a??b"}));   // overlong '/'
  EXPECT_EQ(all("a\xed\xa0\x80" "b\n"), (Lines{"a???b"}));  // surrogate
  EXPECT_EQ(all("a\xc2\x9b" "31m\n"), (Lines{"a?31m"}));  // U+009B, the 8-bit CSI
  EXPECT_EQ(all("end\xe2\x82"), (Lines{"end?"}));        // truncated at end of stream
}

TEST(LineAssembler, NeutralisesInvalidSurrogateExactly) {
  // ED A0 80: A0 is not a valid second byte after ED, so the lead becomes
  // one '?' and the two continuation bytes one '?' each.
  EXPECT_EQ(all("\xed\xa0\x80\n"), (Lines{"???"}));
}

TEST(LineAssembler, CutsOverlongLinesAndDropsTheRest) {
  const std::string line(100, 'x');
  const Lines got = all(line + "\nshort\n", 32);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], std::string(32, 'x') + std::string(LineAssembler::kCutMarker));
  EXPECT_EQ(got[1], "short");
}

TEST(LineAssembler, LineOfExactlyMaxIsNotCut) {
  EXPECT_EQ(all(std::string(32, 'y') + "\n", 32), (Lines{std::string(32, 'y')}));
}

TEST(LineAssembler, CutNeverSplitsAUtf8Sequence) {
  std::string s(31, 'a');
  s += "\xe2\x82\xac";  // 3 bytes: does not fit in the last byte
  s += "\n";
  const Lines got = all(s, 32);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::string(31, 'a') + std::string(LineAssembler::kCutMarker));
}

TEST(LineAssembler, TenMegabyteLineStaysBounded) {
  LineAssembler la;  // 4096
  const std::string chunk(64 * 1024, 'z');
  Lines got;
  auto sink = [&got](std::string_view l) { got.emplace_back(l); };
  size_t max_buffered = 0;
  for (int i = 0; i < 160; ++i) {  // 10 MiB, no newline
    la.feed(chunk, sink);
    max_buffered = std::max(max_buffered, la.buffered());
  }
  la.feed("\nafter\n", sink);
  EXPECT_LE(max_buffered, la.max_line() + LineAssembler::kCutMarker.size() + 4);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), 4096 + LineAssembler::kCutMarker.size());
  EXPECT_EQ(got[1], "after");
  EXPECT_EQ(la.lines_cut(), 1u);
}

// Every emitted byte is printable ASCII, tab, or part of valid UTF-8 that is
// not a C1 control: nothing a terminal would act on.
bool safe(std::string_view l) {
  for (size_t i = 0; i < l.size(); ++i) {
    const auto c = static_cast<unsigned char>(l[i]);
    if (c == '\t' || (c >= 0x20 && c < 0x7F)) continue;
    if (c < 0x20 || c == 0x7F) return false;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || i + n > l.size()) return false;
    if (c == 0xC2 && static_cast<unsigned char>(l[i + 1]) <= 0x9F) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(l[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n - 1;
  }
  return true;
}

TEST(LineAssembler, HundredMegabytesOfRandomBytesStayBoundedAndSafe) {
  LineAssembler la;
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  std::string chunk(1 << 20, '\0');
  size_t max_buffered = 0, max_line = 0;
  std::uint64_t unsafe = 0, lines = 0;
  auto sink = [&](std::string_view l) {
    ++lines;
    max_line = std::max(max_line, l.size());
    if (!safe(l)) ++unsafe;
  };
  for (int mb = 0; mb < 100; ++mb) {
    for (size_t i = 0; i < chunk.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      for (size_t k = 0; k < 8; ++k) chunk[i + k] = static_cast<char>(x >> (8 * k));
    }
    la.feed(chunk, sink);
    max_buffered = std::max(max_buffered, la.buffered());
  }
  la.finish(sink);
  EXPECT_EQ(la.bytes_in(), 100u << 20);
  EXPECT_GT(lines, 100000u);  // ~1 newline per 256 random bytes
  EXPECT_EQ(unsafe, 0u);
  EXPECT_LE(max_buffered, la.max_line() + LineAssembler::kCutMarker.size() + 4);
  EXPECT_LE(max_line, la.max_line() + LineAssembler::kCutMarker.size());
}

TEST(Neutralize, MakesOneSafeLine) {
  EXPECT_EQ(neutralize("a\nb\x1b[31mc\r"), "a?bc");
  EXPECT_EQ(neutralize("x\xff"), "x?");
  EXPECT_EQ(neutralize(std::string(100, 'n'), 20).size(), 20 + LineAssembler::kCutMarker.size());
}

}  // namespace
}  // namespace numasoak::console
