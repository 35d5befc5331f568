// Logging: spdlog to stderr for people, plus an optional per-campaign file.
#pragma once

#include <filesystem>
#include <spdlog/spdlog.h>

namespace numasoak {

/// How much the logger prints on stderr: --quiet (warnings and errors), normal, --verbose.
enum class Verbosity { kQuiet, kNormal, kVerbose };

// Sets up the default logger: human-readable lines on stderr at the level the
// verbosity asks for (quiet = warnings and errors only).
void init_logging(Verbosity v);

// Adds a file sink that records everything at debug level (a campaign's
// numasoak.log). Safe to call more than once with the same path.
void add_log_file(const std::filesystem::path& path);

}  // namespace numasoak
