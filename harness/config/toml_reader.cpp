#include "config/toml_reader.h"

namespace numasoak {

std::string ConfigIssue::to_string() const {
  std::string out;
  if (where.known()) out = where.to_string() + ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

namespace {
std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (size_t i = 0; i < issues.size(); ++i) {
    if (i) out += "\n";
    out += issues[i].to_string();
  }
  return out;
}
}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigIssue> issues)
    : Error(ErrorKind::kUsage, join_issues(issues)), issues_(std::move(issues)) {}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// Parses TOML text, turning a syntax error into a located issue.
std::optional<toml::table> parse_toml(const std::string& text, const std::string& display, std::vector<ConfigIssue>& issues) {
  try {
    return toml::parse(text, display);
  } catch (const toml::parse_error& e) {
    issues.push_back({{display, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
                      "",
                      fmt::format("not valid TOML: {}", e.description()),
                      ""});
    return std::nullopt;
  }
}

void sort_issues(std::vector<ConfigIssue>& issues) {
  std::stable_sort(issues.begin(), issues.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
    if (a.where.file != b.where.file) return a.where.file < b.where.file;
    if (a.where.line != b.where.line) return a.where.line < b.where.line;
    return a.where.column < b.where.column;
  });
}

}  // namespace numasoak
