#include "run/verdict.h"

#include <algorithm>
#include <fmt/format.h>

namespace numasoak {

namespace {

// Lost memory is the symptom; when the kernel explains it on the console
// within the report window, its report is the headline.
size_t headline_of(const std::vector<FailureRecord>& failures, Duration report_window) {
  if (failures[0].kind != kinds::kIntegrity) return 0;
  for (size_t i = 1; i < failures.size(); ++i) {
    if (failures[i].host_s - failures[0].host_s > seconds(report_window)) break;
    if (failures[i].kind != kinds::kIntegrity && failures[i].kind != kinds::kHang) return i;
  }
  return 0;
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

RunVerdict failed(std::vector<FailureRecord> failures, Duration report_window) {
  // Reports complete out of order (a console report waits for its whole
  // trace); put them back in the order they happened.
  std::stable_sort(failures.begin(), failures.end(),
                   [](const FailureRecord& a, const FailureRecord& b) { return a.host_s < b.host_s; });
  RunVerdict v;
  v.verdict = Verdict::kFailed;
  const FailureRecord& head = failures[headline_of(failures, report_window)];
  v.kind = head.kind;
  v.title = head.title;
  // The time to failure is the first failure's, whichever is the headline
  // (a failure during boot counts as at workload start).
  v.time_to_failure_s = std::max(0.0, failures.front().host_s);
  v.uptime_s = head.uptime_s ? head.uptime_s : failures.front().uptime_s;
  v.failures = std::move(failures);
  return v;
}

RunVerdict ended(Verdict verdict, std::string kind, std::string title) {
  RunVerdict v;
  v.verdict = verdict;
  v.kind = std::move(kind);
  v.title = std::move(title);
  return v;
}

RunVerdict without_failures(const RunFacts& f) {
  if (f.artifacts_error) return ended(Verdict::kError, f.artifacts_error->kind, f.artifacts_error->message);
  // A host that went away says nothing about the kernel: re-run.
  if (f.exit && f.exit->cause == vm::ExitCause::kHostGone) return ended(Verdict::kInterrupted, "interrupted", f.exit->reason);
  if (f.interrupted) return ended(Verdict::kInterrupted, "interrupted", f.stop_reason);
  if (f.error) return ended(Verdict::kError, f.error->kind, f.error->message);
  if (f.duration_reached) {
    if (f.profile != "quiet" && f.saw_heartbeat && f.race_events_total == 0) {
      return ended(Verdict::kError, kinds::kNoRaceEvents,
                   "the workload ran but produced no race-relevant events (no THP migration, no huge-pmd NUMA updates)");
    }
    return ended(Verdict::kSurvived, "", "");
  }
  // The guest ended on its own with nothing found: QEMU died, or the kernel
  // never got to the workload.
  std::string title = fmt::format("the guest exited unexpectedly ({})", f.exit ? f.exit->reason : "no exit status");
  if (f.exit && !f.exit->last_stderr.empty()) title += ": " + last_line(f.exit->last_stderr);
  // A QEMU killed from outside (OOM killer, a person, a chaos test) says
  // nothing about the kernel, before the workload started as after: lost,
  // which a campaign re-queues (bench/chaos found boot-failure here).
  if (f.workload_started || (f.exit && f.exit->killed())) return ended(Verdict::kError, kinds::kLost, std::move(title));
  title += fmt::format("; last console line: {}", f.last_console_line.empty() ? "(none)" : f.last_console_line);
  return ended(Verdict::kError, kinds::kBootFailure, std::move(title));
}

}  // namespace

RunVerdict decide_verdict(RunFacts facts) {
  if (!facts.failures.empty()) return failed(std::move(facts.failures), facts.report_window);
  RunVerdict v = without_failures(facts);
  const bool requeue = v.verdict == Verdict::kError && ((v.kind == kinds::kLost && facts.requeue.lost) ||
                                                        (v.kind == kinds::kInfrastructure && facts.requeue.infrastructure));
  if (requeue) {
    // No evidence about the kernel either way: neither a failure nor a
    // survival. The campaign queues it again.
    v.requeued = RequeuedError{v.kind, v.title};
    v.verdict = Verdict::kInterrupted;
    v.title = v.kind + ": " + v.title;
    v.kind = "interrupted";
  }
  return v;
}

}  // namespace numasoak
