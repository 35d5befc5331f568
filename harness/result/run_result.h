// RunResult: what one run of one kernel found. The run module produces it,
// the store keeps it, statistics and reports read it.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace numasoak {

/// How one run ended for the kernel: it failed, it survived, an error said nothing, or it was interrupted.
enum class Verdict {
  kFailed,       // the kernel failed: a crash signature, lost memory, a hang
  kSurvived,     // the workload ran its whole duration with no failure
  kError,        // no evidence either way: boot failure, misconfiguration, QEMU died
  kInterrupted,  // the harness stopped it (Ctrl-C, host gone); to be re-run
};

const char* to_string(Verdict v);
std::optional<Verdict> verdict_from_string(const std::string& s);

// Kinds a run adds to the detector's signature kinds ("bad-pmd", "panic"...).
namespace kinds {
inline constexpr const char* kIntegrity = "integrity";        // agent saw lost/corrupt memory
inline constexpr const char* kProtection = "protection";      // a write-protected/PROT_READ page took a write
inline constexpr const char* kHang = "hang";                  // no output for the silence watchdog
inline constexpr const char* kGuestPanicked = "panic";        // QEMU reported GUEST_PANICKED
inline constexpr const char* kLost = "lost";                  // QEMU exited with no marker
inline constexpr const char* kBootFailure = "boot-failure";   // workload never started
inline constexpr const char* kConfig = "config";              // the guest refused the setup
inline constexpr const char* kNoRaceEvents = "no-race-events";  // ran, but exercised nothing
inline constexpr const char* kInfrastructure = "infrastructure";  // the harness side broke
}  // namespace kinds

/// One failure seen during a run (a run may see several when it keeps going).
struct FailureRecord {
  std::string kind;
  std::string title;         // normalised: the same crash has the same title
  double host_s = 0;         // host seconds since workload start (negative: during boot)
  std::optional<double> uptime_s;  // guest printk timestamp, when there is one
  std::string guilty_frame;
  std::string report;        // the lines of the report (untrusted guest text)
};

/// The files a run left in its folder: console and agent logs, report, the exact VM command, result.json.
struct RunArtifacts {
  std::string dir;           // the run's folder; the paths below are inside it
  std::string console_log;
  std::string agent_log;
  std::string report;
  std::string command;       // the exact QEMU argv (JSON array) or libvirt XML
  std::string result_json;
};

/// The error a run without evidence about the kernel would have been, when
/// its campaign queued it again instead (kinds::kLost, kinds::kInfrastructure).
struct RequeuedError {
  std::string kind;
  std::string title;
};

/// What one run of one kernel found.
struct RunResult {
  std::string run_id;        // "<kernel>-<n>" unique within a campaign
  std::string kernel;        // campaign kernel name
  std::string kernel_release;  // uname -r of the artifact
  std::string host;          // where it ran ("local" or a libvirt URI)
  std::string accel;         // "kvm" or "tcg"
  // How the race window was widened: "source patch (...)", "outside: kprobe
  // at change_protection+0x3e6 (...)" or "none" (run/widening.h).
  std::string widened;
  Verdict verdict = Verdict::kError;
  std::string kind;          // first failure's kind, or why it is an error
  std::string title;         // first failure's title, or the error message
  std::optional<double> time_to_failure_s;  // host clock, from workload start
  std::optional<double> uptime_s;           // guest uptime at the first failure
  double boot_s = 0;         // guest start -> workload start
  double exposure_s = 0;     // workload seconds observed (to failure or end)
  std::vector<FailureRecord> failures;
  // Race-relevant event totals and per-second rates from the agent telemetry.
  std::map<std::string, double> event_totals;
  std::map<std::string, double> rates;
  std::string started_at;    // wall clock, ISO 8601 UTC
  std::string finished_at;
  RunArtifacts artifacts;
  // Set when the verdict is `interrupted` because the run had no evidence
  // (run/verdict.h); not stored, not in result.json.
  std::optional<RequeuedError> requeued;
};

void to_json(nlohmann::json& j, const RunResult& r);
void from_json(const nlohmann::json& j, RunResult& r);
void to_json(nlohmann::json& j, const FailureRecord& f);
void from_json(const nlohmann::json& j, FailureRecord& f);

}  // namespace numasoak
