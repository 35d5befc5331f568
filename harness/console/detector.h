// Detector: console lines in, kernel failures out. Pure: no I/O, no clocks.
//
// The caller feeds complete, neutralised lines (see LineAssembler) with the
// host time each arrived, measured from the start of the run. A line that
// matches a signature (signatures.h) starts a report: the marker line plus
// the lines that follow, for `report_window` of host time or
// `report_max_lines` lines, whichever comes first, or until the next marker
// from the same printer. With CONFIG_PRINTK_CALLER ("[  T123]", "[    C1]")
// only lines from the same caller, or lines without an id, are attached, so
// reports printed at once by two CPUs do not mix.
//
// A WARN()/BUG() that reports a message printed just before it ("refcount_t:
// underflow", "list_add corruption", "ODEBUG:") joins that message's report
// (Link::kLead); SLUB's WARNING at mm/slub.c joins its report however late it
// comes (Signature::lead_source), and SLUB's object hex dump does not count
// towards report_max_lines (up to 2048 lines of it). A kernel boot banner with
// no report since the banner before is a failure of its own, once per reboot:
// kind "unexpected-reboot" (Link::kBootBanner). The page fault that follows a
// KASAN null-ptr-deref (or wild-memory-access) report in the same task is part
// of that report and makes it fatal.
//
// One event is one failure: inside an open report, markers that usually
// follow another (the panic after an oops, the "invalid opcode" after
// "kernel BUG at", a pmd_clear_bad frame under "bad pmd") join it instead of
// counting twice, and raise its severity. Deduplication across events is the
// caller's business: titles are normalised so equal crashes have equal titles.
//
// A run needs to know that something went wrong the moment the marker line
// arrives, before the report is complete: first_marker() and take_markers()
// give that, with a provisional title (no guilty frame yet).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "console/signatures.h"

namespace numasoak::console {

/// How long and how much of a report the detector collects after its marker, and how many it keeps open.
struct DetectorOptions {
  Duration report_window = std::chrono::seconds(5);  // keep collecting this long after the marker
  size_t report_max_lines = 200;                     // ... or this many lines, marker included
  size_t report_max_bytes = 64 * 1024;               // report text beyond this is dropped
  size_t max_open_reports = 8;                       // more: the oldest is completed early
};

/// The moment a marker line arrived.
struct Marker {
  std::string kind;
  std::string title;  // provisional: without the guilty frame
  Severity severity = Severity::kError;
  std::uint64_t line = 0;  // 1-based line number in the stream
  std::optional<double> uptime_s;
  Duration host_time{0};
};

/// One kernel failure found on the console: kind, normalised title, severity, guilty frame and its report lines.
struct Failure {
  std::string kind;    // signature kind: "bad-pmd", "panic", "warning", ...
  std::string title;   // normalised: "bad pmd in change_pmd_range"
  Severity severity = Severity::kError;
  std::string report;  // the marker line and the lines attached to it, '\n'-terminated
  std::string guilty_frame;  // "change_pmd_range", or empty
  std::string source;        // FILE:LINE the marker names ("mm/pgtable-generic.c:51"), or empty
  std::string caller;        // printk caller id of the marker ("T123"), or empty
  std::vector<std::string> followed_by;  // kinds of markers that joined this report ("panic")
  std::optional<double> uptime_s;        // guest printk timestamp of the marker
  std::uint64_t line = 0;                // 1-based line number of the marker
  std::uint64_t report_lines = 0;        // lines in the report, marker included
  Duration host_time{0};                 // when the marker arrived

  bool ends_run() const { return severity == Severity::kFatal; }
};

/// Console lines in, kernel failures out: spots marker lines, collects their reports, joins the markers that follow.
class Detector {
 public:
  explicit Detector(DetectorOptions options = {});
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  // One complete line (no newline), arriving at `host_time` (non-decreasing).
  void feed(std::string_view line, Duration host_time);
  // Time passed without a line: completes reports whose window is over.
  void advance(Duration host_time);
  // End of the stream: completes every open report.
  void finish();

  // Completed failures since the last call, in order of their marker lines.
  // They accumulate until taken: call this after each feed() or advance().
  std::vector<Failure> take_completed();
  // Markers seen since the last call, as they arrived (at most 1024 are kept
  // between calls).
  std::vector<Marker> take_markers();
  // The first marker of the stream, from the moment its line was fed.
  const std::optional<Marker>& first_marker() const { return first_marker_; }

  bool collecting() const { return !open_.empty(); }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t failures() const { return failures_; }
  const DetectorOptions& options() const { return options_; }

 private:
  struct Open;
  void start(std::string_view line, std::string_view message, std::string_view caller,
             std::optional<double> uptime, SignatureMatch match, Duration host_time);
  // A boot banner arrived (Link::kBootBanner): whether it is a reboot no report explains.
  bool unexpected_reboot(std::optional<double> uptime);
  void attach(Open& r, std::string_view line, std::string_view message);
  void complete(size_t index);

  DetectorOptions options_;
  std::vector<Open> open_;  // oldest first; Open is defined in detector.cpp
  std::vector<Failure> completed_;
  std::vector<Marker> markers_;
  std::optional<Marker> first_marker_;
  std::uint64_t lines_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t markers_started_ = 0;   // reports started, ever
  std::uint64_t banners_ = 0;           // kernel boot banners seen
  std::uint64_t markers_at_banner_ = 0;  // markers_started_ at the last banner
};

}  // namespace numasoak::console
