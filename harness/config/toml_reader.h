// TomlReader: reading one TOML document into typed values while collecting
// every problem as a located ConfigIssue (file:line:column, key, message,
// hint) instead of stopping at the first: a user fixing a file wants the
// whole list. Knows TOML and the value types (durations, sizes, enums), not
// any schema: config/campaign.cpp's loader reads the campaign and kernel
// library schema through it.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "config/campaign.h"

namespace numasoak {

/// Typed, located reads of one TOML document; problems go to `issues`.
class TomlReader {
 public:
  TomlReader(std::string display, std::filesystem::path base_dir)
      : display_(std::move(display)), base_dir_(std::move(base_dir)) {}

  std::vector<ConfigIssue> issues;

  SourceLocation loc(const toml::node* n) const {
    if (n && n->source().begin.line > 0) {
      return {display_, static_cast<int>(n->source().begin.line), static_cast<int>(n->source().begin.column)};
    }
    return {display_, 0, 0};
  }
  SourceLocation loc_or(const toml::node* n, const SourceLocation& fallback) const {
    auto l = loc(n);
    return l.line > 0 ? l : fallback;
  }

  void issue(const toml::node* n, std::string key, std::string message, std::string hint = {}) {
    issues.push_back({loc(n), std::move(key), std::move(message), std::move(hint)});
  }
  void issue_at(SourceLocation where, std::string key, std::string message, std::string hint = {}) {
    issues.push_back({std::move(where), std::move(key), std::move(message), std::move(hint)});
  }

  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

  // Unknown keys are errors, with the closest valid key as a hint.
  void check_keys(const toml::table& t, const std::string& prefix, const std::vector<std::string>& allowed) {
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string near = closest_match(key, allowed);
      issues.push_back({(v.is_table() || loc_key(k).line == 0) ? loc_or(&v, loc_key(k)) : loc_key(k), join(prefix, key), "unknown key",
                        near.empty() ? "valid keys: " + list(allowed) : "did you mean '" + near + "'?"});
    }
  }

  SourceLocation loc_key(const toml::key& k) const {
    if (k.source().begin.line > 0) {
      return {display_, static_cast<int>(k.source().begin.line), static_cast<int>(k.source().begin.column)};
    }
    return {display_, 0, 0};
  }

  static std::string list(const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out;
  }

  static const char* type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::date: return "a date";
      case toml::node_type::time: return "a time";
      case toml::node_type::date_time: return "a date-time";
      default: return "nothing";
    }
  }

  void type_issue(const toml::node& n, const std::string& key, const char* expected) {
    issue(&n, key, fmt::format("expected {}, got {}", expected, type_name(n)));
  }

  std::optional<std::string> get_string(const toml::table& t, const std::string& prefix, const std::string& key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto s = n->value<std::string>(); s && n->is_string()) return *s;
    type_issue(*n, join(prefix, key), "a string");
    return std::nullopt;
  }

  std::optional<bool> get_bool(const toml::table& t, const std::string& prefix, const std::string& key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (n->is_boolean()) return *n->value<bool>();
    type_issue(*n, join(prefix, key), "true or false");
    return std::nullopt;
  }

  std::optional<std::int64_t> get_int(const toml::table& t, const std::string& prefix, const std::string& key,
                                      std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) {
      type_issue(*n, join(prefix, key), "an integer");
      return std::nullopt;
    }
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < min || v > max) {
      issue(n, join(prefix, key), fmt::format("{} is out of range {}..{}", v, min, max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> get_double(const toml::table& t, const std::string& prefix, const std::string& key,
                                   double min, double max) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) {
      type_issue(*n, join(prefix, key), "a number");
      return std::nullopt;
    }
    const double v = *n->value<double>();
    if (!(v >= min && v <= max)) {
      issue(n, join(prefix, key), fmt::format("{} is out of range {}..{}", v, min, max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<Duration> get_duration(const toml::table& t, const std::string& prefix, const std::string& key,
                                       Duration min, Duration max) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) {
      issue(n, join(prefix, key), fmt::format("expected a duration string like \"90s\", \"10m\" or \"2h\", got {}", type_name(*n)));
      return std::nullopt;
    }
    const std::string text = *n->value<std::string>();
    auto d = parse_duration(text);
    if (!d) {
      issue(n, join(prefix, key), fmt::format("\"{}\" is not a duration", text), "use a number and a unit: 500ms, 90s, 10m, 2h, 1d");
      return std::nullopt;
    }
    if (*d < min || *d > max) {
      issue(n, join(prefix, key), fmt::format("{} is out of range {}..{}", text, format_duration(min), format_duration(max)));
      return std::nullopt;
    }
    return d;
  }

  std::optional<Bytes> get_bytes(const toml::table& t, const std::string& prefix, const std::string& key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) {
      issue(n, join(prefix, key), fmt::format("expected a size string like \"512M\" or \"1G\", got {}", type_name(*n)));
      return std::nullopt;
    }
    const std::string text = *n->value<std::string>();
    auto b = parse_bytes(text);
    if (!b) {
      issue(n, join(prefix, key), fmt::format("\"{}\" is not a size", text), "use a number and a unit: 512M, 1G");
      return std::nullopt;
    }
    if (b->value == 0) {
      issue(n, join(prefix, key), "must be more than 0");
      return std::nullopt;
    }
    return b;
  }

  std::optional<std::vector<std::string>> get_string_array(const toml::table& t, const std::string& prefix,
                                                           const std::string& key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    const toml::array* arr = n->as_array();
    if (!arr) {
      type_issue(*n, join(prefix, key), "an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& el : *arr) {
      if (!el.is_string()) {
        issue(&el, join(prefix, key), fmt::format("expected strings in the array, got {}", type_name(el)));
        ok = false;
        continue;
      }
      out.push_back(*el.value<std::string>());
    }
    if (!ok) return std::nullopt;
    return out;
  }

  const toml::table* get_table(const toml::table& t, const std::string& prefix, const std::string& key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      type_issue(*n, join(prefix, key), "a table");
      return nullptr;
    }
    return n->as_table();
  }

  std::filesystem::path resolve(const std::string& p) const {
    std::filesystem::path path(p);
    if (path.is_relative()) path = base_dir_ / path;
    return path.lexically_normal();
  }

  template <typename E>
  std::optional<E> get_enum(const toml::table& t, const std::string& key, const std::vector<std::pair<std::string, E>>& values) {
    auto v = get_string(t, "", key);
    if (!v) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& [n, e] : values) {
      if (n == *v) return e;
      names.push_back(n);
    }
    const std::string near = closest_match(*v, names);
    issue(t.get(key), key, fmt::format("\"{}\" is not one of {}", *v, list(names)),
          near.empty() ? "" : "did you mean '" + near + "'?");
    return std::nullopt;
  }

 protected:
  std::string display_;
  std::filesystem::path base_dir_;
};

// Parses TOML text, turning a syntax error into a located issue.
std::optional<toml::table> parse_toml(const std::string& text, const std::string& display, std::vector<ConfigIssue>& issues);

// Sorts issues by file, line and column.
void sort_issues(std::vector<ConfigIssue>& issues);

}  // namespace numasoak
