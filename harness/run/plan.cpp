#include "run/plan.h"

#include <algorithm>
#include <fmt/format.h>

#include "image/append.h"
#include "spec/knobs.h"

namespace numasoak {

namespace fs = std::filesystem;

RunPlan make_plan(const Campaign& campaign, const KernelSpec& spec, const KernelArtifact& kernel,
                  const image::ImageArtifact& image, vm::Accel accel, RunSlot slot, const PlanOverrides& overrides) {
  RunPlan p;
  p.run_id = std::move(slot.run_id);
  p.guest_name = std::move(slot.guest_name);
  p.out_dir = std::move(slot.out_dir);
  p.kernel = spec.name;
  p.kernel_release = kernel.release;
  p.kernel_image = kernel.bzimage;
  p.initrd = image.path;
  // Both are called manifest.json where they come from: they get names of
  // their own next to the run's artifacts.
  std::error_code ec;
  if (!kernel.dir.empty() && fs::is_regular_file(kernel.dir / "manifest.json", ec)) {
    p.manifests.push_back({kernel.dir / "manifest.json", "manifest.json"});
  }
  if (!image.manifest.empty() && fs::is_regular_file(image.manifest, ec)) {
    p.manifests.push_back({image.manifest, "image-manifest.json"});
  }
  p.topology = campaign.topology;
  p.workload = campaign.workload;
  if (overrides.profile) p.workload.profile = *overrides.profile;
  if (overrides.amplify_us) p.workload.amplify_us = *overrides.amplify_us;
  p.widening = decide_widening(spec, kernel, p.workload.amplify_us, p.workload.amplify_uffd_us);
  if (p.widening.how == Widening::How::kNone) {
    // A kernel with no way to widen the window has no such parameter;
    // passing it would be harmless but would make the record lie.
    p.workload.amplify_us = 0;
    p.workload.amplify_uffd_us = 0;
  } else if (p.widening.how == Widening::How::kOutside) {
    p.initrd = image::with_files(image, {{"lib/numasoak_widen.ko", p.widening.module, 0644}}).path;
  }
  p.watchdog = campaign.watchdog;
  p.watchdog.boot = std::max(p.watchdog.boot, overrides.min_boot);
  p.watchdog.silence = std::max(p.watchdog.silence, overrides.min_silence);
  p.duration = overrides.duration.value_or(campaign.duration);
  p.on_failure = overrides.on_failure.value_or(campaign.on_failure);
  p.accel = accel;
  return p;
}

std::string run_cmdline(const RunPlan& plan) {
  std::vector<std::string> parts;
  // The amplifier parameters exist only in kernels built with the amplifier
  // series; other kernels ignore unknown dotted parameters silently.
  if (plan.widening.how == Widening::How::kOutside) {
    // guest/init hands numasoak_widen.* to the module it loads.
    for (const auto& m : plan.widening.point.module_params()) parts.push_back("numasoak_widen." + m);
    parts.push_back(fmt::format("numasoak_widen.numa_us={}", plan.workload.amplify_us));
    parts.push_back(fmt::format("numasoak_widen.uffd_us={}", plan.workload.amplify_uffd_us));
  } else {
    if (plan.workload.amplify_us > 0) parts.push_back(fmt::format("numasoak.race_widen_us={}", plan.workload.amplify_us));
    if (plan.workload.amplify_uffd_us > 0) {
      parts.push_back(fmt::format("numasoak.race_widen_uffd_us={}", plan.workload.amplify_uffd_us));
    }
  }
  parts.push_back(fmt::format("{}profile={}", nsw::kPrefix, plan.workload.profile));
  // The host decides when a run ends; the guest runs until it is stopped.
  parts.push_back(fmt::format("{}duration=0", nsw::kPrefix));
  for (const auto& [k, v] : plan.workload.knobs) parts.push_back(fmt::format("{}{}={}", nsw::kPrefix, k, v));
  for (const auto& e : plan.workload.extra_cmdline) parts.push_back(e);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

}  // namespace numasoak
