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

// "Padding overwritten. 0x..-0x.. @offset=8" -> "Padding overwritten"; "Attempt to free object(0x..)
// outside of slab" -> "Attempt to free object": the reason without the numbers that differ each time.
std::string reason_head(std::string_view s) {
  const size_t cut = std::min({s.find(". "), s.find('('), s.find(" 0x"), s.find(':'), s.size()});
  std::string out = trimmed(s.substr(0, cut));
  while (!out.empty() && (out.back() == '.' || out.back() == '!' || out.back() == ',')) out.pop_back();
  return out;
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
  // BUG: KASAN: double-free or invalid-free in kfree+0x..: the marker names the allocator, so the frame
  // comes from the Call Trace past kasan_*, kfree, __slab_free, ... (kAllocTrace); else the marker's function.
  {"kasan", Severity::kError, "BUG: KASAN: ", R"(BUG: KASAN: ([\w-]+(?: or [\w-]+)?) in ([\w.]+))",
   FrameRule::kAllocTrace, false, 0, 2,
   [](const TitleParts& p) {
     return "KASAN: " + p.groups[1] + " in " + (p.frame.empty() ? strip_suffix(p.groups[2]) : std::string(p.frame));
   }},
  // arm64 tag-based KASAN, asynchronous mode: "BUG: KASAN: invalid-access" with no address.
  {"kasan", Severity::kError, "BUG: KASAN: ", R"(BUG: KASAN: ([\w-]+)\s*$)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("KASAN: " + p.groups[1], p.frame); }},
  // After "general protection fault, probably for non-canonical address 0xdffffc...": the shadow address
  // KASAN's instrumentation computed. The fault is the KASAN report (Link::kRetitle), named from RIP.
  // KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]
  {"kasan", Severity::kFatal, "KASAN: ", R"(KASAN: ((?:maybe |probably )?[\w-]+) in range \[)",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame("KASAN: " + p.groups[1], p.frame); }, Link::kRetitle},
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
  // syzkaller's name for a task that ignores SIGKILL; kept so logs from its tools classify the same.
  {"hung-task", Severity::kError, "can't die", R"(INFO: task .{0,80}can't die)",
   FrameRule::kHungTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("INFO: task can't die", p.frame); }},
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
  // PAGE_TABLE_CHECK: a page mapped in a way its counters forbid. BUG_ON() inside the checker, so the
  // culprit is the caller of the page_table_check_* hook.
  {"page-table-check", Severity::kFatal, "kernel BUG at mm/page_table_check.c", R"(kernel BUG at (mm/page_table_check\.c:\d+))",
   FrameRule::kRipOrTrace, false, 1, 0,
   [](const TitleParts& p) { return with_frame("page_table_check: kernel BUG", p.frame); }},
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
  // --- lockdep (kernel/locking/lockdep.c) and PROVE_RCU ---------------------------------------
  // All of them say "the locking is wrong here", the kernel goes on (with lockdep off): kind "lockdep".
  // "possible deadlock" covers every report that names a lock-order cycle, as syzkaller titles them.
  {"lockdep", Severity::kError, "WARNING: ",
   R"(WARNING: (?:possible circular locking dependency detected|possible recursive locking detected|possible irq lock inversion dependency detected|[\w-]+-safe -> [\w-]+-unsafe lock order detected))",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("possible deadlock", p.frame); }},
  {"lockdep", Severity::kError, "WARNING: ",
   R"(WARNING: (inconsistent lock state|bad unlock balance detected!|held lock freed!|lock held when returning to user space!|Nested lock was not taken|bad contention detected!|chain_key collision))",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame(reason_head(p.groups[1]), p.frame); }},
  // WARNING: kworker/0:1/23 still has locks held!
  {"lockdep", Severity::kError, "still has locks held", R"(WARNING: \S{1,80}/\d+ still has locks held!)",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("still has locks held", p.frame); }},
  {"lockdep", Severity::kError, "INFO: trying to register non-static key", R"(INFO: trying to register non-static key)",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("trying to register non-static key", p.frame); }},
  // Lockdep ran out of room or was handed a bad key: it switches itself off, the kernel is fine.
  {"lockdep", Severity::kWarning, "BUG: ",
   R"(BUG: (MAX_\w+ too low|looking up invalid subclass|key \S+ has not been registered))",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) {
     return p.groups[1].rfind("MAX_", 0) == 0 ? "BUG: " + p.groups[1] : with_frame("BUG: " + reason_head(p.groups[1]), p.frame);
   }},
  // WARNING: suspicious RCU usage (INFO: before 3.x). PROVE_RCU is part of lockdep, so kind "lockdep".
  {"lockdep", Severity::kError, "suspicious RCU usage", R"((?:WARNING|INFO): suspicious RCU usage)",
   FrameRule::kLockTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("suspicious RCU usage", p.frame); }},

  // --- messages that a WARN()/BUG() right after them reports (Link::kLead) -----------------------
  // refcount_t: underflow; use-after-free.   (lib/refcount.c, WARN_ONCE)
  {"refcount", Severity::kWarning, "refcount_t: ", R"(refcount_t: ([\w ;!?-]{1,60}?)\.?\s*$)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("refcount_t: " + p.groups[1], p.frame); }, Link::kLead},
  // list_add corruption. prev->next should be next (...), but was ... (prev=...).   (lib/list_debug.c)
  // list_del corruption, ffff8880...->next is LIST_POISON1 (dead000000000100)
  {"list-corruption", Severity::kError, " corruption", R"((list_add|list_del|list_bl_add|list_bl_del|hlist_add|hlist_del) corruption\b)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame(p.groups[1] + " corruption", p.frame); }, Link::kLead},
  // ODEBUG: free active (active state 0) object: 0000000065bd2d6b object type: timer_list hint: foo+0x0/0x10
  {"debugobjects", Severity::kError, "ODEBUG: ",
   R"(ODEBUG: (\w+) (\w+) \(active state \d+\)(?: object: \S+)? object type: (\w+))",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("ODEBUG: " + p.groups[1] + " " + p.groups[2] + " " + p.groups[3], p.frame); },
   Link::kLead},
  // object ffff... is on stack ffff..., but NOT annotated.
  {"debugobjects", Severity::kError, "annotated.", R"(object \S+ is (NOT )?on stack \S+, but (NOT )?annotated)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("ODEBUG: object stack annotation", p.frame); }, Link::kLead},
  // CHECK_DATA_CORRUPTION() in fs/: VFS: Busy inodes after unmount of sda1 (ext4)
  {"vfs", Severity::kError, "VFS: Busy inodes after unmount", R"(VFS: Busy inodes after unmount of \S+ \(([\w.-]{1,40})\))",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return "VFS: Busy inodes after unmount of " + p.groups[1]; }, Link::kLead},
  {"vfs", Severity::kError, "VFS: Busy inodes after unmount", R"(VFS: Busy inodes after unmount)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("VFS: Busy inodes after unmount"); }, Link::kLead},
  // VFS: Close: file count is 0 (f_op=ext4_file_operations)
  {"vfs", Severity::kError, "VFS: Close: file count is 0", R"(VFS: Close: file count is 0)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("VFS: Close: file count is 0", p.frame); }, Link::kLead},
  // VM_BUG_ON_PAGE()/VM_BUG_ON_FOLIO(): dump_page() ends "page dumped because: VM_BUG_ON_FOLIO(...)", then BUG().
  // Under "BUG: Bad page state" the same line is part of that report (continuation).
  {"vm-bug", Severity::kError, "page dumped because: ", R"(page dumped because: (VM_BUG_ON_\w+|.{1,100}))",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) {
     return with_frame(p.groups[1].rfind("VM_BUG_ON", 0) == 0 ? p.groups[1] : "page dumped because: " + reason_head(p.groups[1]), p.frame);
   }, Link::kLead},

  // --- lock debugging (DEBUG_SPINLOCK, kernel/locking/spinlock_debug.c) -------------------------
  // BUG: spinlock bad magic on CPU#1, swapper/1/0     BUG: rwlock wrong owner on CPU#0, sh/83, ffffffff82a0b0c0
  {"bug", Severity::kError, "BUG: ", R"(BUG: (spinlock|rwlock) ([a-z][a-z ]{2,30}?) on CPU#\d+)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("BUG: " + p.groups[1] + " " + p.groups[2], p.frame); }},

  // --- SLUB debug (slub_debug=, SLUB_DEBUG_ON): mm/slub.c slab_bug() ---------------------------
  // BUG kmalloc-64 (Not tainted): Object already free    BUG kmalloc-128 (Tainted: G    B  ): Poison overwritten
  // 6.12's check_bytes_and_report() names what was overwritten on a line of its own, before
  // "BUG kmalloc-1k (Not tainted): Object corrupt" (which joins it, follows_lead) and the WARNING at mm/slub.c:
  // [Poison overwritten] 0xffff888000d9ce00-0xffff888000d9ce03 @offset=19968. First byte 0xf0 instead of 0x6b
  // (6.1 says it in the BUG line: "BUG kmalloc-1k (Not tainted): Poison overwritten"): one title for both.
  {"slab", Severity::kError, " overwritten] 0x", R"(^\[((?:[A-Z][a-z]+ ){0,2}[A-Za-z]+) overwritten\] 0x[0-9a-f]+-0x[0-9a-f]+ @offset=)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("SLUB: " + p.groups[1] + " overwritten", p.frame); }, Link::kLead,
   "mm/slub.c"},
  // 6.12 ends slab_err()/object_err() with WARN_ON(1) ("WARNING: ... at mm/slub.c:1152 slab_err+0x.."), after
  // the object dump: that WARNING is this report's (Link::kLead, lead_source), not a second failure.
  {"slab", Severity::kError, "BUG ",
   R"((?:^|[^\w])BUG [\w.:@-]{1,64} \((?:Not tainted|Tainted: [^)]{1,40})\): (.{1,120}))",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("SLUB: " + reason_head(p.groups[1]), p.frame); }, Link::kLead,
   "mm/slub.c"},

  // cache_from_obj: Wrong slab cache. lkdtm-heap-b but object is from lkdtm-heap-a   (mm/slab.h, WARN_ONCE)
  {"slab", Severity::kError, "Wrong slab cache", R"(cache_from_obj: Wrong slab cache\.)",
   FrameRule::kAllocTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("SLUB: Wrong slab cache", p.frame); }, Link::kLead},

  // --- network and other leaks ------------------------------------------------------------------
  // unregister_netdevice: waiting for lo to become free. Usage count = 2
  {"netdev-refcount", Severity::kError, "unregister_netdevice: waiting for ",
   R"(unregister_netdevice: waiting for \S{1,40} to become free)", FrameRule::kTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("unregister_netdevice: waiting for DEV to become free"); }},

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
  {"oops", Severity::kFatal, "Internal error: ", R"(Internal error: ([^:\[]{0,80}): [0-9a-f]+ \[#\d+\])",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) {
     return with_frame(trimmed(p.groups[1]).empty() ? "Internal error" : "Internal error: " + trimmed(p.groups[1]), p.frame);
   }},
  // arm64 and others: Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008
  {"unable-to-handle", Severity::kFatal, "Unable to handle kernel ",
   R"(Unable to handle kernel ([A-Za-z][\w -]{0,80}))",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("Unable to handle kernel " + before_at(p.groups[1]), p.frame); }},

  // x86 traps: die("<trap>") prints "<trap>: <error code> [#N]": divide error: 0000 [#1] PREEMPT SMP
  // (also "stack guard page", "double fault", "stack segment", "bounds", "int3", "alignment check")
  {"oops", Severity::kFatal, " [#", R"(^([a-z][a-z0-9 ]{2,40}): [0-9a-f]{4,16} \[#\d+\])",
   FrameRule::kRipOrTrace, true, 0, 0,
   [](const TitleParts& p) { return with_frame(p.groups[1], p.frame); }},
  // PANIC: double fault, error_code: 0x0   (arch/x86/kernel/traps.c; "double fault: 0000 [#1]" joins it)
  {"oops", Severity::kFatal, "PANIC: double fault", R"(PANIC: double fault)",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("PANIC: double fault", p.frame); }},
  // BUG: TASK stack guard page was hit at 00000000f6f7b8a5 (stack is ...)   (then "stack guard page: 0000 [#1]")
  {"oops", Severity::kFatal, "stack guard page was hit", R"(BUG: (\w+) stack guard page was hit)",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("BUG: " + p.groups[1] + " stack guard page was hit", p.frame); }},
  // arm: "Unhandled fault: page domain fault (0x01b) at 0x00000000", then "Internal error: : 1b [#1]" (joins)
  {"oops", Severity::kFatal, "Unhandled fault: ", R"(Unhandled (fault|prefetch abort): ([\w ()/-]{1,60}?) \(0x[0-9a-f]+\) at 0x)",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("Unhandled " + p.groups[1] + ": " + p.groups[2], p.frame); }},
  // arm64: "Unhandled 64-bit el1h sync exception on CPU0, ESR 0x..." then panic("Unhandled exception")
  {"oops", Severity::kFatal, "Unhandled ", R"(Unhandled ([\w-]+ \w+ \w+) exception on CPU\d+, ESR)",
   FrameRule::kRipOrTrace, false, 0, 0,
   [](const TitleParts& p) { return with_frame("Unhandled " + p.groups[1] + " exception", p.frame); }},
  // The boot banner. Only the detector knows whether it is the first (Link::kBootBanner).
  // Linux version 6.1.192+ (root@vm) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld ...) #2 SMP ...
  {"unexpected-reboot", Severity::kFatal, "Linux version ", R"(^Linux version \d+\.\d+\S* \(.{1,200}\) #\d+)",
   FrameRule::kTrace, false, 0, 0,
   [](const TitleParts&) { return std::string("unexpected kernel reboot"); }, Link::kBootBanner},

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
   FrameRule::kHungTrace, false, 0, 0,
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
                          "debug_smp_processor_id", "__might_sleep", "__might_resched", "__schedule_bug", "spin_bug",
                          "spin_dump", "rwlock_bug", "debug_spin_lock_before", "debug_spin_unlock",
                          "page_table_check_", "__page_table_check_"})) {
    return true;
  }
  switch (rule) {
    case FrameRule::kHungTrace:
      // Also the kernel entry/exit paths: "scheduling while atomic" is reported from the scheduler on the
      // way back to user space, and a hung task's stack ends in them.
      return contains_any(f, {"sched", "_lock", "lock_", "down", "completion", "wait", "kthread", "__switch_to",
                              "context_switch", "rwsem", "mutex", "msleep", "ret_from_fork"}) ||
             starts_with_any(f, {"exit_to_user_mode", "irqentry_exit", "syscall_exit_to_user_mode", "asm_sysvec_",
                                 "sysvec_", "entry_SYSCALL", "do_syscall_64"});
    case FrameRule::kStallTrace:
      return starts_with_any(f, {"rcu", "__rcu", "sysvec_", "asm_sysvec_", "__sysvec_", "hrtimer", "__hrtimer",
                                 "tick_", "update_process_times", "irq_exit", "__irq_exit", "__do_softirq",
                                 "watchdog_timer_fn", "smp_call_function", "csd_lock"});
    case FrameRule::kLockTrace:
      // lockdep's own frames and every way of taking a lock: the culprit is who asked for it.
      return weak_frame(f) ||
             starts_with_any(f, {"validate_chain", "check_noncircular", "check_prev_add", "check_prevs_add",
                                 "check_deadlock", "check_irq_usage", "check_usage", "print_", "mark_lock",
                                 "mark_usage", "mark_held_locks", "valid_state", "register_lock_class",
                                 "look_up_lock_class", "debug_check_no_locks", "debug_show_", "debug_locks_off",
                                 "lock_", "__lock_", "rcu_read_lock", "__rcu_read_lock", "rcu_lock_acquire",
                                 "rcu_read_lock_held", "rcu_lockdep", "might_lock", "__might_fault", "might_fault",
                                 "__raw_", "do_raw_", "hlock_class", "init_timer_key", "__init_waitqueue_head",
                                 "__mutex_init", "__init_rwsem", "__raw_spin_lock_init", "lockdep_init_map"});
    case FrameRule::kAllocTrace:
      return starts_with_any(f, {"refcount_warn_saturate", "refcount_", "__refcount_", "__list_add_valid",
                                 "__list_del_entry_valid", "__list_add_valid_or_report",
                                 "__list_del_entry_valid_or_report", "list_add", "list_del", "__list_add",
                                 "__list_del", "hlist_", "debug_print_object", "debug_object_", "__debug_object",
                                 "debug_check_no_obj_freed", "__debug_check_no_obj_freed", "kfree", "kvfree",
                                 "kmem_cache_free", "__kmem_cache_free", "slab_free", "__slab_free", "do_slab_free",
                                 "free_debug_processing", "free_to_partial_list", "free_consistency_checks",
                                 "on_freelist", "check_object", "check_bytes_and_report", "check_slab",
                                 "check_valid_pointer", "print_trailer", "object_err", "slab_err", "slab_bug",
                                 "slab_fix", "alloc_debug_processing", "___slab_alloc", "__slab_alloc", "get_partial_node",
                                 "get_partial", "get_any_partial", "new_slab", "allocate_slab",
                                 "slab_alloc", "slab_post_alloc_hook", "slab_free_freelist_hook", "slab_free_hook",
                                 "kmem_cache_alloc", "__kmalloc", "kmalloc", "kzalloc", "kmalloc_trace",
                                 "__kmem_cache_alloc", "kmem_cache_free_bulk", "build_detached_freelist",
                                 "____kasan", "print_report", "print_address_description", "describe_object",
                                 "complete_report_info", "filp_close", "generic_shutdown_super", "kill_", "memcpy",
                                 "__memcpy", "memset", "__memset", "memmove", "__memmove", "strlen", "strcpy",
                                 "strncpy", "copy_user_", "_copy_to_user", "_copy_from_user"}) ||
             weak_frame(f);
    default:
      return false;
  }
}

bool weak_frame(std::string_view f) {
  return starts_with_any(f, {"_raw_spin_", "_raw_read_", "_raw_write_", "do_raw_spin_", "do_raw_read_",
                             "do_raw_write_", "queued_spin_lock", "native_queued_spin", "__pv_queued_spin",
                             "queued_read_lock", "queued_write_lock", "spin_bug", "spin_dump", "rwlock_bug",
                             "debug_spin_lock", "mutex_lock", "__mutex_lock", "mutex_unlock", "__mutex_unlock",
                             "mutex_trylock", "down_read", "down_write", "up_read", "up_write", "__down_",
                             "__up_", "rwsem_", "rt_spin_", "rt_mutex_", "__rt_mutex"});
}

bool follows_lead(const Signature& s) {
  // ... and SLUB's "BUG <cache> (...): Object corrupt" after 6.12's "[Poison overwritten] ..." line.
  return s.kind == "warning" || s.kind == "kernel-bug" || (s.kind == "slab" && s.needle == "BUG ");
}

}  // namespace numasoak::console
