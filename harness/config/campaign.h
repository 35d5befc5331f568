// Campaign: everything a campaign file says, validated. One schema serves
// `check`, `run`, `compare` and `kernel build`.
//
// A campaign file is TOML:
//
//   name = "default"                 # names the output folder and libvirt domains
//   kernels = ["6.1", "6.1+backport"]  # names from configs/kernels.toml or [kernel.NAME]
//   runs_per_kernel = 5
//   duration = "3m"                  # workload time per run
//   parallel = 1                     # guests at once
//   ...
//   [topology]   nodes, cpus_per_node, memory (total) or memory_per_node, distances
//   [workload]   profile, amplify_us, amplify_uffd_us, [workload.knobs]
//   [watchdog]   boot, silence
//   [backend]    kind = "qemu" | "libvirt", [[backend.hosts]] uri, capacity, labels
//   [sweep]      amplify_us = [200, 50, 20, 0]: every kernel at every race-window
//                width, one arm "<kernel>@<width>us" ("@off" for 0) per pair
//   [kernel.NAME] source, patches, fragments, amplifier, description
//
// configs/default.toml documents every key with a comment.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/duration.h"
#include "common/error.h"
#include "config/accel.h"
#include "config/kernel_spec.h"
#include "topology/topology.h"

namespace numasoak {

/// Where guests run: direct QEMU here, or libvirt hosts.
enum class BackendKind { kQemu, kLibvirt };
/// What a run does after the first kernel failure.
enum class OnFailure { kStop, kContinue };
/// When a campaign ends: after the fixed number of runs, or as soon as the
/// comparison is decided (a sequential rule) or the budget runs out.
enum class CampaignStop { kFixed, kDecisive };
/// Which sequential test stop = "decisive" uses (campaign/decisive.h): the
/// failure-rate confidence sequences over exposure, or the paired test on
/// which build failed first. Both are valid however often they look.
enum class DecideBy { kRates, kPairs };

/// The guest workload's settings: profile, amplifier, knobs.
struct WorkloadSpec {
  std::string profile = "bad-pmd";
  int amplify_us = 0;       // numasoak.race_widen_us (NUMA-balancing walks)
  int amplify_uffd_us = 0;  // numasoak.race_widen_uffd_us (uffd-wp walks)
  // Per-stressor settings for the guest (names from guest/common/knobs.h),
  // passed on the kernel command line. Values are kept as text.
  std::map<std::string, std::string> knobs;
  std::vector<std::string> extra_cmdline;  // appended verbatim to the kernel command line
};

/// How long a guest may stay silent, or take to boot, before it counts as hung.
struct WatchdogSpec {
  Duration boot = std::chrono::minutes(2);     // kernel start -> workload started
  Duration silence = std::chrono::minutes(3);  // no console or agent output -> hang
};

/// One [[backend.hosts]] entry, with where it was written.
struct HostSpec {
  std::string uri;            // "qemu:///system", "qemu+ssh://root@host/system"
  int capacity = 0;           // vCPUs numasoak may keep busy there; 0 = host's count
  std::vector<std::string> labels;
  SourceLocation where;
};

/// The [backend] table: its kind and hosts.
struct BackendSpec {
  BackendKind kind = BackendKind::kQemu;
  std::vector<HostSpec> hosts;  // libvirt only
};

/// One arm of a campaign: what the store and the report call a "kernel".
/// Without a sweep an arm is a kernel; with one it is a kernel at one
/// race-window width, and the store keys its runs by the arm's name while
/// the build is the base kernel's (one build per kernel, not per arm).
struct CampaignArm {
  std::string name;                // "6.1-bare@20us", "6.1-bare@off", or the kernel name
  std::string kernel;              // the campaign kernel it runs ("6.1-bare")
  std::optional<int> amplify_us;   // the sweep's width for this arm; nullopt = workload.amplify_us
};

/// The arm name of `kernel` at sweep width `width_us`: "<kernel>@<width>us",
/// "<kernel>@off" for 0.
std::string sweep_arm_name(const std::string& kernel, int width_us);

/// Largest race-window width a campaign may ask for, in µs (the amplifier's
/// own limit: workload.amplify_us has the same range).
inline constexpr int kMaxAmplifyUs = 10000;

/// A validated campaign file (see above).
struct Campaign {
  std::filesystem::path file;        // the campaign file ("" when built from flags)
  std::string name = "campaign";
  std::filesystem::path output_dir;  // absolute
  std::vector<std::string> kernel_names;       // in the order to interleave
  std::map<std::string, KernelSpec> kernels;   // every kernel known (library + file)
  Topology topology;
  WorkloadSpec workload;
  WatchdogSpec watchdog;
  BackendSpec backend;
  Accel accel = Accel::kAuto;
  Duration duration = std::chrono::minutes(3);
  int runs_per_kernel = 5;
  int parallel = 1;
  double oversubscribe = 1.0;   // busy vCPUs may reach host cores x this
  OnFailure on_failure = OnFailure::kStop;
  CampaignStop stop = CampaignStop::kFixed;
  DecideBy decide_by = DecideBy::kRates;  // with stop = "decisive"
  std::optional<Duration> budget;  // wall-clock limit for the whole campaign
  double confidence = 0.95;
  // [sweep] amplify_us: the race-window widths every kernel runs at, in the
  // file's order (empty: no sweep, each kernel is one arm at workload.amplify_us).
  std::vector<int> sweep_amplify_us;

  bool is_sweep() const { return !sweep_amplify_us.empty(); }
  // The arms in the order the store interleaves them: kernel by kernel, each
  // at every sweep width in the file's order (or the kernels themselves).
  std::vector<CampaignArm> arms() const;
  // The arm called `arm_name` (a store "kernel"); nullopt when there is none.
  std::optional<CampaignArm> arm(const std::string& arm_name) const;

  const KernelSpec& kernel(const std::string& kernel_name) const { return kernels.at(kernel_name); }
  // Guest time the campaign asks for at most: runs x arms x duration.
  Duration planned_guest_time() const;
};

/// One problem found in a campaign file.
struct ConfigIssue {
  SourceLocation where;
  std::string key;      // dotted path: "topology.memory", "kernel.6.1.source"
  std::string message;  // what is wrong
  std::string hint;     // what to do, e.g. "did you mean 'runs_per_kernel'?"

  // "file:line:col: key: message (hint)"
  std::string to_string() const;
};

/// Thrown when a campaign file has problems: all of them, in file order.
class ConfigErrors : public Error {
 public:
  explicit ConfigErrors(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// Loads the kernel library (data_dir()/configs/kernels.toml) and then `file`,
// validates everything and returns the campaign. Throws ConfigErrors listing
// every problem found.
Campaign load_campaign(const std::filesystem::path& file);

// The same from text (tests and `run` flags); `display_name` names it in errors.
// `require_kernels` = false lets `run` take its kernel from the command line.
Campaign load_campaign_text(const std::string& text, const std::string& display_name,
                            const std::filesystem::path& base_dir, bool require_kernels = true);

// The kernel library alone (for `kernel list` / `kernel build NAME` without a campaign).
std::map<std::string, KernelSpec> load_kernel_library();

// Closest candidate by edit distance, or "" when none is close enough.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// The validated campaign as JSON: `check --json` and the store's snapshot.
nlohmann::json campaign_to_json(const Campaign& c);

const char* to_string(BackendKind b);

}  // namespace numasoak
