// numasoak run: one guest, one kernel, one verdict — the laptop command.
//
//   numasoak run --kernel 6.1 --amplify-us 200 --duration 5m
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "campaign/bad_rate.h"
#include "campaign/prepare.h"
#include "cli/guest_flags.h"
#include "cli/verb.h"
#include "common/clock.h"
#include "common/paths.h"
#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "run/scheduler.h"
#include "stats/outcome.h"
#include "stats/format.h"
#include "stats/stats.h"
#include "stats/survival.h"
#include "store/store.h"
#include "symbolize/symbolize.h"
#include "vm/backends.h"
#include "vm/loop.h"

namespace numasoak::cli {
namespace {

struct RunArgs {
  std::string kernel = "6.1";
  GuestFlags guest;  // -c, --duration, --profile, --accel, --amplify-us, topology ...
  std::string output;
  std::string on_failure;
  std::string vmlinux;  // decode report frames with it (default: the artifact's, if kept)
  bool json = false;
  // --bisect: exit 0 / 1 / 125 for `git bisect run`.
  bool bisect = false;
  std::string bad_rate;       // "1000/h"
  std::string bad_rate_from;  // a campaign folder (or its numasoak.db)
  std::string bad_kernel;     // which kernel of that campaign is the bad end
  double confidence = 0.95;
};

// The campaign a `run` uses: the guest flags, and --on-failure.
Campaign run_campaign(const RunArgs& a) {
  Campaign c = campaign_from_flags(a.guest);
  if (!a.on_failure.empty()) c.on_failure = a.on_failure == "continue" ? OnFailure::kContinue : OnFailure::kStop;
  return c;
}

std::string summary_line(const RunResult& r) {
  switch (r.verdict) {
    case Verdict::kFailed:
      return fmt::format("FAILED  {} ({}): {} — {} after {:.1f}s of workload{}", r.kernel, r.kernel_release, r.kind,
                         terminal_safe(r.title), r.time_to_failure_s.value_or(0),
                         r.uptime_s ? fmt::format(" (guest uptime {:.1f}s)", *r.uptime_s) : "");
    case Verdict::kSurvived:
      return fmt::format("SURVIVED  {} ({}): no failure in {:.0f}s of workload", r.kernel, r.kernel_release, r.exposure_s);
    case Verdict::kInterrupted:
      return fmt::format("INTERRUPTED  {}: {}", r.kernel, terminal_safe(r.title));
    case Verdict::kError:
      break;
  }
  return fmt::format("ERROR  {}: {}: {}", r.kernel, r.kind, terminal_safe(r.title));
}

ExitCode exit_code_for(const RunResult& r) {
  switch (r.verdict) {
    case Verdict::kFailed: return ExitCode::kKernelFailure;
    case Verdict::kSurvived: return ExitCode::kOk;
    case Verdict::kError: return r.kind == kinds::kConfig ? ExitCode::kUsage : ExitCode::kInfrastructure;
    case Verdict::kInterrupted: return ExitCode::kInfrastructure;
  }
  return ExitCode::kInfrastructure;
}

// The exit codes `git bisect run` reads: 0 good, 1 bad, 125 skip (could not
// be tested), and anything above 127 aborts the bisection (a mistake on the
// command line must not mark every commit bad or skip them all).
constexpr auto kBisectGood = static_cast<ExitCode>(0);
constexpr auto kBisectBad = static_cast<ExitCode>(1);
constexpr auto kBisectSkip = static_cast<ExitCode>(125);
constexpr auto kBisectAbort = static_cast<ExitCode>(128);

ExitCode run_verb(const RunArgs& a, const Globals& g, Campaign c);

// `run --bisect`: the campaign's duration is the survival the bad rate asks
// for; every way the build could not be tested is 125.
ExitCode bisect_verb(const RunArgs& a, const Globals& g) {
  auto report = [](const Error& e, const char* what) {
    std::fflush(stdout);
    std::cerr << "numasoak: error: " << e.what() << "\n" << "numasoak: bisect: " << what << "\n";
  };
  Campaign c;
  try {
    if (!(a.confidence > 0 && a.confidence < 1)) throw usage_error(fmt::format("--confidence: {} is not in (0, 1)", a.confidence));
    const BadRate bad = resolve_bad_rate(a.bad_rate, a.bad_rate_from, a.bad_kernel, a.confidence);
    const double rate = bad.per_hour;
    const std::string& source = bad.source;
    const stats::SurvivalRequirement need = stats::survival_needed(rate, a.confidence);
    c = run_campaign(a);
    if (!a.guest.duration.empty() && c.duration < need.needed) {
      throw usage_error(fmt::format("--duration {} is shorter than the {} survival --bisect needs", a.guest.duration, format_duration(need.needed)),
                        "leave --duration out, or make it longer");
    }
    if (a.guest.duration.empty()) c.duration = need.needed;
    c.on_failure = OnFailure::kStop;
    check_host_fits(c.topology);
    // A kernel name that is not there is a mistake on the command line (128),
    // not a commit that cannot be tested (125).
    (void)kernel_from_argument(a.kernel, c.kernels);
    std::cout << "bisect: " << stats::explain(need) << " (bad rate from " << terminal_safe(source) << ")" << std::endl;
  } catch (const Error& e) {
    report(e, "aborting the bisection (exit 128): the command line or a file it names is wrong");
    return kBisectAbort;
  }
  ExitCode rc = kBisectSkip;
  try {
    rc = run_verb(a, g, c);
  } catch (const Error& e) {
    report(e, "this build could not be tested: skip (exit 125)");
    return kBisectSkip;
  }
  const char* line = "";
  switch (rc) {
    case ExitCode::kOk: line = "good (exit 0): survived the needed time"; break;
    case ExitCode::kKernelFailure: line = "bad (exit 1): the build failed"; break;
    default:
      if (rc == kBisectAbort) {
        line = "stopped by the user: aborting the bisection (exit 128)";
      } else {
        line = "could not be tested: skip (exit 125)";
        rc = kBisectSkip;
      }
  }
  std::cout << "bisect: " << line << std::endl;
  return rc;
}

ExitCode run_verb(const RunArgs& a, const Globals& g) { return run_verb(a, g, run_campaign(a)); }

ExitCode run_verb(const RunArgs& a, const Globals& g, Campaign c) {
  check_host_fits(c.topology);
  const KernelSpec spec = kernel_from_argument(a.kernel, c.kernels);
  const bool quiet = g.verbosity == Verbosity::kQuiet;

  const std::filesystem::path out =
      a.output.empty() ? std::filesystem::absolute("numasoak-out") / fmt::format("run-{}-{}", utc_now("%Y%m%d-%H%M%S"), sanitize_filename(spec.name))
                       : std::filesystem::absolute(a.output);
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec)) {
    throw usage_error(fmt::format("output {} exists and is not a directory", out.string()));
  }
  std::filesystem::create_directories(out, ec);
  if (ec) throw usage_error(fmt::format("cannot create output directory {}: {}", out.string(), ec.message()));
  add_log_file(out / "numasoak.log");

  const KernelArtifact kernel = prepare_kernel(spec, quiet);
  const image::ImageArtifact img = prepare_image(quiet);

  boost::asio::io_context io;
  // `run` guests are QEMU children on this machine, whatever the campaign's backend.
  const std::unique_ptr<vm::Backend> backend = vm::make_backend(io, vm::BackendSpec{});
  const vm::AccelDecision accel = decide_accel(io, *backend, c.accel, kernel.bzimage, img.path);

  const std::string run_id = fmt::format("{}-1", sanitize_filename(spec.name));
  PlanOverrides tcg;
  // A TCG guest boots slowly: give its boot watchdog at least a minute.
  if (accel.accel == vm::Accel::kTcg) tcg.min_boot = std::chrono::seconds(60);
  const RunPlan plan = make_plan(c, spec, kernel, img, accel.accel,
                                 {run_id, fmt::format("numasoak-run-{}-{}", ::getpid(), sanitize_filename(spec.name)), out / run_id},
                                 tcg);

  // One plan through the one scheduler, as compare and bench run theirs.
  PlanList list({plan});
  Scheduler scheduler(io, *backend, list, plan.topology, 1);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (!e) scheduler.stop("stopped by the user");
  });
  StatusLine status;
  boost::asio::steady_timer tick(io);
  std::function<void()> on_tick = [&] {
    if (list.done()) return;
    const auto going = scheduler.running();
    if (!quiet && !going.empty()) {
      const RunStatus& s = going.front().second;
      status.update(fmt::format("{} {}: {} elapsed, {} left, {:.0f} race events/s, {} failure{}", spec.name, s.phase,
                                format_duration(s.workload_elapsed > Duration(0) ? s.workload_elapsed : s.elapsed),
                                format_duration(s.remaining), s.race_events_per_s, s.failures, s.failures == 1 ? "" : "s"));
    }
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](const boost::system::error_code& e) {
      if (!e) on_tick();
    });
  };
  if (!quiet) spdlog::info("run {}: {} on {}, {} accel, {} workload, race window widened: {}", plan.run_id, spec.name,
                           plan.topology.describe(), vm::to_string(plan.accel), format_duration(plan.duration),
                           plan.widening.describe());
  scheduler.start();
  on_tick();
  vm::run_loop_until(io, [&] { return list.done(); });
  signals.cancel();
  tick.cancel();
  status.done();
  io.poll();
  const std::optional<RunResult> result = list.results().front();
  if (!result) throw infra_error("the run ended without a result");

  // Report frames with source lines, from the vmlinux given or kept with
  // the build. Decoding is best effort: a run's verdict never depends on it.
  std::vector<std::pair<std::string, std::vector<std::string>>> decoded;  // per failure: title, lines
  const std::filesystem::path vmlinux = !a.vmlinux.empty() ? std::filesystem::path(a.vmlinux) : symbolize::vmlinux_of_artifact(kernel.dir);
  if (!vmlinux.empty()) {
    try {
      symbolize::Symbolizer sym(io, vmlinux);
      std::ofstream frames_txt(std::filesystem::path(result->artifacts.dir) / "frames.txt");
      for (const auto& f : result->failures) {
        const auto frames = symbolize::frames_of_report(f.report, 32);
        if (frames.empty()) continue;
        std::vector<std::string> lines;
        for (const auto& d : sym.decode(frames)) lines.push_back(symbolize::format_decoded(d));
        frames_txt << "== " << f.kind << ": " << f.title << "\n";
        for (const auto& l : lines) frames_txt << "  " << l << "\n";
        decoded.emplace_back(f.kind + ": " + f.title, std::move(lines));
      }
    } catch (const Error& e) {
      spdlog::warn("frames not decoded with {}: {}", vmlinux.string(), e.what());
    }
  }
  if (a.json) {
    nlohmann::json j = *result;
    if (!decoded.empty()) {
      nlohmann::json fr = nlohmann::json::array();
      for (const auto& [title, lines] : decoded) fr.push_back({{"failure", title}, {"frames", lines}});
      j["decoded_frames"] = fr;
    }
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << summary_line(*result) << "\n";
    if (!result->failures.empty() && !result->failures.front().guilty_frame.empty()) {
      std::cout << "  guilty frame: " << terminal_safe(result->failures.front().guilty_frame) << "\n";
    }
    // The race-relevant rates; result.json has every counter.
    for (const char* k : {"numa_huge_pte_updates", "thp_migration_success", "numa_hint_faults", "uffd_wp_ioctls",
                          "mp_moved", "race_widen_hits"}) {
      if (auto it = result->rates.find(k); it != result->rates.end()) {
        std::cout << fmt::format("  {:<24} {:>10.1f}/s\n", k, it->second);
      }
    }
    // Walks and migrations of the same PMD (guest workload/colocation.h):
    // the coincidences the race needs, per second per second of window.
    for (const char* k : {"colocated_pairs", "colocated_pairs_inferred"}) {
      if (auto it = result->rates.find(k); it != result->rates.end()) {
        std::cout << fmt::format("  {:<24} {:>10.1f}/s^2\n", k, it->second);
      }
    }
    // The amplifier's proof: delays taken, with interrupts off (not widening),
    // migration entries that landed on a delayed pmd (run/widening.h).
    std::cout << "  race window widened: " << result->widened << "\n";
    for (const char* k : {"race_widen_hits", "widen_irqs_off", "widen_landed"}) {
      if (auto it = result->event_totals.find(k); it != result->event_totals.end()) {
        std::cout << fmt::format("  {:<24} {:>10.0f}\n", k, it->second);
      }
    }
    for (const auto& [title, lines] : decoded) {
      std::cout << "  frames of " << terminal_safe(title) << " (" << vmlinux.string() << "):\n";
      for (const auto& l : lines) std::cout << "    " << terminal_safe(l) << "\n";
    }
    std::cout << "  artifacts: " << result->artifacts.dir << "\n";
    std::cout.flush();
  }
  if (!std::cout) throw infra_error("cannot write to standard output");
  if (a.bisect) {
    switch (result->verdict) {
      case Verdict::kFailed: return kBisectBad;
      case Verdict::kSurvived:
        // A run that ended early without failing (it should not) says nothing.
        return result->exposure_s + 0.5 >= std::chrono::duration<double>(c.duration).count() ? kBisectGood : kBisectSkip;
      case Verdict::kInterrupted:
        return result->title.find("user") != std::string::npos ? kBisectAbort : kBisectSkip;
      case Verdict::kError: return kBisectSkip;
    }
  }
  return exit_code_for(*result);
}

const VerbRegistration reg(40, [](Command& app, const Globals& g) -> VerbAction {
  Command cmd = app.subcommand("run", "Boot one kernel in a NUMA guest under the stress workload and report the verdict");
  auto a = std::make_shared<RunArgs>();
  cmd.option("-k,--kernel", a->kernel, "Kernel: a name from configs/kernels.toml, a bzImage or a kernel tree").show_default();
  add_guest_flags(cmd, a->guest);
  cmd.option("--on-failure", a->on_failure, "stop at the first failure, or continue counting until the duration ends")
      .one_of({"stop", "continue"});
  cmd.option("-o,--output", a->output, "Artifacts folder (default numasoak-out/run-<time>-<kernel>)");
  cmd.flag("--json", a->json, "Print the result as one JSON object");
  cmd.option("--vmlinux", a->vmlinux, "Decode the failure reports' stack frames to file:line with this vmlinux (with DWARF)");
  cmd.flag("--bisect", a->bisect,
                "For git bisect run: survive long enough for --bad-rate at --confidence (exit 0), fail (1), or could not test (125)");
  cmd.option("--bad-rate", a->bad_rate, "With --bisect: the failure rate of the bad end (1000/h, 0.5/s, 20/min)");
  cmd.option("--bad-rate-from", a->bad_rate_from,
                  "With --bisect: take the bad end's rate from an earlier campaign's folder (its failing kernel, lower end of the interval)");
  cmd.option("--bad-kernel", a->bad_kernel, "With --bad-rate-from: which kernel of that campaign is the bad end");
  cmd.option("--confidence", a->confidence, "With --bisect: P(a bad build fails within the run)").show_default();
  cmd.footer("Exit: 0 survived, 1 kernel failure, 2 usage/config error, 3 infrastructure error (QEMU died, build failed).\n"
              "With --bisect: 0 good, 1 bad, 125 could not be tested (skip), 128 usage error (aborts git bisect).");
  return [a, &g]() { return a->bisect ? bisect_verb(*a, g) : run_verb(*a, g); };
});

}  // namespace
}  // namespace numasoak::cli
