#include "bench/plan.h"

namespace numasoak::bench {

const std::vector<BenchRow>& bench_rows() {
  static const std::vector<BenchRow> rows = {
      {"bad-pmd", "bad-pmd", false},
      {"balancing only", "balancing-only", false},
      {"move_pages only", "move-pages-only", false},
      {"uffd-wp only", "uffd-wp-only", false},
      {"selftests/vm/migration", "alt-selftest-migration", true},
      {"stress-ng --numa", "alt-stress-ng-numa", true},
      {"stress-ng --vm hugepage", "alt-stress-ng-vm-hugepage", true},
  };
  return rows;
}

BenchOptions BenchOptions::quick_options() {
  // Proves every part works end to end (each row boots, runs and reports;
  // costs, scaling and detection are measured once); says nothing about speed.
  BenchOptions o;
  o.quick = true;
  o.runs = 1;
  o.amplify_us = {200};
  o.budget = std::chrono::seconds(15);
  o.natural_budget = std::chrono::seconds(10);
  o.natural_runs = 1;
  o.scaling_guests = {1, 2};
  o.scaling_budget = std::chrono::seconds(10);
  o.debian_kernel = false;
  return o;
}

std::vector<BenchCase> interleaved_cases(const std::vector<BenchRow>& rows, int amplify_us, int runs, Duration budget) {
  std::vector<BenchCase> out;
  for (int i = 0; i < runs; ++i)
    for (const auto& r : rows) out.push_back({r, amplify_us, i, budget});
  return out;
}

}  // namespace numasoak::bench
