// Text helpers for reports: escaping untrusted guest text for HTML and for
// terminals, and the short number formats reports print.
//
// Guest output (crash titles, reports, console lines, even uname -r) is
// untrusted: it goes into HTML only through html_escape(), onto a terminal
// only through terminal_safe() (common/terminal_safe.h, included here for
// the report code). Both also repair invalid UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/terminal_safe.h"
#include "stats/format.h"
#include "stats/stats.h"

namespace numasoak::report {

// Escapes & < > " ' and replaces control characters (but \n and \t) and
// invalid UTF-8 with U+FFFD, so the text is inert in element content and in
// quoted attributes.
std::string html_escape(std::string_view text);

// Cuts to at most `max_chars` code points, ending with "..." when cut.
std::string truncate_text(std::string_view text, size_t max_chars);

// Percent-encodes a relative path for an href (keeps A-Z a-z 0-9 - . _ ~ /),
// so no file name can become "javascript:" or break out of the attribute.
std::string url_encode_path(std::string_view path);

// "0.8 s", "14 s", "2 min 30 s", "50 min", "1 h 05 min", "3.2 d".
std::string format_seconds(double s);

// Two significant digits, whole numbers from 10 up: "0.0042", "3.6", "27", "1200".
std::string format_number(double v);

// "3.2/h [1.1, 7.4]", "< 3.6/h", "-" when there is no exposure.
std::string format_rate_short(const stats::RateEstimate& rate);

// "p < 1e-9", "p = 0.031": stats::format_p_value.
std::string format_p(double p);

}  // namespace numasoak::report
