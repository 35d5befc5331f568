// numasoak compare FILE: the main job. Builds the campaign's kernels, runs
// them interleaved, records every run in the campaign database, and ends
// with a verdict, report.html and summary.json. Running the same command
// again resumes an interrupted campaign.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "campaign/prepare.h"
#include "campaign/runner.h"
#include "cli/verb.h"
#include "common/status_line.h"
#include "report/report.h"
#include "store/store.h"
#include "vm/loop.h"

namespace numasoak::cli {
namespace {

struct CompareArgs {
  std::string file;
  bool json = false;
  bool fresh = false;
};

std::string source_text(const KernelSpec& spec) {
  std::string s = describe_source(spec);
  for (const auto& p : spec.patches) s += " + " + p;
  if (spec.amplifier) s += " + amplifier";
  return s;
}

ExitCode compare_verb(const CompareArgs& a, const Globals& g) {
  const Campaign c = load_campaign(a.file);
  const bool quiet = g.verbosity == Verbosity::kQuiet;
  if (c.backend.kind == BackendKind::kLibvirt && c.backend.hosts.empty()) {
    throw usage_error(fmt::format("{}: backend \"libvirt\" needs at least one [[backend.hosts]] uri", a.file),
                      "e.g. uri = \"qemu:///system\"");
  }
  std::error_code ec;
  if (std::filesystem::exists(c.output_dir, ec) && !std::filesystem::is_directory(c.output_dir, ec)) {
    throw usage_error(fmt::format("output {} exists and is not a directory", c.output_dir.string()));
  }
  std::filesystem::create_directories(c.output_dir, ec);
  if (ec) throw usage_error(fmt::format("cannot create output directory {}: {}", c.output_dir.string(), ec.message()));

  Store store = Store::open(c.output_dir);  // refuses when another numasoak holds it
  add_log_file(c.output_dir / "numasoak.log");
  store.set_campaign(c.name, c.file.string(), campaign_to_json(c));
  if (!store.recovered_runs().empty()) {
    spdlog::warn("resuming: {} run{} left running by an earlier numasoak are interrupted and will run again",
                 store.recovered_runs().size(), store.recovered_runs().size() == 1 ? "" : "s");
  }

  // Kernels and image first: a build error stops here, before any guest.
  // One build per kernel; the store records each arm (a kernel, or with a
  // [sweep] a kernel at one width) as a kernel of its own, in arm order.
  std::map<std::string, KernelArtifact> kernels;
  for (const auto& name : c.kernel_names) kernels.emplace(name, prepare_kernel(c.kernel(name), quiet));
  std::vector<std::string> arm_names;
  for (const auto& arm : c.arms()) {
    const KernelSpec& spec = c.kernel(arm.kernel);
    const KernelArtifact& k = kernels.at(arm.kernel);
    KernelRecord rec;
    rec.name = arm.name;
    rec.release = k.release;
    rec.source = source_text(spec);
    if (arm.amplify_us) rec.source += *arm.amplify_us > 0 ? fmt::format(" at {} us", *arm.amplify_us) : " unwidened";
    rec.manifest = k.manifest.is_null() ? nlohmann::json::object() : k.manifest;
    store.record_kernel(rec);
    arm_names.push_back(arm.name);
  }
  const image::ImageArtifact img = prepare_image(quiet);

  const int added = store.plan_runs(arm_names, c.runs_per_kernel);
  int finished = 0, planned = 0;
  for (const auto& k : store.counts()) {
    finished += k.finished;
    planned += k.planned;
  }

  // A campaign with nothing left to run (finished, or resumed after its
  // last run) goes straight to its report: no backend, no KVM probe.
  std::optional<CampaignOutcome> outcome;
  if (!store.next_queued()) {
    spdlog::info("campaign {}: all {} runs already finished", c.name, planned);
    outcome = CampaignOutcome{CampaignEnd::kCompleted, "every planned run finished", 0};
  } else {
    boost::asio::io_context io;
    // From here on Ctrl-C stops the campaign cleanly; a signal that arrives
    // before the runner waits for it is queued by the signal_set, not lost.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    const std::unique_ptr<vm::Backend> backend = make_backend(io, c);
    // With libvirt, each host decides KVM or TCG with a test boot of its own.
    const CampaignAccel accel = decide_campaign_accel(io, *backend, c.accel, kernels.begin()->second.bzimage, img.path);
    const std::string& accel_text = accel.text;  // for the log: "tcg", or per libvirt host
    if (c.backend.kind == BackendKind::kLibvirt) spdlog::info("libvirt hosts: {}", backend->describe());
    // Said once the signals are ours: tests (and people) may press Ctrl-C from here on.
    if (finished > 0) spdlog::info("resuming campaign {}: {} of {} runs already finished", c.name, finished, planned);
    else if (added > 0) spdlog::info("campaign {}: {} runs planned ({} accel), results in {}", c.name, planned,
                                     accel_text, c.output_dir.string());

    CampaignRunner runner(io, c, store, *backend, kernels, img, accel.accel);
    int signals_seen = 0;
    std::function<void()> wait_signal = [&] {
      signals.async_wait([&](const boost::system::error_code& e, int) {
        if (e) return;
        if (++signals_seen == 1) {
          spdlog::warn("stopping: guests are shut down, finished runs are kept (Ctrl-C again to stop at once)");
          runner.interrupt("stopped by the user");
        } else {
          runner.interrupt("stopped by the user");
          io.stop();
        }
        wait_signal();
      });
    };
    wait_signal();
    StatusLine status(std::chrono::seconds(30));
    boost::asio::steady_timer tick(io);
    std::function<void()> on_tick = [&] {
      if (outcome) return;
      if (!quiet) status.update(runner.status_line());
      tick.expires_after(std::chrono::seconds(1));
      tick.async_wait([&](const boost::system::error_code& e) {
        if (!e) on_tick();
      });
    };
    runner.start([&](const CampaignOutcome& o) { outcome = o; });
    on_tick();
    vm::run_loop_until(io, [&] { return outcome.has_value(); });
    signals.cancel();
    tick.cancel();
    status.done();
  }
  if (!outcome) throw infra_error("the campaign loop stopped without an outcome");

  switch (outcome->end) {
    case CampaignEnd::kCompleted: store.set_status(CampaignStatus::kFinished, outcome->reason); break;
    case CampaignEnd::kDecided: store.set_status(CampaignStatus::kDecided, outcome->reason); break;
    case CampaignEnd::kBudget: store.set_status(CampaignStatus::kStopped, outcome->reason); break;
    case CampaignEnd::kInterrupted:
    case CampaignEnd::kInfrastructure: store.set_status(CampaignStatus::kStopped, outcome->reason); break;
  }

  const report::Report rep = report::build_report(store);
  report::write_report_files(rep, c.output_dir);
  if (a.json) {
    std::cout << report::render_json(rep).dump(2) << std::endl;
  } else {
    std::cout << report::render_terminal(rep);
    std::cout << "report: " << (c.output_dir / "report.html").string() << "\n";
    std::cout.flush();
  }
  if (outcome->end == CampaignEnd::kInterrupted) {
    std::cerr << fmt::format("numasoak: campaign stopped ({}); resume with: numasoak compare {}\n", outcome->reason, a.file);
    return ExitCode::kInfrastructure;
  }
  if (outcome->end == CampaignEnd::kInfrastructure) {
    std::cerr << "numasoak: error: " << outcome->reason << "\n";
    return ExitCode::kInfrastructure;
  }
  if (outcome->end == CampaignEnd::kDecided) spdlog::info("stopped early: {}", outcome->reason);
  return rep.any_failure() ? ExitCode::kKernelFailure : ExitCode::kOk;
}

const VerbRegistration reg(50, [](Command& app, const Globals& g) -> VerbAction {
  Command cmd = app.subcommand("compare", "Run an A/B soak campaign from a campaign file and print the verdict (resumes when re-run)");
  auto a = std::make_shared<CompareArgs>();
  cmd.option("file", a->file, "Campaign file, e.g. configs/default.toml").required();
  cmd.flag("--json", a->json, "Print summary.json instead of the table");
  cmd.footer("Results go to the campaign's output folder: numasoak.db, report.html, summary.json, runs/<id>/.\n"
              "Exit: 0 no kernel failure, 1 a kernel failure was found, 2 usage/config error, 3 infrastructure error or stopped.");
  return [a, &g]() { return compare_verb(*a, g); };
});

}  // namespace
}  // namespace numasoak::cli
