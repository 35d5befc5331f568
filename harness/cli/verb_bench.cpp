// numasoak bench: how fast numasoak finds the bug against what a kernel
// developer would use instead, and what the harness itself costs.
//
//   numasoak bench --quick        CI: every part once, in a few minutes (no speed claims)
//   numasoak bench                the full bench (under an hour on 2 cores, TCG)
//
// The verb only parses flags; the phases are bench/session.h's run_bench().
#include <fmt/format.h>

#include "bench/plan.h"
#include "bench/session.h"
#include "cli/verb.h"
#include "common/duration.h"
#include "common/error.h"

namespace numasoak::cli {
namespace {

/// The bench verb's flags as given.
struct BenchArgs {
  bool quick = false;
  int runs = -1;
  std::string budget;
  std::vector<int> amplify;
  std::string natural_budget;
  std::string output;
  bool no_debian = false;
};

bench::BenchOptions options_from(const BenchArgs& a) {
  bench::BenchOptions o = a.quick ? bench::BenchOptions::quick_options() : bench::BenchOptions{};
  if (a.runs > 0) o.runs = a.runs;
  if (!a.amplify.empty()) o.amplify_us = a.amplify;
  auto dur = [](const std::string& flag, const std::string& text) {
    auto d = parse_duration(text);
    if (!d || d->count() <= 0) throw usage_error(fmt::format("{}: \"{}\" is not a duration (e.g. 45s, 2m)", flag, text));
    return *d;
  };
  if (!a.budget.empty()) o.budget = dur("--budget", a.budget);
  if (!a.natural_budget.empty()) o.natural_budget = dur("--natural-budget", a.natural_budget);
  if (a.no_debian) o.debian_kernel = false;
  for (int v : o.amplify_us)
    if (v <= 0 || v > 10000) throw usage_error(fmt::format("--amplify-us: {} is out of range 1..10000", v));
  return o;
}

const VerbRegistration reg(75, [](Command& app, const Globals& g) -> VerbAction {
  Command cmd = app.subcommand("bench", "Measure time to failure against the alternatives, and the harness's own costs");
  auto a = std::make_shared<BenchArgs>();
  cmd.flag("--quick", a->quick, "CI mode: every part once with tiny budgets (proves the bench works, measures nothing)");
  cmd.option("--runs", a->runs, "Runs per row and amplifier setting (default 5)").range(1, 100);
  cmd.option("--budget", a->budget, "Time limit of one amplified run (default 45s)");
  cmd.option("--amplify-us", a->amplify, "Amplifier settings, widest first (default 200 50 20)");
  cmd.option("--natural-budget", a->natural_budget, "Total time of bad-pmd with the amplifier off (default 4m)");
  cmd.flag("--no-debian", a->no_debian, "Do not boot Debian's kernel for the boot-time figure");
  cmd.option("-o,--output", a->output, "Folder for bench.json and the runs (default numasoak-out/bench-<time>)");
  cmd.footer("Prints a table and writes bench.json. Exit: 0 done, 2 usage error, 3 infrastructure error or interrupted.");
  return [a, &g]() {
    bench::run_bench(options_from(*a), a->output, g.verbosity == Verbosity::kQuiet);
    return ExitCode::kOk;
  };
});

}  // namespace
}  // namespace numasoak::cli
