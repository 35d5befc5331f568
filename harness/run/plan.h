// RunPlan: everything one run needs, made in one place.
//
// `run`, `compare` (campaign/runner) and `bench` each describe a run by the
// campaign's settings, a kernel, an image and where the run goes (RunSlot);
// make_plan() turns that into the RunPlan a Run executes, with the rules that
// must not differ between them (a kernel built without the amplifier series
// never gets its parameters; the manifests of kernel and image are copied
// next to the run's artifacts).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "config/campaign.h"
#include "image/image.h"
#include "kernel/build.h"
#include "run/widening.h"
#include "topology/topology.h"
#include "vm/backend.h"

namespace numasoak {

/// Which runs that ended with no evidence about the kernel become
/// `interrupted` (queued again) rather than `error`: a campaign's policy,
/// applied by decide_verdict (run/verdict.h).
struct RequeuePolicy {
  bool lost = false;            // QEMU died under the run (kinds::kLost)
  bool infrastructure = false;  // the harness side broke (kinds::kInfrastructure)
};

/// A file copied into the run's artifacts folder under `name`.
struct PlanManifest {
  std::filesystem::path source;
  std::string name;  // file name in the artifacts folder
};

/// One run, fully decided: which kernel and image, which guest, which
/// workload and watchdogs, where its artifacts go.
struct RunPlan {
  std::string run_id;              // unique within the campaign, names the artifacts folder
  std::string guest_name;          // unique guest/domain name
  std::string kernel;              // campaign kernel name ("6.1+backport"), not its uname or path
  std::string kernel_release;      // uname -r of the image, for the result
  std::filesystem::path kernel_image;  // the bzImage file
  std::filesystem::path initrd;
  std::vector<PlanManifest> manifests;  // copied into the artifacts (kernel, image)
  Topology topology;
  WorkloadSpec workload;
  WatchdogSpec watchdog;
  Duration duration = std::chrono::minutes(3);
  OnFailure on_failure = OnFailure::kStop;
  vm::Accel accel = vm::Accel::kTcg;
  std::filesystem::path out_dir;   // the run's artifacts folder (created)
  std::string host = "local";
  std::uint64_t console_log_cap = 64ull << 20;  // bytes of console log kept on disk
  Duration report_window = std::chrono::seconds(5);
  Duration stop_grace = std::chrono::seconds(5);
  RequeuePolicy requeue;           // default: every run without evidence is an error
  Widening widening;               // how the race window is widened (run/widening.h)
};

/// Where one run goes and what it is called: the caller's part of a plan.
struct RunSlot {
  std::string run_id;
  std::string guest_name;
  std::filesystem::path out_dir;
};

/// What one caller changes in the campaign's settings for its runs.
struct PlanOverrides {
  std::optional<std::string> profile;     // workload profile
  std::optional<int> amplify_us;          // numasoak.race_widen_us
  std::optional<Duration> duration;
  std::optional<OnFailure> on_failure;
  Duration min_boot{0};                   // the boot watchdog is at least this
  Duration min_silence{0};                // the silence watchdog is at least this
};

/// The one way a RunPlan is made: the campaign's topology, workload,
/// watchdogs, duration and on_failure with `overrides` on top, the kernel
/// and image artifacts, the accelerator and the slot. A kernel whose spec
/// says it was built without the amplifier runs with the amplifier off.
RunPlan make_plan(const Campaign& campaign, const KernelSpec& spec, const KernelArtifact& kernel,
                  const image::ImageArtifact& image, vm::Accel accel, RunSlot slot,
                  const PlanOverrides& overrides = {});

/// The kernel command line a plan boots with (amplifier, workload knobs,
/// extra options); the backend adds console and panic settings.
std::string run_cmdline(const RunPlan& plan);

}  // namespace numasoak
