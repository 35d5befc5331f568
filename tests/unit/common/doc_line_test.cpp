// Every type declared in a header under harness/ (struct, class, union,
// enum, nested ones too) has a `///` line right above it saying what it is
// (DEVELOPERS.md: types say what they are). A `template <...>` line may stand
// between the two; forward declarations need none.
//
// The checker is pure (a header's text in, undocumented type names out) and
// is tested on a synthetic header first, so a pattern that silently matches
// nothing fails here too.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "unit/common/harness_tree.h"

namespace numasoak {
namespace {

namespace fs = std::filesystem;

/// A type definition found in a header: its name and 1-based line.
struct TypeDecl {
  std::string name;
  int line = 0;
};

bool starts_with_trimmed(const std::string& line, const std::string& prefix) {
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0;
}

/// The types `text` defines without a `///` line right above them.
std::vector<TypeDecl> undocumented_types(const std::string& text) {
  static const std::regex kHead(
      R"(^\s*(?:template\s*<.*>\s*)?(?:struct|class|union|enum(?:\s+(?:class|struct))?)\s+(?:\[\[[^\]]*\]\]\s*)?([A-Za-z_]\w*)(.*)$)");
  // What may follow the name in a definition: final, a base or an enum's
  // underlying type, then the body or a comment (not ';': a declaration, or
  // a variable of an elaborated type).
  static const std::regex kRest(R"(^\s*(?:final\b)?\s*(?::[^;{]*)?\s*(?:\{.*|//.*)?$)");
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<TypeDecl> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, kHead)) continue;
    const std::string rest = m[2].str();
    if (!std::regex_match(rest, kRest)) continue;
    size_t above = i;
    while (above > 0 && starts_with_trimmed(lines[above - 1], "template")) --above;
    if (above == 0 || !starts_with_trimmed(lines[above - 1], "///")) {
      out.push_back({m[1].str(), static_cast<int>(i + 1)});
    }
  }
  return out;
}

using test::kHarness;
using test::read_text;


std::vector<std::string> names(const std::vector<TypeDecl>& v) {
  std::vector<std::string> out;
  for (const auto& t : v) out.push_back(t.name);
  return out;
}

TEST(DocLines, CheckerFindsUndocumentedTypes) {
  const std::string header = R"(#pragma once
namespace x {
class Forward;
struct Documented;
/// Says what it is.
struct Documented {
  enum class Inner { kA, kB };
  /// Documented nested type.
  struct Nested {};
  struct stat st;
};
// An ordinary comment is not a doc line.
class Plain final : public Base {
 public:
};
/// A template's line may stand above its template line.
template <typename T>
struct Box {
  T value;
};
template <typename T>
struct Bare {};
enum Old : int { kOne };
/// Documented enum.
enum class Flag : std::uint8_t { kOn, kOff };
union Bits {  // a trailing comment does not document it
};
}  // namespace x
)";
  const auto found = undocumented_types(header);
  EXPECT_EQ(names(found), (std::vector<std::string>{"Inner", "Plain", "Bare", "Old", "Bits"}));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front().line, 7);
}

TEST(DocLines, EveryHarnessTypeHasOne) {
  std::map<std::string, std::vector<TypeDecl>> missing;
  int headers = 0;
  for (const auto& e : fs::recursive_directory_iterator(kHarness)) {
    if (!e.is_regular_file() || e.path().extension() != ".h") continue;
    ++headers;
    const std::string file = fs::relative(e.path(), kHarness).generic_string();
    auto found = undocumented_types(read_text(e.path()));
    if (!found.empty()) missing[file] = std::move(found);
  }
  ASSERT_GT(headers, 50) << "no headers found under " << kHarness;
  for (const auto& [file, types] : missing) {
    for (const auto& t : types) {
      ADD_FAILURE() << "harness/" << file << ":" << t.line << ": type " << t.name
                    << " has no /// line saying what it is";
    }
  }
}

}  // namespace
}  // namespace numasoak
