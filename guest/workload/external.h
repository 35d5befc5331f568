// External stressors: the programs numasoak bench measures the workload
// against (the kernel's migration selftest, stress-ng), run in place of the
// workers when nsw.external is set. The workload keeps its agent, so the host
// gets the same vmstat rates and verdict logic for them as for its own rows.
// The programs are in the bench image only, at the paths of
// spec/external_paths.h (harness/bench/bench_image.h puts them there).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "spec/external_paths.h"

namespace numasoak::guest {

using nsw::kSelftestMigrationPath;
using nsw::kStressNgPath;

// The argv for choice `external` (the nsw.external index; 0 = none gives an
// empty vector), with one stressor instance per online CPU.
std::vector<std::string> external_argv(int external, int cpus);

// Forks and execs argv in its own process group (so a stop reaches the
// program's own children too). Returns the pid, or -1 when fork fails; a
// failed exec exits the child with 127 after saying why on the console.
pid_t spawn_external(const std::vector<std::string>& argv);

}  // namespace numasoak::guest
