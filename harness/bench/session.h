// numasoak bench: how fast numasoak finds the bug against what a kernel
// developer would use instead, and what the harness itself costs.
//
// Phases, all on one io_context (bench/batch.h): harness costs without guests
// (kernel cache lookups, image builds), boot times, detection latency with an
// injected `bad pmd` marker, time to failure per row and amplifier setting
// (interleaved), the amplifier off, and scaling with parallel guests.
// bench.json is rewritten after every phase, so an interrupted bench keeps
// what it measured. The CLI verb (cli/verb_bench.cpp) only parses flags.
#pragma once

#include <filesystem>

#include "bench/plan.h"

namespace numasoak::bench {

// Runs the whole bench with `options` into `output` (empty: numasoak-out/
// bench-<time>), prints the table, writes bench.json; throws an
// infrastructure Error when interrupted (bench.json keeps the phases that
// finished), a usage Error for a bad option or output folder.
void run_bench(const BenchOptions& options, const std::filesystem::path& output, bool quiet);

}  // namespace numasoak::bench
