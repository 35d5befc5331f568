#include "cli/guest_flags.h"

#include <fmt/format.h>

#include "common/bytes.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/paths.h"
#include "spec/knobs.h"

namespace numasoak::cli {

void add_guest_flags(Command& cmd, GuestFlags& f) {
  cmd.option("-c,--campaign", f.campaign, "Take topology, workload and watchdogs from this campaign file");
  cmd.option("-d,--duration", f.duration, "Workload time (90s, 5m, 2h); the run ends earlier on a failure");
  cmd.option("--amplify-us", f.amplify_us, "Race-window amplifier: udelay in change_pmd_range() for NUMA walks (0 = off)");
  cmd.option("--amplify-uffd-us", f.amplify_uffd_us, "The same for uffd-wp walks (0 = off)");
  std::string profiles;
  for (const auto& p : nsw::kProfiles) profiles += (profiles.empty() ? "" : ", ") + std::string(p.name);
  cmd.option("-p,--profile", f.profile, "Workload profile (" + profiles + ")");
  cmd.option("--knob", f.knobs, "Workload knob NAME=VALUE (repeatable)");
  cmd.option("--accel", f.accel, "kvm, tcg or auto (probe KVM, fall back to TCG)").one_of({"auto", "kvm", "tcg"});
  cmd.option("--nodes", f.nodes, "NUMA nodes").range(1, 16);
  cmd.option("--cpus-per-node", f.cpus_per_node, "vCPUs per node").range(1, 64);
  cmd.option("--memory", f.memory, "Guest memory in total, divided across nodes (e.g. 2G)");
}

Campaign campaign_from_flags(const GuestFlags& a) {
  std::string text;
  std::filesystem::path base = std::filesystem::current_path();
  std::string display = "command line";
  if (!a.campaign.empty()) {
    text = read_file(a.campaign);
    base = std::filesystem::absolute(a.campaign).parent_path();
    display = a.campaign;
  }
  Campaign c = load_campaign_text(a.campaign.empty() ? "name = \"run\"\n" : text, display, base, false);
  auto flag_error = [](const std::string& flag, const std::string& msg) { return usage_error(flag + ": " + msg); };
  if (!a.duration.empty()) {
    auto d = parse_duration(a.duration);
    if (!d || d->count() <= 0 || *d > std::chrono::hours(24 * 30)) throw flag_error("--duration", "\"" + a.duration + "\" is not a duration from 1s to 30d (e.g. 90s, 5m, 2h)");
    c.duration = *d;
  }
  if (!a.profile.empty()) c.workload.profile = a.profile;
  if (a.amplify_us) {
    if (*a.amplify_us < 0 || *a.amplify_us > 10000) throw flag_error("--amplify-us", fmt::format("{} is out of range 0..10000", *a.amplify_us));
    c.workload.amplify_us = *a.amplify_us;
  }
  if (a.amplify_uffd_us) {
    if (*a.amplify_uffd_us < 0 || *a.amplify_uffd_us > 10000) throw flag_error("--amplify-uffd-us", fmt::format("{} is out of range 0..10000", *a.amplify_uffd_us));
    c.workload.amplify_uffd_us = *a.amplify_uffd_us;
  }
  if (!a.accel.empty()) c.accel = a.accel == "kvm" ? Accel::kKvm : a.accel == "tcg" ? Accel::kTcg : Accel::kAuto;
  for (const auto& kv : a.knobs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw flag_error("--knob", "\"" + kv + "\" is not NAME=VALUE");
    c.workload.knobs[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (a.nodes > 0 || a.cpus_per_node > 0 || !a.memory.empty()) {
    const int nodes = a.nodes > 0 ? a.nodes : static_cast<int>(c.topology.nodes.size());
    const int cpus = a.cpus_per_node > 0 ? a.cpus_per_node : c.topology.nodes.at(0).cpus;
    Bytes total = c.topology.total_memory();
    if (!a.memory.empty()) {
      auto b = parse_bytes(a.memory);
      if (!b || b->value == 0) throw flag_error("--memory", "\"" + a.memory + "\" is not a size (e.g. 2G)");
      total = *b;
    }
    if (total.mib() % static_cast<std::uint64_t>(nodes) != 0) {
      throw flag_error("--memory", fmt::format("{} does not divide evenly across {} nodes", format_bytes(total), nodes));
    }
    c.topology.nodes.assign(static_cast<size_t>(nodes), NumaNode{cpus, MiB(total.mib() / static_cast<std::uint64_t>(nodes))});
    c.topology.distances.clear();
    auto problems = c.topology.problems();
    if (!problems.empty()) throw usage_error("topology: " + problems.front());
  }
  return c;
}

}  // namespace numasoak::cli
