// Wall-clock timestamps for records and file names (UTC). Durations and
// times to failure never use the wall clock: they use steady_clock.
#pragma once

#include <string>

namespace numasoak {

// Now in UTC through strftime: "2026-11-24T21:46:23Z" by default.
std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace numasoak
