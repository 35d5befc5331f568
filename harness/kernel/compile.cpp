// make bzImage [modules], the widen module, and what was built
// (kernel/compile.h).
#include "kernel/compile.h"

#include <fmt/format.h>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/paths.h"
#include "kernel/bzimage.h"
#include "kernel/make.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

namespace {

// The string a generated header #defines `name` to ("#define NAME<tabs>\"value\"").
std::string define_value(const fs::path& header, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(header, ec)) return {};
  std::istringstream in(read_file(header));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string define, symbol;
    if (!(words >> define >> symbol) || define != "#define" || symbol != name) continue;
    const auto open = line.find('"'), close = line.rfind('"');
    if (open != std::string::npos && close > open) return line.substr(open + 1, close - open - 1);
  }
  return {};
}

// "Linux version 6.1.192 (numasoak@numasoak) (gcc ... ) #1 SMP ...", like init/version.c.
std::string banner_from_headers(const fs::path& obj) {
  const fs::path gen = obj / "include" / "generated";
  const std::string release = define_value(gen / "utsrelease.h", "UTS_RELEASE");
  std::string version = define_value(gen / "utsversion.h", "UTS_VERSION");
  if (version.empty()) version = define_value(gen / "compile.h", "UTS_VERSION");
  const std::string by = define_value(gen / "compile.h", "LINUX_COMPILE_BY");
  const std::string host = define_value(gen / "compile.h", "LINUX_COMPILE_HOST");
  const std::string compiler = define_value(gen / "compile.h", "LINUX_COMPILER");
  if (release.empty()) return {};
  return fmt::format("Linux version {} ({}@{}) ({}) {}", release, by, host, compiler, version);
}

}  // namespace

CompiledTree compile_tree(const BuildInputs& in, WorkTree& wt, BuildLog& log, const BuildOptions& options,
                          const fs::path& failed_log, const Reporter& report) {
  CompiledTree out;
  // 4. Compile.
  const int jobs = options.jobs > 0 ? options.jobs : default_jobs();
  const int total = wt.last_cc_count();
  int cc = 0;
  bool linking = false;
  ErrorTail tail;
  report(BuildPhase::kCompiling, "", 0, total);
  // A kernel that builds the widen module needs `modules` too (modpost and
  // Module.symvers for the external build in 4b).
  std::vector<std::string> targets{fmt::format("-j{}", jobs), "bzImage"};
  if (!in.widen_module.empty()) targets.push_back("modules");
  ToolRun mk{make_argv(wt.obj(), options, targets), wt.tree(), make_env(),
             [&](std::string_view line, bool) {
               tail.feed(line);
               if (line.starts_with("  CC ")) ++cc;
               if (!linking && line.starts_with("  LD ") && line.find("vmlinux") != std::string_view::npos) linking = true;
               if (line.starts_with("  CC ") || line.starts_with("  LD ")) {
                 if (linking) {
                   report(BuildPhase::kLinking, std::string(line.substr(line.find_last_of(' ') + 1)), cc,
                          total >= cc ? total : 0);
                 } else {
                   report(BuildPhase::kCompiling, std::string(line.substr(line.find_last_of(' ') + 1)), cc,
                          total >= cc ? total : 0);
                 }
               }
             }};
  if (log.run(mk) != 0) {
    throw infra_error(fmt::format("kernel {}: build failed: {}", in.spec.name, tail.summary()),
                      "log: " + failed_log.string());
  }
  wt.set_last_cc_count(cc);
  out.jobs = jobs;
  out.cc_count = cc;

  // 4b. The outside amplifier's module, built against this very tree (kbuild
  // writes an external module's objects next to its source: the copy in the
  // artifact's inputs/kmod, never the checkout).
  if (!in.widen_module.empty()) {
    const fs::path kmod = in.widen_module.front().path.parent_path();
    report(BuildPhase::kCompiling, "numasoak_widen.ko");
    ToolRun km{make_argv(wt.obj(), options, {"M=" + kmod.string(), "modules"}), wt.tree(), make_env(),
               [&](std::string_view line, bool) { tail.feed(line); }};
    out.widen_ko = kmod / "numasoak_widen.ko";
    std::error_code kec;
    if (log.run(km) != 0 || !fs::is_regular_file(out.widen_ko, kec)) {
      throw infra_error(fmt::format("kernel {}: the widen module did not build: {}", in.spec.name, tail.summary()),
                        "log: " + failed_log.string());
    }
  }

  // 5. What was built.
  {
    ToolRun kr{make_argv(wt.obj(), options, {"-s", "kernelrelease"}), wt.tree(), make_env(), [&](std::string_view line, bool err) {
                 if (!err && !line.empty()) out.release = std::string(line);
               }};
    if (log.run(kr) != 0 || out.release.empty()) {
      throw infra_error(fmt::format("kernel {}: make kernelrelease failed", in.spec.name), "log: " + failed_log.string());
    }
  }
  out.banner = banner_from_headers(wt.obj());
  out.bzimage = wt.obj() / "arch" / "x86" / "boot" / "bzImage";
  out.image_version = bzimage_version(out.bzimage).value_or("");
  if (out.image_version.empty()) {
    throw infra_error(fmt::format("kernel {}: {} is not a bzImage", in.spec.name, out.bzimage.string()));
  }
  return out;
}

}  // namespace numasoak::kernel
