// Every console log in tests/fixtures/consoles/ must give the failure its
// header names (or none), whatever the chunking of the bytes.
//
// Header format (then the raw console bytes, untouched):
//   # numasoak-fixture
//   # kind: bad-pmd            (or "none")
//   # title: bad pmd in change_pmd_range
//   # frame: change_pmd_range  (optional: guilty frame of the first failure; may be empty)
//   # count: 1                 (optional: number of failures in the log)
//   # line: 1                  (optional: marker line of the first failure, 1 = first body line)
//   # uptime: 12.345678        (optional: guest timestamp of the first failure)
//   # source: what kernel, how it was captured
//   #
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "console/scan.h"

namespace numasoak::console {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  std::string name;
  std::map<std::string, std::string> header;
  std::string body;
};

fs::path fixture_dir() { return fs::path(NUMASOAK_FIXTURES) / "consoles"; }

Fixture load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  Fixture f;
  f.name = path.filename().string();
  size_t pos = 0;
  bool first = true;
  while (pos < all.size()) {
    const size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::string line = all.substr(pos, nl - pos);
    pos = nl + 1;
    if (first) {
      EXPECT_EQ(line, "# numasoak-fixture") << f.name;
      first = false;
      continue;
    }
    if (line == "#") break;
    EXPECT_EQ(line.substr(0, 2), "# ") << f.name << ": header line " << line;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    f.header[line.substr(2, colon - 2)] = value;
  }
  f.body = all.substr(pos);
  return f;
}

std::vector<fs::path> fixture_paths() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fixture_dir(), ec)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Failure> scan_in_chunks(const std::string& body, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> size(1, 97);
  LogScanner scanner;
  std::vector<Failure> out;
  for (size_t at = 0; at < body.size();) {
    const size_t n = std::min(size(rng), body.size() - at);
    scanner.feed(std::string_view(body).substr(at, n));
    at += n;
    for (auto& f : scanner.take_completed()) out.push_back(std::move(f));
  }
  scanner.finish();
  for (auto& f : scanner.take_completed()) out.push_back(std::move(f));
  std::stable_sort(out.begin(), out.end(), [](const Failure& a, const Failure& b) { return a.line < b.line; });
  return out;
}

TEST(ConsoleFixtures, DirectoryHasRealAndHandMadeLogs) {
  const auto paths = fixture_paths();
  ASSERT_GE(paths.size(), 10u) << "fixtures missing in " << fixture_dir();
  int none = 0, real = 0;
  for (const auto& p : paths) {
    const Fixture f = load(p);
    ASSERT_TRUE(f.header.count("kind")) << f.name;
    ASSERT_TRUE(f.header.count("source")) << f.name;
    none += f.header.at("kind") == "none";
    real += f.header.at("source").rfind("REAL", 0) == 0;
    if (f.header.at("kind") != "none") {
      EXPECT_TRUE(f.header.count("title")) << f.name;
    }
  }
  EXPECT_GE(none, 1);
  EXPECT_GE(real, 2);
}

class ConsoleFixture : public ::testing::TestWithParam<fs::path> {};

TEST_P(ConsoleFixture, FirstFailureMatchesHeader) {
  const Fixture f = load(GetParam());
  const auto failures = scan_bytes(f.body);
  const std::string kind = f.header.at("kind");
  if (kind == "none") {
    for (const auto& x : failures) ADD_FAILURE() << f.name << ": unexpected " << x.kind << " '" << x.title << "' at line " << x.line;
    return;
  }
  ASSERT_FALSE(failures.empty()) << f.name << ": no failure found, expected " << kind;
  for (size_t i = 1; i < failures.size(); ++i) EXPECT_LT(failures[i - 1].line, failures[i].line) << f.name;
  const Failure& first = failures.front();
  EXPECT_EQ(first.kind, kind) << f.name;
  EXPECT_EQ(first.title, f.header.at("title")) << f.name;
  if (f.header.count("frame")) {
    EXPECT_EQ(first.guilty_frame, f.header.at("frame")) << f.name;
  }
  if (f.header.count("count")) {
    EXPECT_EQ(failures.size(), std::stoul(f.header.at("count"))) << f.name;
  }
  if (f.header.count("line")) {
    EXPECT_EQ(first.line, std::stoull(f.header.at("line"))) << f.name;
  }
  if (f.header.count("uptime")) {
    ASSERT_TRUE(first.uptime_s.has_value()) << f.name;
    EXPECT_NEAR(*first.uptime_s, std::stod(f.header.at("uptime")), 1e-6) << f.name;
  }
  // The report starts with the marker line, and `line` numbers it.
  LineAssembler la;
  auto lines = la.feed(f.body);
  for (auto& l : la.finish()) lines.push_back(l);
  ASSERT_GE(lines.size(), first.line);
  ASSERT_GE(first.line, 1u);
  EXPECT_EQ(first.report.substr(0, first.report.find('\n')), lines[first.line - 1]) << f.name;
}

TEST_P(ConsoleFixture, ChunkingDoesNotChangeTheResult) {
  const Fixture f = load(GetParam());
  const auto whole = scan_bytes(f.body);
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto chunked = scan_in_chunks(f.body, seed);
    ASSERT_EQ(chunked.size(), whole.size()) << f.name << " seed " << seed;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(chunked[i].kind, whole[i].kind);
      EXPECT_EQ(chunked[i].title, whole[i].title);
      EXPECT_EQ(chunked[i].line, whole[i].line);
      EXPECT_EQ(chunked[i].report, whole[i].report);
    }
  }
}

// The whole corpus at once, as `numasoak scan tests/fixtures/consoles/*.log` would see it: one list of
// every file whose first failure (kind, title) or clean verdict differs from its header, and the
// detector's throughput in MB/s of console text (printed, not asserted: the machine is shared).
TEST(ConsoleFixtures, CorpusGivesEveryFileItsHeader) {
  std::vector<Fixture> fixtures;
  for (const auto& p : fixture_paths()) fixtures.push_back(load(p));
  std::vector<std::string> mismatches;
  size_t crash_files = 0, clean_files = 0, bytes = 0;
  for (const auto& f : fixtures) {
    bytes += f.body.size();
    const auto failures = scan_bytes(f.body);
    const std::string& kind = f.header.at("kind");
    if (kind == "none") {
      ++clean_files;
      if (!failures.empty()) mismatches.push_back(f.name + ": clean, got " + failures[0].kind + " '" + failures[0].title + "'");
      continue;
    }
    ++crash_files;
    if (failures.empty()) {
      mismatches.push_back(f.name + ": expected " + kind + ", got nothing");
    } else if (failures[0].kind != kind || failures[0].title != f.header.at("title")) {
      mismatches.push_back(f.name + ": expected " + kind + " '" + f.header.at("title") + "', got " + failures[0].kind +
                           " '" + failures[0].title + "'");
    }
  }
  std::string list;
  for (const auto& m : mismatches) list += "\n  " + m;
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches:" << list;

  // Throughput: the corpus, repeated to about 16 MB so the figure is not noise.
  std::string text;
  while (text.size() < (16u << 20)) {
    for (const auto& f : fixtures) text += f.body;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto found = scan_bytes(text);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mb_per_s = static_cast<double>(text.size()) / 1e6 / s;
  std::cout << "[ corpus   ] " << fixtures.size() << " files (" << crash_files << " with a crash, " << clean_files
            << " clean, " << bytes / 1024 << " KiB), " << mismatches.size() << " mismatches\n"
            << "[ scan     ] " << text.size() / 1000000 << " MB of console text in " << s << " s: " << mb_per_s
            << " MB/s (" << found.size() << " failures)" << std::endl;
  RecordProperty("scan_mb_per_s", std::to_string(mb_per_s));
}

// Detection latency, host side: a crash fixture replayed line by line (one read per line, as the serial
// console delivers them), through the same LineAssembler -> Detector -> take_markers() steps as
// run/run.cpp's on_console(); from the read that completes the marker line to the detector having
// flagged it (take_markers() returns it: the run stops its exposure clock there). Median over the
// first marker of every crash file. The report itself completes `report_window` (5 s) of host time
// later (or at report_max_lines), which is not part of this figure and is printed beside it.
TEST(ConsoleFixtures, MarkerIsFlaggedByTheReadThatCompletesItsLine) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> latency_us;
  for (const auto& p : fixture_paths()) {
    const Fixture f = load(p);
    if (f.header.at("kind") == "none") continue;
    const auto whole = scan_bytes(f.body);
    if (whole.empty()) continue;  // CorpusGivesEveryFileItsHeader reports it
    LineAssembler la;
    Detector d;
    std::optional<double> flagged_us;
    std::uint64_t flagged_line = 0;
    Duration host{0};
    for (size_t at = 0; at < f.body.size() && !flagged_us;) {
      const size_t nl = f.body.find('\n', at);
      const size_t end = nl == std::string::npos ? f.body.size() : nl + 1;
      const std::string_view read = std::string_view(f.body).substr(at, end - at);
      at = end;
      host += std::chrono::milliseconds(1);
      const auto t0 = Clock::now();
      la.feed(read, [&](std::string_view line) { d.feed(line, host); });
      const auto markers = d.take_markers();
      const auto t1 = Clock::now();
      if (!markers.empty()) {
        flagged_us = std::chrono::duration<double, std::micro>(t1 - t0).count();
        flagged_line = markers.front().line;
      }
    }
    ASSERT_TRUE(flagged_us.has_value()) << f.name << ": no marker while replaying line by line";
    // Flagged by the read of the first failure's own marker line, not by a later one.
    EXPECT_EQ(flagged_line, whole.front().line) << f.name;
    EXPECT_EQ(d.lines(), whole.front().line) << f.name << ": the marker was flagged only after later lines";
    latency_us.push_back(*flagged_us);
  }
  ASSERT_GE(latency_us.size(), 10u);
  std::sort(latency_us.begin(), latency_us.end());
  const double median = latency_us[latency_us.size() / 2];
  std::cout << "[ latency  ] marker line complete at the host -> flagged by the detector: median " << median
            << " us, max " << latency_us.back() << " us over " << latency_us.size()
            << " crash files (the report then completes after the "
            << std::chrono::duration_cast<std::chrono::seconds>(DetectorOptions{}.report_window).count()
            << " s report window or " << DetectorOptions{}.report_max_lines << " lines)" << std::endl;
  RecordProperty("marker_latency_median_us", std::to_string(median));
}

std::string param_name(const ::testing::TestParamInfo<fs::path>& info) {
  std::string n = info.param.stem().string();
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Consoles, ConsoleFixture, ::testing::ValuesIn(fixture_paths()), param_name);

}  // namespace
}  // namespace numasoak::console
