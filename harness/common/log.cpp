#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace numasoak {

namespace {
std::shared_ptr<spdlog::sinks::basic_file_sink_mt> g_file_sink;
std::filesystem::path g_file_path;
}  // namespace

void init_logging(Verbosity v) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^%l%$: %v");
  switch (v) {
    case Verbosity::kQuiet: console->set_level(spdlog::level::warn); break;
    case Verbosity::kNormal: console->set_level(spdlog::level::info); break;
    case Verbosity::kVerbose: console->set_level(spdlog::level::debug); break;
  }
  auto logger = std::make_shared<spdlog::logger>("numasoak", console);
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void add_log_file(const std::filesystem::path& path) {
  if (g_file_sink && g_file_path == path) return;
  g_file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), false);
  g_file_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  g_file_sink->set_level(spdlog::level::debug);
  g_file_path = path;
  spdlog::default_logger()->sinks().push_back(g_file_sink);
  spdlog::default_logger()->flush_on(spdlog::level::info);
}

}  // namespace numasoak
