// How long a local process's threads have waited, runnable, for a CPU:
// the second field of /proc/<pid>/task/<tid>/schedstat (nanoseconds),
// summed over its threads. It is what an overloaded host takes from a
// guest, and what the watchdogs forgive (run/watchdog.h).
#pragma once

#include <chrono>
#include <optional>
#include <sys/types.h>

namespace numasoak::vm {

// nullopt when the process is gone or the kernel has no schedstat.
std::optional<std::chrono::nanoseconds> run_queue_wait(pid_t pid);

}  // namespace numasoak::vm
