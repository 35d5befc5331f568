// Duration: a span of time as campaign files and reports spell it ("90s",
// "10m", "2h", "1d", "1h30m"). Stored as milliseconds on a monotonic scale.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace numasoak {

using Duration = std::chrono::milliseconds;

// Parses "500ms", "90s", "10m", "2h", "1d", "1h30m". A bare number is an
// error: a unit-less duration in a config file is a bug waiting to happen.
// Returns nullopt when the text is not a duration.
std::optional<Duration> parse_duration(std::string_view text);

// "1h 02m", "90s", "1.5s": short, for people.
std::string format_duration(Duration d);

inline double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace numasoak
