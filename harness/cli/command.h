// Command: the flags and options of one `numasoak` (sub)command, declared by
// a verb without CLI11 in the verb's translation unit.
//
// Why: CLI11 2.1 is header-only and its validators are objects built in every
// file that includes it, about 5 s of compile per file here; with CLI11 in
// each verb it was the heaviest header of the CLI's files. Command only
// forwards to CLI11 (command.cpp and main.cpp include it): it parses nothing
// itself and adds no behaviour.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace numasoak::cli {

/// An option just added, to chain its requirements on.
class Opt {
 public:
  explicit Opt(CLI::Option* option) : option_(option) {}
  Opt& required();
  Opt& show_default();                                  // "(default: ...)" in --help
  Opt& range(long long min, long long max);            // integers only
  Opt& one_of(std::initializer_list<const char*> values);

 private:
  CLI::Option* option_;
};

/// One command of the command line: `numasoak` itself or a subcommand.
class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}

  Command subcommand(const std::string& name, const std::string& description);
  void footer(const std::string& text);
  void require_subcommand();  // exactly one of its subcommands must be given
  bool parsed() const;  // after parsing: was this command given

  // `names` as CLI11 spells them: "-o,--output", or "file" for a positional.
  Opt flag(const std::string& names, bool& value, const std::string& help);
  Opt option(const std::string& names, std::string& value, const std::string& help);
  Opt option(const std::string& names, int& value, const std::string& help);
  Opt option(const std::string& names, std::size_t& value, const std::string& help);
  Opt option(const std::string& names, double& value, const std::string& help);
  Opt option(const std::string& names, std::optional<int>& value, const std::string& help);
  Opt option(const std::string& names, std::vector<std::string>& values, const std::string& help);
  Opt option(const std::string& names, std::vector<int>& values, const std::string& help);

  CLI::App* app() const { return app_; }

 private:
  CLI::App* app_;
};

}  // namespace numasoak::cli
