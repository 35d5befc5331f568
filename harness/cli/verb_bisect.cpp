// numasoak bisect: which patch of a series fixes (or breaks) a kernel, when
// the bug is probabilistic.
//
//   numasoak bisect --kernel 6.1-bare --series fix/ --bad-rate 500/h --amplify-us 200
//
// State k is the base kernel with the series' first k patches applied
// (campaign/bisection.h: the order of the steps and how long each must
// survive). Each step is one run of one state through the campaign runner,
// recorded in the bisection's database like any campaign run, so the same
// command after a kill (or Ctrl-C) replays the finished steps from the
// database and goes on from the step that was running.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "campaign/bad_rate.h"
#include "campaign/bisection.h"
#include "campaign/prepare.h"
#include "campaign/runner.h"
#include "cli/guest_flags.h"
#include "cli/verb.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/paths.h"
#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "kernel/inputs.h"
#include "report/report.h"
#include "store/store.h"
#include "vm/loop.h"

namespace numasoak::cli {
namespace {

namespace fs = std::filesystem;

struct BisectArgs {
  std::string kernel;
  std::string series;
  GuestFlags guest;
  std::string output;
  std::string bad_rate;
  std::string bad_rate_from;
  std::string bad_kernel;
  double confidence = 0.95;
};

// Exit codes: a bisection that names one patch ends 0; one that cannot (the
// ends agree, an end could not be tested, or skipped states leave a range)
// ends 1; 2 and 3 as every verb.
constexpr auto kNamed = ExitCode::kOk;
constexpr auto kNotNamed = static_cast<ExitCode>(1);

/// The series under bisection, read once: its folder and patch files in order.
struct Series {
  fs::path dir;
  std::vector<fs::path> files;
  nlohmann::json identity;  // file names and hashes: what makes a stored bisection this one
};

Series read_series(const std::string& arg) {
  Series s;
  s.dir = fs::absolute(arg).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(s.dir, ec)) throw usage_error(fmt::format("--series: {} is not a folder", s.dir.string()),
                                                      "give a folder of NNNN-*.patch files, as git format-patch writes them");
  s.files = kernel::series_files(s.dir);
  if (s.files.empty()) throw usage_error(fmt::format("--series: {} has no *.patch files", s.dir.string()));
  s.identity = nlohmann::json::array();
  for (const auto& f : s.files) s.identity.push_back({{"file", f.filename().string()}, {"sha256", sha256_file(f)}});
  return s;
}

std::string state_name(const KernelSpec& base, int k, int n) {
  return k == 0 ? base.name : fmt::format("{}+{}of{}", base.name, k, n);
}

// The kernel of state k: the base with the first k patches, copied into a
// series folder of their own under the output folder (the build cache keys
// a kernel by its patches' bytes, so the same state is the same build).
KernelSpec state_spec(const KernelSpec& base, const Series& series, int k, const fs::path& out) {
  if (k == 0) return base;
  KernelSpec s = base;
  s.name = state_name(base, k, static_cast<int>(series.files.size()));
  s.description = fmt::format("{} with the first {} of {} patches of {}", base.name, k, series.files.size(), series.dir.string());
  const fs::path dir = out / "series" / std::to_string(k);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  for (int i = 0; i < k; ++i) {
    fs::copy_file(series.files[static_cast<size_t>(i)], dir / series.files[static_cast<size_t>(i)].filename(), ec);
    if (ec) throw infra_error(fmt::format("cannot copy {} to {}: {}", series.files[static_cast<size_t>(i)].string(), dir.string(), ec.message()));
  }
  s.patches.push_back(dir.string());
  return s;
}

// What a finished run says about its state, given the survival its step needed.
StepVerdict verdict_of(const RunResult& r, Duration needed) {
  switch (r.verdict) {
    case Verdict::kFailed: return StepVerdict::kBad;
    case Verdict::kSurvived:
      return r.exposure_s + 0.5 >= std::chrono::duration<double>(needed).count() ? StepVerdict::kGood : StepVerdict::kSkip;
    case Verdict::kError:
    case Verdict::kInterrupted: return StepVerdict::kSkip;
  }
  return StepVerdict::kSkip;
}

std::string evidence_of(const RunResult& r, Duration needed) {
  const double need_s = std::chrono::duration<double>(needed).count();
  switch (r.verdict) {
    case Verdict::kFailed:
      return fmt::format("{}: {} after {:.1f}s of workload", r.kind, terminal_safe(r.title), r.time_to_failure_s.value_or(0));
    case Verdict::kSurvived:
      return r.exposure_s + 0.5 >= need_s ? fmt::format("survived {:.0f}s of workload (needed {:.0f}s)", r.exposure_s, need_s)
                                          : fmt::format("ended after {:.0f}s of the {:.0f}s needed, without a failure", r.exposure_s, need_s);
    case Verdict::kError:
    case Verdict::kInterrupted: break;
  }
  return fmt::format("could not be tested: {}: {}", r.kind, terminal_safe(r.title));
}

/// One step as printed and written to bisect.json.
struct StepRecord {
  int j = 0;
  int state = 0;
  std::string kernel;
  StepVerdict verdict = StepVerdict::kSkip;
  std::string evidence;
  double needed_s = 0;
  double miss_probability = 0;
  std::string run_id;
  bool recorded = false;  // replayed from the database, not run by this process
};

std::string patch_list(int k) {
  if (k == 0) return "no patch";
  return k == 1 ? "patch 1" : fmt::format("patches 1..{}", k);
}

void print_step(const StepRecord& s, const Series& series) {
  std::cout << fmt::format("bisect: step {}: {} ({} of {}): {} — {}{}", s.j, s.kernel, patch_list(s.state),
                           series.files.size(), to_string(s.verdict), s.evidence, s.recorded ? " [from the database]" : "")
            << std::endl;
}

ExitCode bisect_verb(const BisectArgs& a, const Globals& g) {
  const bool quiet = g.verbosity == Verbosity::kQuiet;
  if (!(a.confidence > 0 && a.confidence < 1)) throw usage_error(fmt::format("--confidence: {} is not in (0, 1)", a.confidence));
  BadRate bad = resolve_bad_rate(a.bad_rate, a.bad_rate_from, a.bad_kernel, a.confidence);
  Campaign c = campaign_from_flags(a.guest);
  check_host_fits(c.topology);
  const KernelSpec base = kernel_from_argument(a.kernel, c.kernels);
  if (!base.needs_build()) {
    throw usage_error(fmt::format("--kernel {}: a patch series needs a kernel numasoak builds from source", a.kernel),
                      "name a kernel from configs/kernels.toml with a debian: source, or a kernel tree");
  }
  if (base.amplifier) {
    throw usage_error(fmt::format("--kernel {} carries numasoak's source amplifier, which is written for one series", base.name),
                      "bisect its -bare build and widen the window from outside with --amplify-us (e.g. --kernel 6.1-bare)");
  }
  const Series series = read_series(a.series);
  const int n = static_cast<int>(series.files.size());

  const fs::path out = a.output.empty()
                           ? fs::absolute("numasoak-out") / sanitize_filename(fmt::format("bisect-{}-{}", base.name, series.dir.filename().string()))
                           : fs::absolute(a.output);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw usage_error(fmt::format("output {} exists and is not a directory", out.string()));
  fs::create_directories(out, ec);
  if (ec) throw usage_error(fmt::format("cannot create output directory {}: {}", out.string(), ec.message()));

  Store store = Store::open(out);  // refuses when another numasoak holds it
  add_log_file(out / "numasoak.log");
  // What makes a stored bisection this one: the base, the patches' bytes,
  // the confidence and the bad rate as asked for. On a resume the rate the
  // steps were sized with is the stored one (--bad-rate-from re-reads a
  // campaign that may have grown since).
  nlohmann::json identity = {{"base", base.name},
                             {"patches", series.identity},
                             {"confidence", a.confidence},
                             {"bad_rate_asked", a.bad_rate.empty() ? "from " + a.bad_rate_from + " " + a.bad_kernel : a.bad_rate}};
  if (auto rec = store.campaign()) {
    if (!rec->config.contains("bisect")) {
      if (!store.runs().empty()) {
        throw usage_error(fmt::format("{} holds a campaign, not a bisection", out.string()), "give another --output");
      }
    } else {
      nlohmann::json stored = rec->config["bisect"];
      const double stored_rate = stored.value("bad_rate_per_hour", 0.0);
      stored.erase("bad_rate_per_hour");
      stored.erase("bad_rate_source");
      if (stored != identity) {
        throw usage_error(fmt::format("{} holds a different bisection (base, patches, bad rate or confidence differ)", out.string()),
                          "give another --output, or the same arguments to resume it");
      }
      if (stored_rate > 0) bad = BadRate{stored_rate, rec->config["bisect"].value("bad_rate_source", bad.source)};
    }
  }
  identity["bad_rate_per_hour"] = bad.per_hour;
  identity["bad_rate_source"] = bad.source;
  nlohmann::json config = campaign_to_json(c);
  config["bisect"] = identity;
  store.set_campaign(fmt::format("bisect {} over {}", base.name, series.dir.filename().string()), c.file.string(), config);
  if (!store.recovered_runs().empty()) spdlog::warn("resuming: the step left running by an earlier numasoak runs again");

  std::cout << fmt::format("bisect: {} patches over {}; bad end fails at >= {:.0f}/h ({}); whole bisection right with probability >= {:.3g}",
                           n, base.name, bad.per_hour, terminal_safe(bad.source), a.confidence)
            << std::endl;

  std::map<std::string, RunResult> finished;
  for (auto& r : store.finished_runs()) finished.emplace(r.kernel, std::move(r));

  Bisection bisection(n);
  std::vector<StepRecord> steps;
  std::optional<image::ImageArtifact> img;
  std::unique_ptr<boost::asio::io_context> io;
  std::unique_ptr<vm::Backend> backend;
  std::optional<CampaignAccel> accel;
  std::optional<CampaignOutcome> stopped;  // set when a step ends the bisection (Ctrl-C, infrastructure)

  while (auto k = bisection.next()) {
    const int j = static_cast<int>(bisection.steps().size()) + 1;
    const stats::SurvivalRequirement need = step_survival(j, bad.per_hour, a.confidence);
    Duration needed = need.needed;
    if (!a.guest.duration.empty() && c.duration > needed) needed = c.duration;  // --duration may only lengthen a step
    const KernelSpec spec = state_spec(base, series, *k, out);
    StepRecord step{j, *k, spec.name, StepVerdict::kSkip, "", std::chrono::duration<double>(needed).count(),
                    need.miss_probability, fmt::format("{}-1", spec.name), false};

    if (auto it = finished.find(spec.name); it != finished.end()) {
      step.verdict = verdict_of(it->second, needed);
      step.evidence = evidence_of(it->second, needed);
      step.recorded = true;
    } else {
      // The state's record and its one run, before its build: a kernel that
      // does not build is a step like any other (skip), kept in the database.
      KernelRecord krec;
      krec.name = spec.name;
      krec.source = fmt::format("{} + {} of {}", describe_source(base), patch_list(*k), series.dir.string());
      std::optional<KernelArtifact> kernel;
      try {
        kernel = prepare_kernel(spec, quiet);
        krec.release = kernel->release;
        krec.manifest = kernel->manifest.is_null() ? nlohmann::json::object() : kernel->manifest;
      } catch (const Error& e) {
        spdlog::warn("bisect: {} could not be built: {}", spec.name, e.what());
        store.record_kernel(krec);
        store.plan_runs({spec.name}, 1);
        store.mark_running(step.run_id);
        RunResult r;
        r.run_id = step.run_id;
        r.kernel = spec.name;
        r.verdict = Verdict::kError;
        r.kind = "build-failure";
        r.title = e.what();
        r.started_at = r.finished_at = utc_now();
        store.finish_run(r);
        finished.emplace(spec.name, r);
      }
      if (kernel) {
        store.record_kernel(krec);
        store.plan_runs({spec.name}, 1);
        if (!img) img = prepare_image(quiet);
        if (!io) {
          io = std::make_unique<boost::asio::io_context>();
          backend = make_backend(*io, c);
          accel = decide_campaign_accel(*io, *backend, c.accel, kernel->bzimage, img->path);
        }
        // This step as a campaign of one run: the state's kernel, at the
        // step's survival, stopping at its first failure.
        Campaign sc = c;
        sc.kernel_names = {spec.name};
        sc.kernels[spec.name] = spec;
        sc.duration = needed;
        sc.runs_per_kernel = 1;
        sc.stop = CampaignStop::kFixed;
        sc.on_failure = OnFailure::kStop;
        sc.sweep_amplify_us.clear();
        sc.budget.reset();
        CampaignRunner runner(*io, sc, store, *backend, {{spec.name, *kernel}}, *img, accel->accel);
        std::optional<CampaignOutcome> outcome;
        boost::asio::signal_set signals(*io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& e, int) {
          if (!e) runner.interrupt("stopped by the user");
        });
        if (!quiet) spdlog::info("bisect: step {}: {} ({} of {}) for up to {}", j, spec.name, patch_list(*k), n,
                                 format_duration(needed));
        StatusLine status;
        boost::asio::steady_timer tick(*io);
        std::function<void()> on_tick = [&] {
          if (outcome) return;
          if (!quiet) status.update(fmt::format("bisect step {}: {}", j, runner.status_line()));
          tick.expires_after(std::chrono::seconds(1));
          tick.async_wait([&](const boost::system::error_code& e) {
            if (!e) on_tick();
          });
        };
        io->restart();  // the last step's loop ran out of work
        runner.start([&](const CampaignOutcome& o) { outcome = o; });
        on_tick();
        vm::run_loop_until(*io, [&] { return outcome.has_value(); });
        signals.cancel();
        tick.cancel();
        status.done();
        io->poll();
        if (!outcome) throw infra_error(fmt::format("bisect: step {} ({}): the loop stopped without an outcome", j, spec.name));
        if (outcome->end == CampaignEnd::kInterrupted || outcome->end == CampaignEnd::kInfrastructure) {
          stopped = outcome;
          break;
        }
        auto r = store.finished_runs();
        for (auto& x : r) {
          if (x.kernel == spec.name) finished.emplace(x.kernel, std::move(x));
        }
      }
      const auto got = finished.find(spec.name);
      if (got == finished.end()) throw infra_error(fmt::format("bisect: step {} ({}) ended without a result", j, spec.name));
      step.verdict = verdict_of(got->second, needed);
      step.evidence = evidence_of(got->second, needed);
    }
    bisection.record(*k, step.verdict);
    steps.push_back(step);
    spdlog::info("bisect: step {}: {}: {}{}", j, spec.name, to_string(step.verdict), step.recorded ? " (from the database)" : "");
    print_step(step, series);
  }

  if (stopped) {
    store.set_status(CampaignStatus::kStopped, stopped->reason);
    std::cerr << fmt::format("numasoak: bisection stopped ({}); the {} finished step{} are kept: run the same command to go on\n",
                             stopped->reason, steps.size(), steps.size() == 1 ? "" : "s");
    return ExitCode::kInfrastructure;
  }

  const BisectionConclusion end = *bisection.conclusion();
  std::string answer = end.text;
  if (end.kind == BisectionConclusion::Kind::kNamed) {
    answer += ": " + series.files[static_cast<size_t>(end.first - 1)].filename().string();
  }
  store.set_status(CampaignStatus::kFinished, answer);
  double miss = 0;
  for (const auto& s : steps) {
    if (s.verdict == StepVerdict::kGood) miss += s.miss_probability;
  }
  nlohmann::json j = {{"base", base.name}, {"series", series.dir.string()}, {"patches", series.identity},
                      {"bad_rate_per_hour", bad.per_hour}, {"bad_rate_source", bad.source}, {"confidence", a.confidence},
                      {"conclusion", answer}, {"named", end.kind == BisectionConclusion::Kind::kNamed},
                      {"direction", end.fix ? "fix" : "regression"},
                      // Bound on P(a "good" here is a bad build that happened to survive), summed over the goods.
                      {"wrong_good_probability_bound", miss}};
  if (end.kind == BisectionConclusion::Kind::kNamed || end.kind == BisectionConclusion::Kind::kRange) {
    j["first"] = end.first;
    j["last"] = end.last;
  }
  j["steps"] = nlohmann::json::array();
  for (const auto& s : steps) {
    j["steps"].push_back({{"step", s.j}, {"state", s.state}, {"kernel", s.kernel}, {"verdict", to_string(s.verdict)},
                          {"evidence", s.evidence}, {"needed_s", s.needed_s}, {"run_id", s.run_id}});
  }
  {
    std::ofstream f(out / "bisect.json");
    f << j.dump(2) << "\n";
    if (!f.flush()) throw infra_error(fmt::format("cannot write {}", (out / "bisect.json").string()));
  }
  report::write_report_files(report::build_report(store), out);

  std::cout << fmt::format("bisect: {} ({} step{}; the goods could be wrong with probability <= {:.2g})\n", answer,
                           steps.size(), steps.size() == 1 ? "" : "s", miss)
            << "bisect: evidence in " << (out / "bisect.json").string() << " and " << (out / "report.html").string() << std::endl;
  return end.kind == BisectionConclusion::Kind::kNamed ? kNamed : kNotNamed;
}

const VerbRegistration reg(45, [](Command& app, const Globals& g) -> VerbAction {
  Command cmd = app.subcommand("bisect", "Find the patch of a series that fixes (or breaks) a kernel, sized for a probabilistic bug");
  auto a = std::make_shared<BisectArgs>();
  cmd.option("-k,--kernel", a->kernel, "The base: a kernel numasoak builds (e.g. 6.1-bare), state 0 of the bisection").required();
  cmd.option("-s,--series", a->series, "Folder of NNNN-*.patch files applied in order on the base (git format-patch)").required();
  add_guest_flags(cmd, a->guest);
  cmd.option("-o,--output", a->output, "Bisection folder (default numasoak-out/bisect-<kernel>-<series>)");
  cmd.option("--bad-rate", a->bad_rate, "The failure rate of the bad end (1000/h, 0.5/s, 20/min)");
  cmd.option("--bad-rate-from", a->bad_rate_from, "Take the bad end's rate from an earlier campaign's folder (lower end of the interval)");
  cmd.option("--bad-kernel", a->bad_kernel, "With --bad-rate-from: which kernel of that campaign is the bad end");
  cmd.option("--confidence", a->confidence, "P(the whole bisection is right)").show_default();
  cmd.footer("Tests the base and the whole series, then bisects between them; re-run the same command to resume.\n"
              "Exit: 0 one patch named, 1 no single patch could be named (the ends agree, an end or the states\n"
              "between could not be tested), 2 usage/config error, 3 infrastructure error or stopped.");
  return [a, &g]() { return bisect_verb(*a, g); };
});

}  // namespace
}  // namespace numasoak::cli
