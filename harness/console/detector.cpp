#include "console/detector.h"

#include <algorithm>
#include <cctype>

#include "console/console_line.h"
#include "console/line_assembler.h"

namespace numasoak::console {
namespace {

// A Call Trace that starts this far into a report belongs to something else.
constexpr std::uint64_t kTraceStartLimit = 64;
// ... except in lockdep reports (the lock chains come first, "stack backtrace:" last) and allocator
// reports (SLUB and KASAN dump the object and its shadow before the trace).
constexpr std::uint64_t kLongReportTraceStartLimit = 400;
// Markers not taken yet beyond this are dropped (first_marker() stays).
constexpr size_t kMaxPendingMarkers = 1024;
// A WARN()/BUG() marker this many lines after a Link::kLead message reports that message.
constexpr std::uint64_t kLeadReach = 12;
// SLUB's hex dump of an object and its redzones (print_section(): "Object   ffff8880...: 6b 6b ..."),
// up to this many lines per report, does not count towards report_max_lines or the trace start limits:
// a kmalloc-1k object alone is 64 lines of it, and the Call Trace comes after the dump.
constexpr std::uint64_t kMaxUncountedDumpLines = 2048;

bool slab_dump_line(std::string_view message) {
  for (std::string_view prefix : {"Object ", "Redzone ", "Padding ", "Bytes b4 "}) {
    if (message.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = message.substr(prefix.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    size_t hex = 0;
    while (hex < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[hex]))) ++hex;
    return hex >= 8 && hex <= 16 && rest.substr(hex, 2) == ": ";
  }
  return false;
}

bool starts_trace(std::string_view message) {
  return message.find("Call Trace:") != std::string_view::npos ||
         message.find("Call trace:") != std::string_view::npos;
}

// "<TASK>", "</IRQ>", "<NMI>", ...: markers inside an x86 trace.
bool trace_tag(std::string_view message) {
  while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
  while (!message.empty() && message.back() == ' ') message.remove_suffix(1);
  return message.size() >= 3 && message.front() == '<' && message.back() == '>' && message.size() <= 8;
}

bool same_printer(std::string_view a, std::string_view b) { return a.empty() || b.empty() || a == b; }

// The function a lockdep held-lock line names: " #0: ffffffff82a0b0c0 (lock_me_up){+.+.}-{2:2}, at: func+0x1d/0x40"
std::string_view held_lock_function(std::string_view message) {
  const size_t at = message.find(", at: ");
  return at == std::string_view::npos ? std::string_view{} : frame_function(message.substr(at + 6));
}

// KASAN reports a bad access before the access runs; for a NULL or wild pointer the access then faults in
// the same task: that fault is the KASAN report's consequence (it makes it fatal), not a second failure.
bool kasan_fault_follows(const SignatureMatch& kasan, std::string_view kind, const SignatureMatch& next) {
  if (kind != "kasan" || kasan.groups.size() < 2) return false;
  const std::string& what = kasan.groups[1];
  if (what != "null-ptr-deref" && what != "wild-memory-access" && what != "user-memory-access") return false;
  const Signature& s = *next.signature;
  return (s.kind == "bug" && s.severity == Severity::kFatal) || s.kind == "gpf" || s.kind == "unable-to-handle";
}

}  // namespace

struct Detector::Open {
  Failure failure;
  SignatureMatch match;
  Duration deadline{0};
  bool truncated = false;
  bool lead_joined = false;  // a Link::kLead report took its WARNING/BUG already
  std::uint64_t dump_lines = 0;  // slab_dump_line()s attached, up to kMaxUncountedDumpLines
  // Lines that count towards report_max_lines and the trace start limits.
  std::uint64_t counted_lines() const { return failure.report_lines - dump_lines; }
  // Guilty-frame search.
  bool in_trace = false;
  std::string ip_frame;     // first useful RIP:/pc : function
  std::string trace_frame;  // first useful Call Trace function
  std::string ip_weak;      // a lock wrapper, when nothing better turns up (weak_frame)
  std::string trace_weak;
  std::string held_lock_frame;  // lockdep: where the first held lock was taken
};

Detector::Detector(DetectorOptions options) : options_(options) {
  options_.report_max_lines = std::max<size_t>(options_.report_max_lines, 1);
  options_.max_open_reports = std::max<size_t>(options_.max_open_reports, 1);
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

void Detector::feed(std::string_view line, Duration host_time) {
  ++lines_;
  advance(host_time);
  const ConsoleLine cl = parse_console_line(line);

  std::optional<SignatureMatch> match = match_signature(cl.message);
  if (match && (match->signature->link != Link::kBootBanner || unexpected_reboot(cl.uptime))) {
    if (match->signature->continuation) {
      // Join the newest open report from the same printer, if any.
      for (size_t i = open_.size(); i-- > 0;) {
        Open& r = open_[i];
        if (!same_printer(r.failure.caller, cl.caller)) continue;
        r.failure.followed_by.emplace_back(match->signature->kind);
        r.failure.severity = std::max(r.failure.severity, match->signature->severity);
        if (match->signature->link == Link::kRetitle) {
          r.failure.kind = std::string(match->signature->kind);
          r.match = std::move(*match);
        }
        attach(r, line, cl.message);
        if (r.counted_lines() >= options_.report_max_lines) complete(i);
        return;
      }
    } else if (follows_lead(*match->signature)) {
      // The WARNING/kernel BUG of a message just printed ("refcount_t: underflow" then "WARNING: CPU: ...").
      for (size_t i = open_.size(); i-- > 0;) {
        Open& r = open_[i];
        if (!same_printer(r.failure.caller, cl.caller)) continue;
        const Signature& lead = *r.match.signature;
        if (lead.link != Link::kLead || r.lead_joined) break;
        const int sg = match->signature->source_group;
        const std::string_view source =
            sg > 0 && static_cast<size_t>(sg) < match->groups.size() ? std::string_view(match->groups[static_cast<size_t>(sg)])
                                                                      : std::string_view{};
        const bool late_join = !lead.lead_source.empty() && source.substr(0, lead.lead_source.size()) == lead.lead_source;
        if (!late_join && r.failure.report_lines > kLeadReach) break;
        // A message that is itself a lead (SLUB's "BUG ...: Object corrupt") leaves room for the WARNING after it.
        if (match->signature->link != Link::kLead) r.lead_joined = true;
        r.failure.followed_by.emplace_back(match->signature->kind);
        r.failure.severity = std::max(r.failure.severity, match->signature->severity);
        if (r.failure.source.empty() && match->signature->source_group > 0 &&
            static_cast<size_t>(match->signature->source_group) < match->groups.size()) {
          r.failure.source = neutralize(match->groups[static_cast<size_t>(match->signature->source_group)], 200);
        }
        attach(r, line, cl.message);
        if (r.counted_lines() >= options_.report_max_lines) complete(i);
        return;
      }
    }
    for (size_t i = open_.size(); i-- > 0;) {
      Open& r = open_[i];
      if (!same_printer(r.failure.caller, cl.caller)) continue;
      if (!kasan_fault_follows(r.match, r.failure.kind, *match)) break;
      r.failure.followed_by.emplace_back(match->signature->kind);
      r.failure.severity = std::max(r.failure.severity, match->signature->severity);
      attach(r, line, cl.message);
      if (r.counted_lines() >= options_.report_max_lines) complete(i);
      return;
    }
    // A new report: it ends the ones this printer was writing.
    for (size_t i = open_.size(); i-- > 0;) {
      if (same_printer(open_[i].failure.caller, cl.caller)) complete(i);
    }
    start(line, cl.message, cl.caller, cl.uptime, std::move(*match), host_time);
    return;
  }

  for (size_t i = open_.size(); i-- > 0;) {
    Open& r = open_[i];
    if (!same_printer(r.failure.caller, cl.caller)) continue;
    attach(r, line, cl.message);
    if (r.counted_lines() >= options_.report_max_lines) complete(i);
  }
}

bool Detector::unexpected_reboot(std::optional<double> uptime) {
  // The first banner is the boot. A later one (printed at uptime 0, as the kernel does; a program that
  // cats /proc/version mid-run prints no such timestamp) with no marker since the one before is a
  // reboot nobody reported: a failure. After a report it is that report's consequence (panic=N).
  const bool kernel_printed = !uptime || *uptime == 0.0;
  if (!kernel_printed) return false;
  const bool unexpected = banners_ > 0 && markers_started_ == markers_at_banner_;
  ++banners_;
  // The unexpected-reboot report this banner starts does not explain the next banner: a guest that
  // keeps rebooting with nothing said is one failure per reboot.
  markers_at_banner_ = markers_started_ + (unexpected ? 1 : 0);
  return unexpected;
}

void Detector::start(std::string_view line, std::string_view message, std::string_view caller,
                     std::optional<double> uptime, SignatureMatch match, Duration host_time) {
  if (open_.size() >= options_.max_open_reports) complete(0);
  const Signature& sig = *match.signature;
  Open r;
  r.failure.kind = std::string(sig.kind);
  r.failure.severity = sig.severity;
  r.failure.caller = std::string(caller);
  r.failure.uptime_s = uptime;
  r.failure.line = lines_;
  r.failure.host_time = host_time;
  if (sig.source_group > 0 && static_cast<size_t>(sig.source_group) < match.groups.size()) {
    r.failure.source = neutralize(match.groups[static_cast<size_t>(sig.source_group)], 200);
  }
  r.deadline = host_time + options_.report_window;
  r.match = std::move(match);

  ++markers_started_;
  Marker m;
  m.kind = r.failure.kind;
  m.title = build_title(r.match, {});
  m.severity = r.failure.severity;
  m.line = lines_;
  m.uptime_s = uptime;
  m.host_time = host_time;
  if (!first_marker_) first_marker_ = m;
  if (markers_.size() < kMaxPendingMarkers) markers_.push_back(std::move(m));

  open_.push_back(std::move(r));
  Open& added = open_.back();
  // The marker line itself: the report's first line. It may also be a frame
  // (pmd_clear_bad+0x..): never the guilty one, but the trace goes on below it.
  attach(added, line, {});
  if (!frame_function(message).empty()) added.in_trace = true;
  if (added.counted_lines() >= options_.report_max_lines) complete(open_.size() - 1);
}

void Detector::attach(Open& r, std::string_view line, std::string_view message) {
  Failure& f = r.failure;
  ++f.report_lines;
  if (!message.empty() && r.dump_lines < kMaxUncountedDumpLines && slab_dump_line(message)) ++r.dump_lines;
  if (!r.truncated) {
    if (f.report.size() + line.size() + 1 > options_.report_max_bytes) {
      r.truncated = true;
      f.report += "[... report truncated]\n";
    } else {
      f.report += neutralize(line);
      f.report += '\n';
    }
  }
  const FrameRule rule = r.match.signature->frame;
  const bool long_report = rule == FrameRule::kLockTrace || rule == FrameRule::kAllocTrace;
  if (message.empty() || r.counted_lines() > (long_report ? kLongReportTraceStartLimit : kTraceStartLimit)) {
    return;
  }
  if (rule == FrameRule::kLockTrace && r.held_lock_frame.empty()) {
    const auto held = held_lock_function(message);
    if (!held.empty() && !skip_frame(held, rule)) r.held_lock_frame = std::string(held);
  }
  if (r.ip_frame.empty()) {
    const auto ip = ip_function(message);
    if (!ip.empty() && !skip_frame(ip, rule)) {
      if (!weak_frame(ip)) {
        r.ip_frame = std::string(ip);
      } else if (r.ip_weak.empty()) {
        r.ip_weak = std::string(ip);
      }
    }
  }
  if (starts_trace(message)) {
    r.in_trace = true;
    return;
  }
  if (!r.in_trace || !r.trace_frame.empty()) return;
  bool questionable = false;
  const auto fn = frame_function(message, &questionable);
  if (fn.empty()) {
    if (!trace_tag(message)) r.in_trace = false;  // the trace ended
    return;
  }
  if (questionable || skip_frame(fn, rule)) return;
  if (!weak_frame(fn)) {
    r.trace_frame = std::string(fn);
  } else if (r.trace_weak.empty()) {
    r.trace_weak = std::string(fn);
  }
}

void Detector::complete(size_t index) {
  Open r = std::move(open_[index]);
  open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(index));
  const Signature& sig = *r.match.signature;
  std::string frame;
  switch (sig.frame) {
    case FrameRule::kMarker:
      if (sig.frame_group > 0 && static_cast<size_t>(sig.frame_group) < r.match.groups.size()) {
        const std::string& g = r.match.groups[static_cast<size_t>(sig.frame_group)];
        frame = g.substr(0, g.find('.'));
      }
      break;
    case FrameRule::kRipOrTrace:
    case FrameRule::kStallTrace:
      for (const std::string* c : {&r.ip_frame, &r.trace_frame, &r.ip_weak, &r.trace_weak}) {
        if (frame.empty()) frame = *c;
      }
      break;
    case FrameRule::kLockTrace:
      frame = !r.trace_frame.empty() ? r.trace_frame : !r.held_lock_frame.empty() ? r.held_lock_frame : r.trace_weak;
      break;
    case FrameRule::kTrace:
    case FrameRule::kHungTrace:
    case FrameRule::kAllocTrace:
      frame = !r.trace_frame.empty() ? r.trace_frame : r.trace_weak;
      break;
  }
  r.failure.guilty_frame = neutralize(frame, 128);
  r.failure.title = build_title(r.match, r.failure.guilty_frame);
  ++failures_;
  completed_.push_back(std::move(r.failure));
}

void Detector::advance(Duration host_time) {
  for (size_t i = open_.size(); i-- > 0;) {
    if (host_time >= open_[i].deadline) complete(i);
  }
}

void Detector::finish() {
  while (!open_.empty()) complete(open_.size() - 1);
}

std::vector<Failure> Detector::take_completed() {
  std::vector<Failure> out;
  out.swap(completed_);
  std::stable_sort(out.begin(), out.end(), [](const Failure& a, const Failure& b) { return a.line < b.line; });
  return out;
}

std::vector<Marker> Detector::take_markers() {
  std::vector<Marker> out;
  out.swap(markers_);
  return out;
}

}  // namespace numasoak::console
