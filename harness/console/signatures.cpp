#include "console/signatures.h"

#include <array>
#include <regex>

#include "console/line_assembler.h"

namespace numasoak::console {
namespace {

std::string with_frame(std::string base, std::string_view frame) {
  if (!frame.empty()) {
    base += " in ";
    base += frame;
  }
  return base;
}

// "NULL pointer dereference at virtual address 0000000000000008" -> "NULL pointer dereference"
std::string before_at(std::string_view s) {
  const size_t at = s.find(" at ");
  std::string out(s.substr(0, at));
  while (!out.empty() && (out.back() == ' ' || out.back() == ',' || out.back() == ':')) out.pop_back();
  return out;
}

std::string trimmed(std::string_view s, size_t max = 120) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s.substr(0, max));
}

std::string strip_suffix(std::string_view function) {
  return std::string(function.substr(0, function.find('.')));
}

// clang-format off
// The table. Order matters: the first row that matches wins.
const std::vector<Signature> kTable = {
  // --- page-table corruption: what numasoak is for ---------------------------------------
  // mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)
  // mm/pgtable-generic.c:50: bad pmd 00000000af22fc02(dffffffe71fbfe02)
  {"bad-pmd", Severity::kError, "bad pmd ",
   R"((?:([\w./-]+:\d+): )?bad pmd (?:\(____ptrval____\)|[0-9a-f]{8,16})\([0-9a-f]+\))",
   FrameRule::kTrace, false, 1, 0,
   [](const TitleParts& p) { return with_frame("bad pmd", p.frame); }},
  {"bad-pgtable", Severity::kError, "bad p",
   R"((?:([\w./-]+:\d+): )?bad (pte|pud|p4d|pgd) (?:\(____ptrval____\)|[0-9a-f]{8,16})\([0-9a-f]+\))",
   FrameRule::kTrace, false, 1, 0,
   [](const TitleParts& p) { return with_frame("bad " + p.groups[2], p.frame); }},
  // A stack trace through pmd_clear_bad() (a downstream panic, a kprobe, ftrace's "=> ").
  {"pmd-clear-bad", Severity::kError, "pmd_clear_bad",
   R"(^\s*(?:\[<[0-9a-f]+>\]\s*)?(?:\?\s+|=>\s*)?pmd_clear_bad(?:\.[\w.]+)?(?:\+0x|\s*$))",
   FrameRule::kTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame("pmd_clear_bad", p.frame); }},
  {"bad-page-map", Severity::kError, "BUG: Bad page map", R"(BUG: Bad page map)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("BUG: Bad page map"); }},
  {"bad-page-state", Severity::kError, "BUG: Bad page state", R"(BUG: Bad page state)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("BUG: Bad page state"); }},
  {"bad-rss", Severity::kError, "BUG: Bad rss-counter state", R"(BUG: Bad rss-counter state)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("BUG: Bad rss-counter state"); }},
  // check_mm() at exit: page tables the mm still accounts for (a cleared pmd leaks its pte page).
  // BUG: non-zero pgtables_bytes on freeing mm: 8192   (older: nr_ptes, nr_pmds)
  {"bad-pgtables", Severity::kError, "on freeing mm", R"(BUG: non-zero (pgtables_bytes|nr_ptes|nr_pmds) on freeing mm)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts& p) { return "BUG: non-zero " + p.groups[1] + " on freeing mm"; }},

  // --- sanitizers ---------------------------------------------------------------------------
  // BUG: KASAN: slab-use-after-free in foo+0x12/0x34
  {"kasan", Severity::kError, "BUG: KASAN: ", R"(BUG: KASAN: ([\w-]+) in ([\w.]+))",
   FrameRule::kMarker, false, 0, 2,
   [](const TitleParts& p) { return "KASAN: " + p.groups[1] + " in " + strip_suffix(p.groups[2]); }},
  // UBSAN: array-index-out-of-bounds in mm/foo.c:12:3
  {"ubsan", Severity::kWarning, "UBSAN: ", R"(UBSAN: ([\w-]+(?: [\w-]+){0,4}) in (([^\s:]+):\d+))",
   FrameRule::kTrace, false, 2, 0,
   [](const TitleParts& p) { return "UBSAN: " + p.groups[1] + " in " + p.groups[3]; }},
  // CONFIG_UBSAN_TRAP, x86: "UBSAN: array index out of bounds at foo+0x12/0x34"
  {"ubsan", Severity::kWarning, "UBSAN: ", R"(UBSAN: ([\w /-]{1,60}?) at ([\w.]+)\+0x)",
   FrameRule::kMarker, false, 0, 2,
   [](const TitleParts& p) { return with_frame("UBSAN: " + p.groups[1], p.frame); }},
  // CONFIG_UBSAN_TRAP, arm64: "Internal error: UBSAN: shift out of bounds: 00000000f2005514 [#1] SMP"
  {"ubsan", Severity::kFatal, "UBSAN: ", R"(Internal error: UBSAN: ([\w /-]{1,60}): [0-9a-f]+ \[#\d+\])",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("UBSAN: " + p.groups[1], p.frame); }},

  // --- lockups and stalls -------------------------------------------------------------------
  // watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [stress-ng:123]
  {"soft-lockup", Severity::kError, "soft lockup", R"(BUG: soft lockup - CPU#\d+ stuck for \d+s!)",
   FrameRule::kStallTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("BUG: soft lockup", p.frame); }},
  // watchdog: Watchdog detected hard LOCKUP on cpu 1
  {"hard-lockup", Severity::kError, "hard LOCKUP", R"(Watchdog detected hard LOCKUP on cpu \d+)",
   FrameRule::kStallTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("hard LOCKUP", p.frame); }},
  // INFO: task kworker/0:1:23 blocked for more than 120 seconds.
  {"hung-task", Severity::kError, "blocked for more than ",
   R"(INFO: task .{1,80}:\d+ blocked for more than \d+ seconds)",
   FrameRule::kHungTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("INFO: task hung", p.frame); }},
  // rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
  // rcu: INFO: rcu_sched self-detected stall on CPU
  {"rcu-stall", Severity::kError, "stall",
   R"(INFO: rcu_\w+ (?:self-)?detected (?:expedited )?stalls?\b)",
   FrameRule::kStallTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("INFO: rcu detected stall", p.frame); }},

  // --- the end of the kernel ----------------------------------------------------------------
  // Kernel panic - not syncing: sysrq triggered crash
  {"panic", Severity::kFatal, "Kernel panic - not syncing", R"(Kernel panic - not syncing:? ?)",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return "kernel panic: " + trimmed(p.rest); }},
  // kernel BUG at mm/huge_memory.c:2123!
  {"kernel-bug", Severity::kFatal, "kernel BUG at ", R"(kernel BUG at (([^\s:!]+):\d+))",
   FrameRule::kRipOrTrace, false, 1, 0,
   [](const TitleParts& p) {
     return p.frame.empty() ? "kernel BUG at " + p.groups[2] : with_frame("kernel BUG", p.frame);
   }},

  // --- warnings -----------------------------------------------------------------------------
  // WARNING: CPU: 1 PID: 0 at arch/x86/kernel/smpboot.c:432 topology_sane.isra.0+0x6b/0x80
  // (or "... at FUNC+0x.." when the kernel knows no file)
  {"warning", Severity::kWarning, "WARNING: ", R"(WARNING: CPU: \d+ PID: \d+ at (?:(\S+:\d+) )?([\w.]+)\+0x)",
   FrameRule::kMarker, false, 1, 2,
   [](const TitleParts& p) { return with_frame("WARNING", p.frame); }},
  // Newer kernels: WARNING: mm/foo.c:12 at func+0x1/0x2, CPU#0: comm/1
  {"warning", Severity::kWarning, "WARNING: ", R"(WARNING: ([\w./-]+:\d+) at ([\w.]+)\+0x)",
   FrameRule::kMarker, false, 1, 2,
   [](const TitleParts& p) { return with_frame("WARNING", p.frame); }},
  // lockdep
  {"warning", Severity::kWarning, "WARNING: ",
   R"(WARNING: (possible circular locking dependency detected|possible recursive locking detected|inconsistent lock state|suspicious RCU usage|possible irq lock inversion dependency detected|bad unlock balance detected!|held lock freed!|lock held when returning to user space!))",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts& p) { return "WARNING: " + p.groups[1]; }},

  // --- oopses -------------------------------------------------------------------------------
  // general protection fault, probably for non-canonical address 0xdffffc...: 0000 [#1] PREEMPT SMP
  // (needs "[#N]": "traps: init[1] general protection fault ip:..." is a user process dying)
  {"gpf", Severity::kFatal, "general protection fault", R"(general protection fault[^\[]{0,200}\[#\d+\])",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("general protection fault", p.frame); }},
  // Oops: 0002 [#1] PREEMPT SMP NOPTI / Internal error: Oops: 96000005 [#1] / Oops - BUG: ... [#1]
  {"oops", Severity::kFatal, "Oops", R"(\bOops(?::| -) [^\[]{0,200}\[#\d+\])",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame("Oops", p.frame); }},
  // invalid opcode: 0000 [#1] PREEMPT SMP NOPTI (what x86 prints after "kernel BUG at")
  {"oops", Severity::kFatal, "invalid opcode: ", R"(invalid opcode: [0-9a-f]+ \[#\d+\])",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame("invalid opcode", p.frame); }},
  // arm64 die() with a reason other than Oops: "Internal error: <reason>: 0000000002000000 [#1] SMP"
  {"oops", Severity::kFatal, "Internal error: ", R"(Internal error: ([^:\[]{1,80}): [0-9a-f]+ \[#\d+\])",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame("Internal error: " + p.groups[1], p.frame); }},
  // arm64 and others: Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008
  {"unable-to-handle", Severity::kFatal, "Unable to handle kernel ",
   R"(Unable to handle kernel ([A-Za-z][\w -]{0,80}))",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("Unable to handle kernel " + before_at(p.groups[1]), p.frame); }},

  // --- other BUG: lines ---------------------------------------------------------------------
  // BUG: kernel NULL pointer dereference, address: 0000000000000000
  {"bug", Severity::kFatal, "BUG: ", R"(BUG: (kernel NULL pointer dereference))",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("BUG: " + p.groups[1], p.frame); }},
  // BUG: unable to handle page fault for address: ffffc90000a1b000
  {"bug", Severity::kFatal, "BUG: ",
   R"(BUG: unable to handle (page fault|kernel paging request|kernel NULL pointer dereference))",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("BUG: unable to handle " + p.groups[1], p.frame); }},
  // BUG: scheduling while atomic: swapper/0/0/0x00000002
  {"bug", Severity::kError, "BUG: ",
   R"(BUG: (scheduling while atomic|sleeping function called from invalid context|using smp_processor_id\(\) in preemptible|workqueue lockup))",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts& p) {
     return p.groups[1] == "workqueue lockup" ? "BUG: workqueue lockup" : with_frame("BUG: " + p.groups[1], p.frame);
   }},
  // Any other "BUG: ..." that starts a word ("ODEBUG:" and "[Firmware Bug]" do not).
  {"bug", Severity::kError, "BUG: ", R"((?:^|[^\w])BUG: (?=\S))",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return "BUG: " + trimmed(p.rest); }},
};
// clang-format on

// Lines that contain a needle but are never the start of a report.
constexpr std::array<std::string_view, 2> kIgnored = {
    "---[ end ",   // "---[ end Kernel panic - not syncing: ... ]---", "---[ end trace ... ]---"
    "Boot_DEBUG",  // Android boot chatter
};

struct Compiled {
  std::vector<std::regex> patterns;
  Compiled() {
    patterns.reserve(kTable.size());
    for (const auto& s : kTable) {
      patterns.emplace_back(std::string(s.pattern), std::regex::ECMAScript | std::regex::optimize);
    }
  }
};

const Compiled& compiled() {
  static const Compiled c;
  return c;
}

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool hex_char(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool digit_char(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes) {
    if (s.substr(0, p.size()) == p) return true;
  }
  return false;
}

bool contains_any(std::string_view s, std::initializer_list<std::string_view> parts) {
  for (auto p : parts) {
    if (s.find(p) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
    case Severity::kFatal: return "fatal";
  }
  return "error";
}

const std::vector<Signature>& signatures() { return kTable; }

std::optional<SignatureMatch> match_signature(std::string_view message) {
  for (auto ignored : kIgnored) {
    if (message.find(ignored) != std::string_view::npos) return std::nullopt;
  }
  const auto& patterns = compiled().patterns;
  for (size_t i = 0; i < kTable.size(); ++i) {
    const Signature& sig = kTable[i];
    const size_t at = message.find(sig.needle);
    if (at == std::string_view::npos) continue;
    // Search a window around the needle: bounded work per line, whatever its length.
    const size_t start = at > 200 ? at - 200 : 0;
    const size_t end = std::min(message.size(), at + sig.needle.size() + 512);
    const char* first = message.data() + start;
    const char* last = message.data() + end;
    auto flags = std::regex_constants::match_default;
    if (start > 0) flags |= std::regex_constants::match_prev_avail;
    std::cmatch m;
    bool found = false;
    try {
      found = std::regex_search(first, last, m, patterns[i], flags);
    } catch (const std::regex_error&) {
      found = false;  // error_complexity / error_stack: treat as no match
    }
    if (!found) continue;
    SignatureMatch out;
    out.signature = &sig;
    for (size_t g = 0; g < m.size(); ++g) out.groups.push_back(m[g].matched ? m[g].str() : std::string());
    const size_t rest_at = start + static_cast<size_t>(m.position(0) + m.length(0));
    out.rest = std::string(message.substr(rest_at, 256));
    return out;
  }
  return std::nullopt;
}

std::string build_title(const SignatureMatch& m, std::string_view frame) {
  return normalize_title(m.signature->title(TitleParts{m.groups, m.rest, frame}));
}

std::string normalize_title(std::string_view in) {
  std::string s = neutralize(in, 1024);
  for (size_t p; (p = s.find("____ptrval____")) != std::string::npos;) s.replace(p, 14, "ADDR");

  std::string out;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    const bool boundary = i == 0 || !ident_char(s[i - 1]);
    if (boundary && hex_char(c)) {
      if (c == '0' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && hex_char(s[i + 2])) {
        size_t j = i + 2;
        while (j < n && hex_char(s[j])) ++j;
        out += "ADDR";
        i = j;
        continue;
      }
      size_t j = i;
      bool has_digit = false;
      while (j < n && hex_char(s[j])) has_digit |= digit_char(s[j++]);
      if (j - i >= 8 && has_digit && (j == n || !ident_char(s[j]))) {
        out += "ADDR";
        i = j;
        continue;
      }
      if (digit_char(c)) {
        size_t k = i;
        while (k < n && digit_char(s[k])) ++k;
        out += "NUM";
        i = k;
        continue;
      }
    }
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > 160) {
    size_t cut = 160;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    out.resize(cut);
  }
  return out;
}

std::string_view frame_function(std::string_view message, bool* questionable) {
  if (questionable) *questionable = false;
  std::string_view s = trim_left(message);
  for (int k = 0; k < 2 && s.substr(0, 2) == "[<"; ++k) {
    const size_t close = s.find(">]");
    if (close == std::string_view::npos) return {};
    s = trim_left(s.substr(close + 2));
  }
  if (s.substr(0, 2) == "? ") {
    if (questionable) *questionable = true;
    s = trim_left(s.substr(2));
  }
  if (s.empty() || !(ident_char(s[0]) && !digit_char(s[0]))) return {};
  size_t j = 0;
  while (j < s.size() && (ident_char(s[j]) || s[j] == '.')) ++j;
  const std::string_view name = s.substr(0, j);
  // "+0x<hex>/0x<hex>"
  std::string_view tail = s.substr(j);
  if (tail.substr(0, 3) != "+0x") return {};
  size_t k = 3;
  while (k < tail.size() && hex_char(tail[k])) ++k;
  if (k == 3 || tail.substr(k, 3) != "/0x" || k + 3 >= tail.size() || !hex_char(tail[k + 3])) return {};
  return name.substr(0, name.find('.'));
}

std::string_view ip_function(std::string_view message) {
  std::string_view s = trim_left(message);
  if (s.substr(0, 5) == "RIP: " || s.substr(0, 4) == "IP: " || s.substr(0, 4) == "EIP:") {
    s = trim_left(s.substr(s.find(':') + 1));
    // "0010:func+0x.." (the code segment), "0010:[<ffffffff81..>] ..."
    if (s.size() > 5 && s[4] == ':' && hex_char(s[0]) && hex_char(s[1]) && hex_char(s[2]) && hex_char(s[3])) {
      s = s.substr(5);
    }
  } else if (s.substr(0, 5) == "pc : ") {
    s = s.substr(5);
  } else if (s.substr(0, 9) == "PC is at ") {
    s = s.substr(9);
  } else {
    return {};
  }
  bool questionable = false;
  auto f = frame_function(s, &questionable);
  return questionable ? std::string_view{} : f;
}

bool skip_frame(std::string_view f, FrameRule rule) {
  if (f.empty()) return true;
  // Reporting and trap plumbing: never the culprit.
  if (starts_with_any(f, {"dump_stack", "__dump_stack", "show_stack", "show_trace", "panic", "nmi_panic",
                          "__warn", "warn_slowpath", "report_bug", "handle_bug", "exc_", "asm_exc_", "do_trap",
                          "do_error_trap", "die", "__die", "oops_", "page_fault_oops", "kernelmode_fixup_or_oops",
                          "__bad_area", "bad_area", "bust_spinlocks", "printk", "_printk", "vprintk", "pmd_clear_bad",
                          "pud_clear_bad", "p4d_clear_bad", "pgd_clear_bad", "pmd_none_or_clear_bad",
                          "pmd_none_or_trans_huge_or_clear_bad", "print_bad_pte", "bad_page", "dump_page",
                          "__dump_page", "kasan_", "__kasan", "__asan", "ubsan_", "__ubsan", "check_memory_region",
                          "lockdep", "lock_acquire", "lock_release", "__lock_acquire", "check_preemption_disabled",
                          "debug_smp_processor_id", "__might_sleep", "__might_resched", "__schedule_bug"})) {
    return true;
  }
  switch (rule) {
    case FrameRule::kHungTrace:
      return contains_any(f, {"sched", "_lock", "lock_", "down", "completion", "wait", "kthread", "__switch_to",
                              "context_switch", "rwsem", "mutex", "msleep", "ret_from_fork"});
    case FrameRule::kStallTrace:
      return starts_with_any(f, {"rcu", "__rcu", "sysvec_", "asm_sysvec_", "__sysvec_", "hrtimer", "__hrtimer",
                                 "tick_", "update_process_times", "irq_exit", "__irq_exit", "__do_softirq",
                                 "watchdog_timer_fn", "smp_call_function", "csd_lock"});
    default:
      return false;
  }
}

}  // namespace numasoak::console
