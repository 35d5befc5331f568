// `numasoak kernel list` and `numasoak kernel build NAME...`: the kernel
// library (configs/kernels.toml, plus a campaign's [kernel.NAME] tables) and
// the content-addressed build cache (kernel/build.h).
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/verb.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "config/campaign.h"
#include "kernel/build.h"

namespace numasoak::cli {
namespace {

using json = nlohmann::json;

std::string source_text(const KernelSpec& s) {
  switch (s.kind) {
    case KernelSourceKind::kDebianSource: return "debian:" + s.package;
    case KernelSourceKind::kDebianImage: return "debian-image:" + s.package;
    case KernelSourceKind::kTree:
    case KernelSourceKind::kBzImage: return s.path.string();
  }
  return "?";
}

std::string size_text(Bytes b) { return fmt::format("{:.1f} MiB", static_cast<double>(b.value) / (1 << 20)); }

std::map<std::string, KernelSpec> known_kernels(const std::string& campaign) {
  if (!campaign.empty()) return load_campaign(campaign).kernels;
  return load_kernel_library();
}

json artifact_json(const KernelArtifact& a) {
  return {{"name", a.name},       {"bzimage", a.bzimage.string()}, {"dir", a.dir.string()},
          {"key", a.key},         {"release", a.release},          {"banner", a.banner},
          {"size", a.size.value}, {"cache_hit", a.cache_hit},       {"seconds", seconds(a.elapsed)}};
}

// Shows build progress on stderr: one rewritten status line on a terminal,
// plain lines (phase changes, and compile counts every 15 s) otherwise.
class ProgressView {
 public:
  explicit ProgressView(std::string name) : name_(std::move(name)), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressView() { finish(); }
  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

  void operator()(const BuildProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool phase_changed = p.phase != last_phase_;
    std::string text = fmt::format("[{}] {}", name_, to_string(p.phase));
    if (p.phase == BuildPhase::kCompiling || p.phase == BuildPhase::kLinking) {
      text += p.total > 0 ? fmt::format(" {}/{}", p.done, p.total) : fmt::format(" {}", p.done);
    }
    if (!p.detail.empty()) text += " " + terminal_safe(p.detail);
    text += fmt::format("  {}", format_duration(std::chrono::duration_cast<Duration>(now - start_)));
    if (tty_) {
      if (!phase_changed && now - last_print_ < std::chrono::milliseconds(100)) return;
      if (text.size() > 150) text = text.substr(0, 150);
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      std::fflush(stderr);
      dirty_ = true;
    } else {
      // The closing summary line says where it ended; a cache hit needs no more.
      if (p.phase == BuildPhase::kResolving || p.phase == BuildPhase::kDone) return;
      const bool counting = p.phase == BuildPhase::kCompiling || p.phase == BuildPhase::kLinking;
      if (!phase_changed && !(p.phase == BuildPhase::kPatching) &&
          !(counting && now - last_print_ >= std::chrono::seconds(15)))
        return;
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    last_print_ = now;
    last_phase_ = p.phase;
  }

  void finish() {
    if (tty_ && dirty_) std::fprintf(stderr, "\r\033[K");
    dirty_ = false;
  }

 private:
  std::string name_;
  bool tty_;
  bool dirty_ = false;
  BuildPhase last_phase_ = BuildPhase::kDone;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_print_{};
};

struct KernelArgs {
  std::string campaign;
  bool json = false;
  int jobs = 0;
  bool force = false;
  std::vector<std::string> names;
};

ExitCode list_kernels(const KernelArgs& args) {
  const auto kernels = known_kernels(args.campaign);
  json out = json::array();
  std::vector<std::vector<std::string>> rows{{"NAME", "SOURCE", "PATCHES", "AMP", "CACHED"}};
  for (const auto& [name, spec] : kernels) {
    std::string patches;
    for (const auto& p : spec.patches) patches += (patches.empty() ? "" : ",") + p;
    std::string cached = "no";
    json entry = {{"name", name},         {"source", source_text(spec)}, {"patches", spec.patches},
                  {"fragments", spec.fragments}, {"amplifier", spec.amplifier}, {"description", spec.description},
                  {"cached", false}};
    try {
      if (auto a = find_cached_kernel(spec)) {
        cached = fmt::format("{} {}", a->release, a->bzimage.string());
        entry["cached"] = true;
        entry["bzimage"] = a->bzimage.string();
        entry["release"] = a->release;
        if (a->manifest.contains("source")) entry["version"] = a->manifest["source"].value("version", "");
      }
    } catch (const Error& e) {
      cached = "error: " + e.message();
      entry["error"] = e.message();
    }
    out.push_back(entry);
    rows.push_back({name, source_text(spec), patches.empty() ? "-" : patches, spec.amplifier ? "yes" : "no", cached});
  }
  if (args.json) {
    std::cout << out.dump(2) << "\n";
    return ExitCode::kOk;
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i + 1 < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
    std::cout << line << "\n";
  }
  return ExitCode::kOk;
}

ExitCode build_kernels(const KernelArgs& args) {
  const auto kernels = known_kernels(args.campaign);
  std::vector<std::string> names;
  for (const auto& [n, s] : kernels) names.push_back(n);
  for (const auto& n : args.names) {
    if (kernels.count(n)) continue;
    const std::string near = closest_match(n, names);
    throw usage_error(fmt::format("unknown kernel '{}'", n),
                      near.empty() ? fmt::format("known: {}", fmt::join(names, ", ")) : "did you mean '" + near + "'?");
  }
  json out = json::array();
  for (const auto& n : args.names) {
    ProgressView view(n);
    BuildOptions options;
    options.jobs = args.jobs;
    options.force = args.force;
    options.progress = [&view](const BuildProgress& p) { view(p); };
    KernelArtifact a = build_kernel(kernels.at(n), options);
    view.finish();
    if (args.json) {
      out.push_back(artifact_json(a));
    } else {
      std::cout << fmt::format("{}: {}  {}  {}  {} {}\n", n, a.bzimage.string(), size_text(a.size),
                               a.release.empty() ? "?" : a.release, a.cache_hit ? "cached," : "built in",
                               format_duration(a.elapsed));
      std::cout.flush();
    }
  }
  if (args.json) std::cout << out.dump(2) << "\n";
  return ExitCode::kOk;
}

const VerbRegistration kRegistration(20, [](Command& app, const Globals&) -> VerbAction {
  auto args = std::make_shared<KernelArgs>();
  Command kernel = app.subcommand("kernel", "List, build and cache the guest kernels");
  kernel.require_subcommand();
  Command list = kernel.subcommand("list", "Show the known kernels and whether each is built");
  list.option("--campaign", args->campaign, "Also the [kernel.NAME] tables of this campaign file");
  list.flag("--json", args->json, "Print JSON on stdout");
  Command build = kernel.subcommand("build", "Build kernels (or find them in the cache)");
  build.option("names", args->names, "Kernel names (configs/kernels.toml or the campaign)").required();
  build.option("--campaign", args->campaign, "Also the [kernel.NAME] tables of this campaign file");
  build.flag("--json", args->json, "Print the artifacts as JSON on stdout");
  build.option("-j,--jobs", args->jobs, "Parallel make jobs (default: all cores)").range(1, 1024);
  build.flag("--force", args->force, "Rebuild even when the cache has it");
  return [args, list, build]() -> ExitCode {
    if (list.parsed()) return list_kernels(*args);
    if (build.parsed()) return build_kernels(*args);
    return ExitCode::kUsage;
  };
});

}  // namespace
}  // namespace numasoak::cli
