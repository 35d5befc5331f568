#include "result/run_result.h"

#include <nlohmann/json.hpp>

namespace numasoak {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kFailed: return "failed";
    case Verdict::kSurvived: return "survived";
    case Verdict::kError: return "error";
    case Verdict::kInterrupted: return "interrupted";
  }
  return "error";
}

std::optional<Verdict> verdict_from_string(const std::string& s) {
  if (s == "failed") return Verdict::kFailed;
  if (s == "survived") return Verdict::kSurvived;
  if (s == "error") return Verdict::kError;
  if (s == "interrupted") return Verdict::kInterrupted;
  return std::nullopt;
}

void to_json(nlohmann::json& j, const FailureRecord& f) {
  j = {{"kind", f.kind}, {"title", f.title}, {"host_s", f.host_s}, {"guilty_frame", f.guilty_frame}, {"report", f.report}};
  j["uptime_s"] = f.uptime_s ? nlohmann::json(*f.uptime_s) : nlohmann::json(nullptr);
}

void from_json(const nlohmann::json& j, FailureRecord& f) {
  f.kind = j.value("kind", "");
  f.title = j.value("title", "");
  f.host_s = j.value("host_s", 0.0);
  f.guilty_frame = j.value("guilty_frame", "");
  f.report = j.value("report", "");
  if (j.contains("uptime_s") && j["uptime_s"].is_number()) f.uptime_s = j["uptime_s"].get<double>();
}

void to_json(nlohmann::json& j, const RunResult& r) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j = {{"run_id", r.run_id},
       {"kernel", r.kernel},
       {"kernel_release", r.kernel_release},
       {"host", r.host},
       {"accel", r.accel},
       {"widened", r.widened},
       {"verdict", to_string(r.verdict)},
       {"kind", r.kind},
       {"title", r.title},
       {"time_to_failure_s", opt(r.time_to_failure_s)},
       {"uptime_s", opt(r.uptime_s)},
       {"boot_s", r.boot_s},
       {"exposure_s", r.exposure_s},
       {"failures", r.failures},
       {"event_totals", r.event_totals},
       {"rates", r.rates},
       {"started_at", r.started_at},
       {"finished_at", r.finished_at},
       {"console_log", r.artifacts.console_log},
       {"artifacts",
        {{"dir", r.artifacts.dir},
         {"console_log", r.artifacts.console_log},
         {"agent_log", r.artifacts.agent_log},
         {"report", r.artifacts.report},
         {"command", r.artifacts.command},
         {"result_json", r.artifacts.result_json}}}};
}

void from_json(const nlohmann::json& j, RunResult& r) {
  r.run_id = j.value("run_id", "");
  r.kernel = j.value("kernel", "");
  r.kernel_release = j.value("kernel_release", "");
  r.host = j.value("host", "");
  r.accel = j.value("accel", "");
  r.widened = j.value("widened", "");
  r.verdict = verdict_from_string(j.value("verdict", "error")).value_or(Verdict::kError);
  r.kind = j.value("kind", "");
  r.title = j.value("title", "");
  if (j.contains("time_to_failure_s") && j["time_to_failure_s"].is_number()) r.time_to_failure_s = j["time_to_failure_s"].get<double>();
  if (j.contains("uptime_s") && j["uptime_s"].is_number()) r.uptime_s = j["uptime_s"].get<double>();
  r.boot_s = j.value("boot_s", 0.0);
  r.exposure_s = j.value("exposure_s", 0.0);
  if (j.contains("failures")) r.failures = j["failures"].get<std::vector<FailureRecord>>();
  if (j.contains("event_totals")) r.event_totals = j["event_totals"].get<std::map<std::string, double>>();
  if (j.contains("rates")) r.rates = j["rates"].get<std::map<std::string, double>>();
  r.started_at = j.value("started_at", "");
  r.finished_at = j.value("finished_at", "");
  if (j.contains("artifacts")) {
    const auto& a = j["artifacts"];
    r.artifacts.dir = a.value("dir", "");
    r.artifacts.console_log = a.value("console_log", "");
    r.artifacts.agent_log = a.value("agent_log", "");
    r.artifacts.report = a.value("report", "");
    r.artifacts.command = a.value("command", "");
    r.artifacts.result_json = a.value("result_json", "");
  }
}

}  // namespace numasoak
