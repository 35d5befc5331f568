// Error: what went wrong, where, and what to do about it, in one line.
//
// Every error that reaches a user is one of these. The kind decides the exit
// code (see ExitCode); the location names a file:line:column when the error
// is about an input file; the hint says what to do next.
#pragma once

#include <stdexcept>
#include <string>

namespace numasoak {

/// Process exit codes, documented in `numasoak --help` and the README.
enum class ExitCode : int {
  kOk = 0,              // ran, and no kernel failure was found
  kKernelFailure = 1,   // a kernel failure was found
  kUsage = 2,           // usage or configuration error
  kInfrastructure = 3,  // QEMU, libvirt, a build or the disk broke
};

/// Whose side an Error is on: the user's input or the harness's own tools; it decides the exit code.
enum class ErrorKind {
  kUsage,           // bad command line, bad config file, bad input path
  kInfrastructure,  // the harness's tools or environment broke
};

/// Where in a user's file an error is: file, line and column when known.
struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown

  bool known() const { return !file.empty(); }
  // "file:line:col", "file:line" or "file".
  std::string to_string() const;
};

/// The one error type that reaches a user: one line, a hint, where in their file; its kind gives the exit code.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {}, SourceLocation where = {});

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  const SourceLocation& where() const { return where_; }
  ExitCode exit_code() const {
    return kind_ == ErrorKind::kUsage ? ExitCode::kUsage : ExitCode::kInfrastructure;
  }

 private:
  static std::string compose(const std::string& message, const std::string& hint, const SourceLocation& where);
  ErrorKind kind_;
  std::string message_;
  std::string hint_;
  SourceLocation where_;
};

inline Error usage_error(std::string message, std::string hint = {}, SourceLocation where = {}) {
  return Error(ErrorKind::kUsage, std::move(message), std::move(hint), std::move(where));
}
inline Error infra_error(std::string message, std::string hint = {}, SourceLocation where = {}) {
  return Error(ErrorKind::kInfrastructure, std::move(message), std::move(hint), std::move(where));
}

}  // namespace numasoak
