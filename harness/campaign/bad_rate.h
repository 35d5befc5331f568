// The bad end's failure rate, which sizes every "good" of a bisection
// (`run --bisect`, `numasoak bisect`): stated on the command line, or taken
// from an earlier campaign's database at the lower end of its interval.
#pragma once

#include <string>

namespace numasoak {

/// A failure rate and where it came from, for the line that explains the sizing.
struct BadRate {
  double per_hour = 0;
  std::string source;  // "--bad-rate 1000/h", or the campaign, kernel and evidence
};

// "1000/h", "0.3/s", "20/min", "2/d" -> failures per hour. Throws a usage
// Error naming --bad-rate for anything else, or a rate that is not > 0.
double parse_rate_per_hour(const std::string& text);

// The failure rate of `kernel` (or of the kernel failing most) in the
// campaign at `where` (its folder or its numasoak.db), at the lower end of
// its exact interval at `confidence`, so an overestimated rate cannot make
// the runs too short. Throws a usage Error when there is no database or no
// failed run there.
BadRate rate_from_campaign(const std::string& where, const std::string& kernel, double confidence);

// Exactly one of `rate_text` and `from_campaign` given: the rate it names.
BadRate resolve_bad_rate(const std::string& rate_text, const std::string& from_campaign, const std::string& kernel,
                         double confidence);

}  // namespace numasoak
