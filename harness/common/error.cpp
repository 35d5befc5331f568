#include "common/error.h"

#include <fmt/format.h>

namespace numasoak {

std::string SourceLocation::to_string() const {
  if (line > 0 && column > 0) return fmt::format("{}:{}:{}", file, line, column);
  if (line > 0) return fmt::format("{}:{}", file, line);
  return file;
}

Error::Error(ErrorKind kind, std::string message, std::string hint, SourceLocation where)
    : std::runtime_error(compose(message, hint, where)),
      kind_(kind),
      message_(std::move(message)),
      hint_(std::move(hint)),
      where_(std::move(where)) {}

std::string Error::compose(const std::string& message, const std::string& hint, const SourceLocation& where) {
  std::string out;
  if (where.known()) out = where.to_string() + ": ";
  out += message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

}  // namespace numasoak
