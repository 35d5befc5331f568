// numasoak: the command-line entry point. Verbs live in verb_*.cpp.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/verb.h"

namespace numasoak::cli {
namespace {

struct Entry {
  int order;
  VerbSetup setup;
};

std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  ran, and no kernel failure was found\n"
    "  1  a kernel failure was found (bad pmd, panic, oops, hang, lost memory)\n"
    "  2  usage or configuration error\n"
    "  3  infrastructure error (QEMU, libvirt, a kernel build or the disk broke)\n";

}  // namespace

VerbRegistration::VerbRegistration(int order, VerbSetup setup) { registry().push_back({order, std::move(setup)}); }

int main(int argc, char** argv) {
  // A closed stdout (numasoak ... | head) must give an error, not kill us.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{
      "numasoak: boots kernel builds in multi-node NUMA guests, stresses THP migration against NUMA\n"
      "balancing, flags bad pmd / panics / oopses / hangs / lost memory, and compares builds."};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("numasoak ") + NUMASOAK_VERSION);

  Globals globals;
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Show debug messages");
  app.add_flag("-q,--quiet", quiet, "Show only warnings and errors");

  auto& entries = registry();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  Command root(&app);
  std::vector<std::pair<CLI::App*, VerbAction>> verbs;
  for (auto& e : entries) {
    const size_t before = app.get_subcommands({}).size();
    VerbAction action = e.setup(root, globals);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) verbs.emplace_back(subs.back(), std::move(action));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }

  globals.verbosity = verbose ? Verbosity::kVerbose : quiet ? Verbosity::kQuiet : Verbosity::kNormal;
  init_logging(globals.verbosity);

  for (auto& [cmd, action] : verbs) {
    if (!cmd->parsed()) continue;
    try {
      const ExitCode rc = action();
      // Every verb's output is flushed here, so a closed or full stdout
      // (`numasoak kernel list --json | head -c0`, a full disk) is an error
      // with a message and exit 3, never exit 0 with the output lost.
      std::cout.flush();
      if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
        const int err = errno;
        std::cerr << "numasoak: error: cannot write to standard output: " << (err != 0 ? std::strerror(err) : "write failed") << "\n";
        return static_cast<int>(ExitCode::kInfrastructure);
      }
      return static_cast<int>(rc);
    } catch (const Error& e) {
      std::fflush(stdout);
      // Multi-line errors (a config file with several problems) get the
      // prefix on every line so each stays greppable.
      std::string text = e.what();
      size_t start = 0;
      while (start <= text.size()) {
        const size_t end = text.find('\n', start);
        std::cerr << "numasoak: error: " << text.substr(start, end - start) << "\n";
        if (end == std::string::npos) break;
        start = end + 1;
      }
      return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::cerr << "numasoak: internal error: " << e.what() << "\n";
      return static_cast<int>(ExitCode::kInfrastructure);
    }
  }
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace numasoak::cli

int main(int argc, char** argv) { return numasoak::cli::main(argc, argv); }
