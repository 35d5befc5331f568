// numasoak check FILE: validate a campaign file and say what it would do.
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/verb.h"
#include "config/campaign.h"

namespace numasoak::cli {
namespace {

void print_human(const Campaign& c) {
  fmt::print("campaign {} ({})\n", c.name, c.file.string());
  fmt::print("  output     {}\n", c.output_dir.string());
  fmt::print("  kernels    {}\n", c.kernel_names.size());
  for (const auto& name : c.kernel_names) {
    const auto& k = c.kernel(name);
    std::string patches;
    for (const auto& p : k.patches) patches += (patches.empty() ? "" : ", ") + p;
    fmt::print("    {:<16} {}{}{}\n", name, describe_source(k), patches.empty() ? "" : " + " + patches,
               k.amplifier ? " + amplifier" : "");
  }
  fmt::print("  topology   {} ({} vCPUs, {} RAM)\n", c.topology.describe(), c.topology.total_cpus(),
             format_bytes(c.topology.total_memory()));
  if (c.is_sweep()) {
    std::string widths;
    for (const int w : c.sweep_amplify_us) widths += fmt::format("{}{}", widths.empty() ? "" : ", ", w);
    fmt::print("  workload   profile {}, amplifier swept over [{}] us (uffd-wp {} us)\n", c.workload.profile, widths,
               c.workload.amplify_uffd_us);
    std::string arms;
    for (const auto& a : c.arms()) arms += (arms.empty() ? "" : ", ") + a.name;
    fmt::print("  arms       {}\n", arms);
    fmt::print("  runs       {} per arm x {} arms, {} each, {} at once, interleaved\n", c.runs_per_kernel,
               c.arms().size(), format_duration(c.duration), c.parallel);
  } else {
    fmt::print("  workload   profile {}, amplifier {} us (uffd-wp {} us)\n", c.workload.profile, c.workload.amplify_us,
               c.workload.amplify_uffd_us);
    fmt::print("  runs       {} per kernel x {} kernels, {} each, {} at once, interleaved\n", c.runs_per_kernel,
               c.kernel_names.size(), format_duration(c.duration), c.parallel);
  }
  fmt::print("  guest time at most {} ({})\n", format_duration(c.planned_guest_time()),
             c.stop != CampaignStop::kDecisive ? "fixed run count"
             : c.decide_by == DecideBy::kRates ? "stops early once decided by failure rates"
                                               : "stops early once decided by the paired test");
  if (c.budget) fmt::print("  budget     {}\n", format_duration(*c.budget));
  fmt::print("  backend    {}, accel {}\n", to_string(c.backend.kind), to_string(c.accel));
  for (const auto& h : c.backend.hosts) fmt::print("    host {} (capacity {})\n", h.uri, h.capacity);
}

const VerbRegistration reg(10, [](Command& app, const Globals&) -> VerbAction {
  Command cmd = app.subcommand("check", "Validate a campaign file and print what it would do (runs nothing)");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd.option("file", *file, "Campaign file (TOML), e.g. configs/default.toml").required();
  cmd.flag("--json", *json, "Print the validated campaign as JSON");
  return [file, json]() -> ExitCode {
    Campaign c;
    try {
      c = load_campaign(*file);
    } catch (const ConfigErrors& e) {
      for (const auto& issue : e.issues()) std::cerr << issue.to_string() << "\n";
      std::cerr << fmt::format("numasoak: {} problem{} in {}\n", e.issues().size(), e.issues().size() == 1 ? "" : "s", *file);
      return ExitCode::kUsage;
    }
    if (*json) {
      std::cout << campaign_to_json(c).dump(2) << std::endl;
    } else {
      print_human(c);
      std::cout.flush();
    }
    if (!std::cout) throw infra_error("cannot write to standard output");
    return ExitCode::kOk;
  };
});

}  // namespace
}  // namespace numasoak::cli
