// The harness/ source tree, for the tests that read the code itself
// (include_graph_test, doc_line_test): where it is, and a file's text.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace numasoak::test {

// <source>/harness, found from the fixtures folder (<source>/tests/fixtures).
inline const std::filesystem::path kHarness =
    std::filesystem::path(NUMASOAK_FIXTURES).parent_path().parent_path() / "harness";

// The whole text of a file ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace numasoak::test
