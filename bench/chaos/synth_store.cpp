// numasoak-chaos-synth DIR RUNS_PER_KERNEL TEMPLATE_RESULT_JSON [SEED]
//
// Writes a campaign database of 2 x RUNS_PER_KERNEL finished runs (kernels
// 6.1 and 6.1+backport) into DIR through the store's own API, as a campaign
// would: plan_runs, then mark_running + finish_run per run, one transaction
// each. Each result is TEMPLATE_RESULT_JSON (a real run's result.json) with
// its id, kernel and outcome replaced: about 10% of 6.1's runs fail (three
// kinds, one of them with two reports), 3% of all runs end `error` (lost),
// 2% are interrupted once first and re-run. For timing `numasoak report` and
// a resume on a large database (bench/chaos/scale.sh, README "Chaos").
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "result/run_result.h"
#include "store/store.h"

int main(int argc, char** argv) {
  using namespace numasoak;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DIR RUNS_PER_KERNEL TEMPLATE_RESULT_JSON [SEED]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int per_kernel = std::stoi(argv[2]);
  nlohmann::json tj;
  std::ifstream(argv[3]) >> tj;
  const RunResult tmpl = tj.get<RunResult>();
  std::mt19937_64 rng(argc > 4 ? std::stoull(argv[4]) : 20);
  std::uniform_real_distribution<double> u(0, 1);
  const std::vector<std::string> kernels = {"6.1", "6.1+backport"};

  const auto t0 = std::chrono::steady_clock::now();
  Store s = Store::open(dir);
  s.set_campaign("synth", "", nlohmann::json{{"name", "synth"}, {"synthesised", true}});
  for (const auto& k : kernels) s.record_kernel(KernelRecord{k, tmpl.kernel_release, "synthesised", {}, 0});
  s.plan_runs(kernels, per_kernel);
  int n = 0;
  while (auto row = s.next_queued()) {
    RunResult r = tmpl;
    r.run_id = row->run_id;
    r.kernel = row->kernel;
    r.failures.clear();
    r.time_to_failure_s.reset();
    r.kind.clear();
    r.title.clear();
    s.mark_running(r.run_id, tmpl.started_at);
    if (row->attempts == 0 && u(rng) < 0.02) {
      r.verdict = Verdict::kInterrupted;
      s.finish_run(r);
      continue;
    }
    const double x = u(rng);
    if (row->kernel == "6.1" && x < 0.10) {
      static const char* kinds[][2] = {{"bad-pmd", "bad pmd"},
                                       {"kasan", "KASAN: null-ptr-deref in change_protection"},
                                       {"integrity", "memory silently lost"}};
      const auto& k = kinds[static_cast<size_t>(u(rng) * 3) % 3];
      r.verdict = Verdict::kFailed;
      r.kind = k[0];
      r.title = k[1];
      r.time_to_failure_s = 0.5 + 20 * u(rng);
      r.exposure_s = *r.time_to_failure_s;
      for (int i = 0; i < (r.kind == "bad-pmd" ? 2 : 1); ++i)
        r.failures.push_back(FailureRecord{r.kind, r.title, *r.time_to_failure_s + i, 12.5 + i, "change_pmd_range",
                                           "[   12.5] mm/pgtable-generic.c:51: bad pmd ADDR(NUM)\n"});
    } else if (x > 0.97) {
      r.verdict = Verdict::kError;
      r.kind = kinds::kLost;
      r.title = "QEMU exited with no marker";
      r.exposure_s = 0;
    } else {
      r.verdict = Verdict::kSurvived;
    }
    s.finish_run(r);
    ++n;
  }
  s.set_status(CampaignStatus::kFinished, "every planned run finished");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("synthesised %d finished runs in %s in %.1f s\n", n, dir.c_str(), secs);
  return 0;
}
