// The .config of a compiled build: Kconfig runs, reuse, check
// (kernel/configure.h).
#include "kernel/configure.h"

#include <fmt/format.h>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/kconfig.h"
#include "kernel/make.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

namespace {

// Every fragment request must be in obj/.config as asked.
void check_config(const BuildInputs& in, const fs::path& obj) {
  std::vector<KconfigRequest> requests;
  for (const auto& f : in.fragments) {
    auto r = parse_fragment(read_file(f.path), f.label);
    requests.insert(requests.end(), r.begin(), r.end());
  }
  const auto final_config = parse_config(read_file(obj / ".config"));
  auto unmet = unmet_requests(requests, final_config);
  if (!unmet.empty()) {
    throw infra_error(fmt::format("kernel {}: {}", in.spec.name, describe_unmet(unmet, final_config)),
                      "config: " + (obj / ".config").string());
  }
}

// tinyconfig + fragments + olddefconfig into obj/.config, then the check
// that every fragment request survived.
void configure(const BuildInputs& in, WorkTree& wt, const fs::path& obj, BuildLog& log, const BuildOptions& options,
               const fs::path& failed_log, const Reporter& report) {
  const auto env = make_env();
  ErrorTail tail;
  auto feed = [&tail](std::string_view line, bool) { tail.feed(line); };
  auto step = [&](std::vector<std::string> argv, const std::string& what) {
    report(BuildPhase::kConfiguring, what);
    if (log.run(ToolRun{argv, wt.tree(), env, feed}) != 0) {
      throw infra_error(fmt::format("kernel {}: {} failed: {}", in.spec.name, what, tail.summary()),
                        "log: " + failed_log.string());
    }
  };
  std::error_code ec;
  fs::create_directories(obj, ec);
  step(make_argv(obj, options, {"tinyconfig"}), "make tinyconfig");
  std::vector<std::string> merge{"/bin/sh", (wt.tree() / "scripts" / "kconfig" / "merge_config.sh").string(), "-m",
                                 "-O", obj.string(), (obj / ".config").string()};
  for (const auto& f : in.fragments) merge.push_back(f.path.string());
  step(merge, "merge_config.sh");
  step(make_argv(obj, options, {"olddefconfig"}), "make olddefconfig");
  check_config(in, obj);
}

}  // namespace

fs::path configure_tree(const BuildInputs& in, WorkTree& wt, BuildLog& log, const BuildOptions& options,
                        const fs::path& failed_log, const Reporter& report) {
  // A configuration check uses its own object tree: a different .config in
  // obj/ would make the next real build recompile everything.
  const fs::path obj = options.configure_only ? wt.root() / "obj-check" : wt.obj();
  const std::string ckey = config_key(in);
  std::error_code cec;
  if (!options.configure_only && wt.note("config_key") == ckey && fs::is_regular_file(obj / ".config", cec) &&
      sha256_file(obj / ".config") == wt.note("config_sha256")) {
    // The last configuration had the same inputs: skip the Kconfig runs.
    report(BuildPhase::kConfiguring, "reusing .config");
    log.note("configuration inputs unchanged (config key " + ckey + "): reusing " + (obj / ".config").string());
    check_config(in, obj);
  } else {
    if (!options.configure_only) wt.set_note("config_key", "");
    configure(in, wt, obj, log, options, failed_log, report);
    if (!options.configure_only) {
      wt.set_note("config_sha256", sha256_file(obj / ".config"));
      wt.set_note("config_key", ckey);
    }
  }
  return obj;
}

}  // namespace numasoak::kernel
