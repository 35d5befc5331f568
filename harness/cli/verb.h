// Verb: one `numasoak <verb>` subcommand.
//
// Each verb lives in its own file and registers itself with a static
// VerbRegistration, so adding a verb touches no other file. main() builds the
// CLI11 app from the registry in `order`, parses, and runs the chosen verb.
// Verbs declare their flags through Command (cli/command.h), not CLI11.
#pragma once

#include <functional>
#include <string>

#include "cli/command.h"
#include "common/error.h"
#include "common/log.h"

namespace numasoak::cli {

/// Options every verb shares (set before the verb runs).
struct Globals {
  Verbosity verbosity = Verbosity::kNormal;
  bool json = false;  // print results as JSON on stdout
};

// A verb adds its subcommand to `app` and returns what to run when chosen.
// The action returns the process exit code; it reports errors by throwing
// numasoak::Error (main prints them as one line and maps the exit code).
using VerbAction = std::function<ExitCode()>;
using VerbSetup = std::function<VerbAction(Command& app, const Globals& globals)>;

/// Registers one verb with main()'s CLI: a static in its verb_<name>.cpp, placed in --help by `order`.
struct VerbRegistration {
  VerbRegistration(int order, VerbSetup setup);
};

}  // namespace numasoak::cli
