// JsonLine: builds one JSON object on one line for the agent channel.
// Small on purpose (the guest stays free of big dependencies): objects,
// strings (escaped, control characters as \u00XX), integers, booleans.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace numasoak::guest {

class JsonLine {
 public:
  JsonLine() { out_ = "{"; }

  JsonLine& str(std::string_view key, std::string_view value);
  JsonLine& num(std::string_view key, std::int64_t value);
  JsonLine& unum(std::string_view key, std::uint64_t value);
  JsonLine& boolean(std::string_view key, bool value);
  // `json` must already be valid JSON (a nested object or array).
  JsonLine& raw(std::string_view key, std::string_view json);

  // The finished line, with the closing brace and a '\n'.
  std::string line() const { return out_ + "}\n"; }
  // The closed object without the newline, to nest with raw().
  std::string object() const { return out_ + "}"; }

  static std::string quote(std::string_view s);

 private:
  void key(std::string_view k);
  std::string out_;
  bool first_ = true;
};

}  // namespace numasoak::guest
