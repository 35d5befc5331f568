// BenchPlan: what `numasoak bench` runs, in which order.
//
// Rows are stressors in the same guest image and kernel: numasoak's bad-pmd
// profile, each of its stressors alone, and the alternatives a kernel
// developer would reach for (the kernel's migration selftest, two stress-ng
// modes), all with NUMA balancing tuned alike. Each (row, amplifier) cell
// gets `runs` runs of at most `budget` each; the runs are interleaved round by
// round (row A run 1, row B run 1, ..., row A run 2, ...) so drift of a shared
// host hits every row alike and ratios stay within one bench.
#pragma once

#include <string>
#include <vector>

#include "common/duration.h"

namespace numasoak::bench {

/// One row of the bench table: a stressor and its workload profile.
struct BenchRow {
  std::string name;     // "bad-pmd", "stress-ng --numa", ...
  std::string profile;  // workload profile (spec/knobs.h)
  bool alternative = false;  // not numasoak's own workload
};

// The rows, in table order.
const std::vector<BenchRow>& bench_rows();

/// How much the bench runs: runs per cell, amplifier settings, budgets.
struct BenchOptions {
  bool quick = false;
  int runs = 5;                          // per (row, amplifier) cell
  std::vector<int> amplify_us = {200, 50, 20};
  // Per amplified run. With 7 rows x 5 runs, 45 s keeps the full bench under
  // an hour on 2 TCG cores (rows that never fail cost budget + boot each).
  Duration budget = std::chrono::seconds(45);
  // Amplifier settings below the first are run only for rows that failed at
  // the first (a row that never fails with the widest window is not going to
  // with a narrower one within the budget).
  bool narrow_only_failing = true;
  Duration natural_budget = std::chrono::minutes(4);  // amplifier off, bad-pmd, in total
  int natural_runs = 2;
  std::vector<int> scaling_guests = {1, 2, 4};
  Duration scaling_budget = std::chrono::seconds(30);
  bool debian_kernel = true;             // boot time of Debian's kernel too

  static BenchOptions quick_options();
};

/// One run of one cell: row, amplifier, index, budget.
struct BenchCase {
  BenchRow row;
  int amplify_us = 0;
  int index = 0;  // 0-based run number within the cell
  Duration budget{0};
};

// The cases of one amplifier setting, interleaved round by round.
std::vector<BenchCase> interleaved_cases(const std::vector<BenchRow>& rows, int amplify_us, int runs, Duration budget);

}  // namespace numasoak::bench
