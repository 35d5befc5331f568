#include "sample.h"

#include <fmt/format.h>

#include <fstream>

#include "store/store.h"

namespace numasoak::test {

namespace fs = std::filesystem;

namespace {

void set_artifacts(RunResult& r) {
  const std::string d = "runs/" + r.run_id;
  r.artifacts.dir = d;
  r.artifacts.console_log = d + "/console.log";
  r.artifacts.agent_log = d + "/agent.jsonl";
  r.artifacts.result_json = d + "/result.json";
  if (r.verdict == Verdict::kFailed) r.artifacts.report = d + "/report.txt";
}

void set_telemetry(RunResult& r, double scale) {
  r.rates = {{"numa_pages_migrated", 850 * scale},
             {"thp_migration_success", 1.6 * scale},
             {"numa_pte_updates", 12400 * scale},
             {"numa_hint_faults", 910 * scale},
             {"pgmigrate_success", 860 * scale}};
  for (const auto& [k, v] : r.rates) r.event_totals[k] = v * r.exposure_s;
}

}  // namespace

RunResult failed(const std::string& kernel, int n, double ttf, const std::string& title, const std::string& kind) {
  RunResult r;
  r.run_id = fmt::format("{}-{}", kernel, n);
  r.kernel = kernel;
  r.kernel_release = "6.1.192";
  r.host = "local";
  r.accel = "tcg";
  r.verdict = Verdict::kFailed;
  r.kind = kind;
  r.title = title;
  r.time_to_failure_s = ttf;
  r.uptime_s = ttf + 2.2;
  r.boot_s = 2.2;
  r.exposure_s = ttf;
  r.failures.push_back({kind, title, ttf, ttf + 2.2, "", title + "\n"});
  r.started_at = fmt::format("2025-03-01T10:{:02d}:00Z", n);
  r.finished_at = fmt::format("2025-03-01T10:{:02d}:{:02d}Z", n, static_cast<int>(ttf) % 60);
  set_artifacts(r);
  return r;
}

RunResult survived(const std::string& kernel, int n, double exposure) {
  RunResult r;
  r.run_id = fmt::format("{}-{}", kernel, n);
  r.kernel = kernel;
  r.kernel_release = "6.1.192";
  r.host = "local";
  r.accel = "tcg";
  r.verdict = Verdict::kSurvived;
  r.boot_s = 2.3;
  r.exposure_s = exposure;
  r.started_at = fmt::format("2025-03-01T11:{:02d}:00Z", n);
  r.finished_at = fmt::format("2025-03-01T11:{:02d}:00Z", n + 5);
  set_artifacts(r);
  return r;
}

RunResult errored(const std::string& kernel, int n, const std::string& kind, const std::string& title) {
  RunResult r = survived(kernel, n, 0);
  r.verdict = Verdict::kError;
  r.kind = kind;
  r.title = title;
  r.boot_s = 120;
  return r;
}

void make_sample_campaign(const fs::path& dir) {
  Store s = Store::open(dir);
  s.set_campaign("backport-6.1", "configs/backport-6.1.toml",
                 {{"runs_per_kernel", 10},
                  {"duration_s", 300},
                  {"confidence", 0.95},
                  {"topology", {{"nodes", 2}, {"cpus", 4}, {"memory_mib", 2048}}},
                  {"workload", {{"profile", "bad-pmd"}, {"amplify_us", 200}, {"amplify_uffd_us", 0}}}});
  s.record_kernel({"6.1", "6.1.192", "linux-source-6.1 (Debian 6.1.192)", {{"sha256", "5f0c..."}}, 0});
  s.record_kernel({"6.1+backport", "6.1.192", "linux-source-6.1 + patches/6.1/backport", {{"sha256", "a91e..."}}, 1});
  s.plan_runs({"6.1", "6.1+backport"}, 10);

  const std::string bad_pmd_report =
      "[   21.347901][  T193] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)\n"
      "[   21.349012][  T193] numasoak: pmd cleared under change_pmd_range (task_numa_work)\n";
  const std::string rss_report =
      "[   44.120355][  T201] BUG: Bad rss-counter state mm:00000000a5b3c7e1 type:MM_ANONPAGES val:-512\n"
      "[   44.121002][  T201] CPU: 1 PID: 201 Comm: numasoak-work Not tainted 6.1.192 #1\n"
      "[   44.121540][  T201] Call Trace:\n"
      "[   44.121700][  T201]  <TASK>\n"
      "[   44.121844][  T201]  dump_stack_lvl+0x44/0x5c\n"
      "[   44.122051][  T201]  check_mm+0xc1/0xe0\n"
      "[   44.122230][  T201]  __mmdrop+0x60/0x140\n"
      "[   44.122411][  T201]  do_exit+0x3b5/0xa60\n"
      "[   44.122590][  T201]  </TASK>\n";
  const double ttfs[] = {8.2, 11.5, 12.9, 13.4, 14.0, 14.6, 17.8, 21.3, 27.9, 41.0};
  for (int n = 1; n <= 10; ++n) {
    // Interleaved like the scheduler: 6.1-n, then 6.1+backport-n.
    RunResult a = n == 7 ? failed("6.1", n, ttfs[n - 1], "BUG: Bad rss-counter state", "bad-rss")
                         : failed("6.1", n, ttfs[n - 1]);
    a.failures[0].report = n == 7 ? rss_report : bad_pmd_report;
    if (n == 3) a.failures.push_back(a.failures[0]);  // continued and hit it again
    set_telemetry(a, 1.0 + 0.03 * (n % 4));
    s.mark_running(a.run_id);
    s.finish_run(a);

    RunResult b = n == 4 ? errored("6.1+backport", n, "boot-failure", "workload never started within 2m")
                         : survived("6.1+backport", n, 300);
    if (b.verdict == Verdict::kSurvived) set_telemetry(b, 0.97 + 0.02 * (n % 3));
    s.mark_running(b.run_id);
    s.finish_run(b);

    for (const auto* r : {&a, &b}) {
      fs::create_directories(dir / r->artifacts.dir);
      std::ofstream(dir / r->artifacts.console_log) << "[    0.000000] Linux version 6.1.192\n";
      if (!r->artifacts.report.empty()) std::ofstream(dir / r->artifacts.report) << r->failures[0].report;
    }
  }
  s.set_status(CampaignStatus::kFinished);
}

}  // namespace numasoak::test
