#include "cli/command.h"

#include <CLI/CLI.hpp>

namespace numasoak::cli {

Opt& Opt::required() {
  option_->required();
  return *this;
}

Opt& Opt::show_default() {
  option_->capture_default_str();
  return *this;
}

Opt& Opt::range(long long min, long long max) {
  option_->check(CLI::Range(min, max));
  return *this;
}

Opt& Opt::one_of(std::initializer_list<const char*> values) {
  option_->check(CLI::IsMember(std::vector<std::string>(values.begin(), values.end())));
  return *this;
}

Command Command::subcommand(const std::string& name, const std::string& description) {
  return Command(app_->add_subcommand(name, description));
}

void Command::footer(const std::string& text) { app_->footer(text); }

void Command::require_subcommand() { app_->require_subcommand(1); }

bool Command::parsed() const { return app_->parsed(); }

Opt Command::flag(const std::string& names, bool& value, const std::string& help) {
  return Opt(app_->add_flag(names, value, help));
}

Opt Command::option(const std::string& names, std::string& value, const std::string& help) {
  return Opt(app_->add_option(names, value, help));
}

Opt Command::option(const std::string& names, int& value, const std::string& help) {
  return Opt(app_->add_option(names, value, help));
}

Opt Command::option(const std::string& names, std::size_t& value, const std::string& help) {
  return Opt(app_->add_option(names, value, help));
}

Opt Command::option(const std::string& names, double& value, const std::string& help) {
  return Opt(app_->add_option(names, value, help));
}

Opt Command::option(const std::string& names, std::optional<int>& value, const std::string& help) {
  return Opt(app_->add_option(names, value, help));
}

Opt Command::option(const std::string& names, std::vector<std::string>& values, const std::string& help) {
  return Opt(app_->add_option(names, values, help));
}

Opt Command::option(const std::string& names, std::vector<int>& values, const std::string& help) {
  return Opt(app_->add_option(names, values, help));
}

}  // namespace numasoak::cli
