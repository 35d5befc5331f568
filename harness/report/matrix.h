// The walker x transition matrix of a campaign (guest/workload/transitions.h):
// for each build, how often each change_protection() walker met each PMD
// transition on each kind of memory, per second of workload, summed over its
// finished runs; which cells the kernel cannot exercise (and why); and which
// cells a build was NOT exercised on, so a verdict never claims more than
// its runs tested.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/report.h"
#include "spec/protocol.h"

namespace numasoak::report {

/// One build's matrix.
struct MatrixTable {
  std::string kernel;
  bool seen = false;      // some run of it ran the transitions worker
  double seconds = 0;     // workload seconds of those runs
  std::array<double, nsw::protocol::kMatrixCells> count{};  // cell totals
  // "walker x transition (memory)" of every possible cell with no count.
  std::vector<std::string> unexercised;
};

// Per kernel in campaign order; kernels whose runs never sent a matrix have
// seen = false.
std::vector<MatrixTable> build_matrix(const Report& report);

// "wp_resolve x split (shmem)".
std::string cell_label(std::size_t walker, std::size_t transition, std::size_t memory);

// The HTML section (empty when no build ran the transitions worker).
std::string render_matrix_section(const Report& report);
// summary.json "matrix": per kernel, cells (events/s), impossible cells with
// the reason, unexercised cells.
nlohmann::json matrix_json(const Report& report);
// One terminal line per build that ran the worker but missed cells.
std::string matrix_terminal(const Report& report);

}  // namespace numasoak::report
