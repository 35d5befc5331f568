// Where the bench image puts the external stressors numasoak bench measures
// the workload against, shared by the host (harness/bench/bench_image packs
// them there) and the guest (workload/external runs them from there). Pure.
#pragma once

namespace numasoak::nsw {

inline constexpr const char* kSelftestMigrationPath = "/bin/selftest-migration";
inline constexpr const char* kStressNgPath = "/bin/stress-ng";

}  // namespace numasoak::nsw
