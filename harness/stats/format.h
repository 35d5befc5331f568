// Statistics as people read them: rates, p-values and rate ratios in two
// significant digits. Apart from the math (stats.h) so that the statistics
// can change without touching their wording and the other way round.
#pragma once

#include <string>

#include "stats/stats.h"

namespace numasoak::stats {

// "3.2/h [1.1, 7.4]", "< 0.25 failures/hour (95%)", "0.41 per 1M events [0.11, 1.0]",
// "no exposure". The confidence is spelled out when it is not 95% or the
// estimate is an upper bound. Two significant digits; whole numbers from 10 up.
std::string format_rate(const RateEstimate& rate);

// "p = 0.031", "p = 1.2e-05", "p < 1e-9" (anything below 1e-9 is just tiny).
std::string format_p_value(double p);

// "A/B = 3.2 [1.1, 9.8]", "A/B = inf [2.1, inf]", "A/B = ? (no failures)".
std::string format_rate_ratio(const RateComparison& comparison);

}  // namespace numasoak::stats
