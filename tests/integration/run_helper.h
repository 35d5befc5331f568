// One guest run as a helper process of test_integration, for tests that
// must run the harness in an environment of its own (a wall clock that
// bench/chaos/wallclock_shift.c moves): main() runs run_helper_main()
// instead of the tests when NUMASOAK_RUN_HELPER_INIT names a test init. It boots small_plan() with
// that init for NUMASOAK_RUN_HELPER_DURATION seconds, prints
// "numasoak-helper: workload started" when the workload starts and the
// RunResult as one JSON line at the end.
#pragma once

namespace numasoak::testing {

int run_helper_main(const char* init);

}  // namespace numasoak::testing
