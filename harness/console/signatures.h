// Signatures: the one table of kernel crash markers numasoak knows.
//
// Each row says how to recognise the first line of a crash report (a literal
// needle, then a regex near it), what kind of failure it is, how bad, where
// its guilty function comes from and how to build a title that stays the same
// when the same crash happens again (see normalize_title). Rows are tried in
// order; the first match wins, so specific rows come before generic ones
// ("watchdog: BUG: soft lockup" before "BUG: ..."). The rows live in
// signatures.cpp and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::console {

/// How bad a failure is: the kernel went on after a warning or an error, or the run ends (fatal).
enum class Severity : std::uint8_t {
  kWarning,  // the kernel complained and went on (WARNING, UBSAN)
  kError,    // the kernel detected damage or a stall and went on (bad pmd, lockups)
  kFatal,    // the kernel died or killed the task mid-operation: the run should end
};
std::string_view to_string(Severity s);

/// Where the guilty function of a report comes from.
enum class FrameRule : std::uint8_t {
  kMarker,      // the marker line names it (WARNING: ... at FILE:LINE FUNC+0x..)
  kRipOrTrace,  // the faulting IP (RIP: / pc :) first, else the first useful Call Trace frame
  kTrace,       // the Call Trace only: the reporter is a helper (bad pmd -> pmd_clear_bad)
  kHungTrace,   // the Call Trace, also skipping scheduler, lock and wait frames
  kStallTrace,  // IP or Call Trace, also skipping RCU and timer-interrupt frames
  kLockTrace,   // lockdep: the Call Trace of "stack backtrace:", skipping lock and lockdep frames, else the
                // function a held lock was taken at ("#0: ... at: func+0x..")
  kAllocTrace,  // the Call Trace, also skipping allocator and debug-object frames (kfree, __slab_free, ...)
};

/// How a marker relates to the markers around it.
enum class Link : std::uint8_t {
  kNone,
  // The line is the message of a WARN()/BUG() that follows ("refcount_t: underflow", "list_add corruption",
  // "ODEBUG: free active", "page dumped because:"): the warning or kernel BUG marker the same printer writes
  // within the next few lines joins this report, which keeps this row's kind and title.
  kLead,
  // (With `continuation`) joining an open report gives it this row's kind, title and frame rule: KASAN's
  // "null-ptr-deref in range [...]" says what the general protection fault above it really was.
  kRetitle,
  // The kernel's boot banner ("Linux version ..."): the first starts the log; a later one with no report
  // since the one before is an unexpected reboot. The detector decides; the row only recognises it.
  kBootBanner,
};

/// What a title is built from.
struct TitleParts {
  const std::vector<std::string>& groups;  // regex captures; [0] is the whole match
  std::string_view rest;                   // the message after the match
  std::string_view frame;                  // guilty function; empty when unknown
};
using TitleFn = std::string (*)(const TitleParts&);

/// One row of the signature table: a kind of kernel failure, how its marker line is found, titled and framed.
struct Signature {
  std::string_view kind;     // "bad-pmd", "panic", ...: stable, used in the store
  Severity severity;
  std::string_view needle;   // literal that must occur in the line (cheap filter)
  std::string_view pattern;  // ECMAScript regex, searched around the needle
  FrameRule frame;
  // When a report is still being collected, a line matching this row belongs
  // to it instead of starting a new failure (the panic after an oops, the
  // "invalid opcode" after "kernel BUG at").
  bool continuation;
  int source_group;  // capture holding FILE:LINE where the kernel printed it (0: none)
  int frame_group;   // capture holding the function, for FrameRule::kMarker (0: none)
  TitleFn title;     // raw title; normalize_title() is applied after
  Link link = Link::kNone;
  // With Link::kLead: a WARNING/kernel BUG whose FILE:LINE is in this file joins the report however many
  // lines after the message it comes, while the report is open (6.12's SLUB prints its WARN after the
  // object dump). Empty: only within a few lines.
  std::string_view lead_source = {};
};

// Whether a marker of this row is the WARNING or kernel BUG that a Link::kLead message announced (or
// SLUB's "BUG <cache> (...): Object corrupt" after 6.12's "[Poison overwritten]" line).
bool follows_lead(const Signature& s);

const std::vector<Signature>& signatures();

/// A console message that matched a signature row: the row, its regex captures and the text after the match.
struct SignatureMatch {
  const Signature* signature = nullptr;
  std::vector<std::string> groups;
  std::string rest;  // at most 256 bytes of the message after the match
};

// The first row matching `message` (a console line without its printk
// prefix), or nullopt for ordinary lines and known harmless ones.
std::optional<SignatureMatch> match_signature(std::string_view message);

// The final title: the row's title with the guilty frame, normalised.
std::string build_title(const SignatureMatch& m, std::string_view frame);

// Makes titles of the same crash identical: hex values (0x..., or 8+ hex
// digits) become ADDR, other numbers outside identifiers become NUM
// ("stuck for 22s" -> "stuck for NUMs"; "p4d", "x86_64" stay), control
// characters go, whitespace collapses, at most 160 bytes.
std::string normalize_title(std::string_view title);

// --- stack frames ---

// The function a stack-trace line names, without compiler suffixes
// (" change_pmd_range.isra.0+0x34d/0x3a7" -> "change_pmd_range"). Empty when
// the line is not a frame. `questionable` is set for "? func+0x.." frames,
// which are stale stack contents, not callers.
std::string_view frame_function(std::string_view message, bool* questionable = nullptr);

// The function of an instruction-pointer line ("RIP: 0010:func+0x..",
// arm64 "pc : func+0x..", "PC is at func+0x.."), or empty.
std::string_view ip_function(std::string_view message);

// Whether a frame is plumbing rather than the culprit for this rule
// (dump_stack, panic, __warn, report_bug, pmd_clear_bad, ...).
bool skip_frame(std::string_view function, FrameRule rule);

// Lock wrappers (_raw_spin_lock, mutex_lock, ...): named only when no better frame exists, so a
// null-pointer lock of the same object has the same title whichever wrapper took it.
bool weak_frame(std::string_view function);

}  // namespace numasoak::console
