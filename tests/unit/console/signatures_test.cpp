#include "console/signatures.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "console/console_line.h"

namespace numasoak::console {
namespace {

std::string kind_of(std::string_view line) {
  auto m = match_signature(parse_console_line(line).message);
  return m ? std::string(m->signature->kind) : "none";
}

std::string title_of(std::string_view line, std::string_view frame = {}) {
  auto m = match_signature(parse_console_line(line).message);
  return m ? build_title(*m, frame) : "";
}

TEST(Signatures, KindsTheBriefAsksFor) {
  std::set<std::string_view> kinds;
  for (const auto& s : signatures()) kinds.insert(s.kind);
  for (auto k : {"bad-pmd", "bad-page-map", "bad-page-state", "bad-rss", "pmd-clear-bad", "panic", "kernel-bug", "bug",
                 "oops", "gpf", "warning", "soft-lockup", "hard-lockup", "hung-task", "rcu-stall", "kasan", "ubsan",
                 "unable-to-handle", "lockdep", "refcount", "list-corruption", "debugobjects", "vfs", "vm-bug", "slab",
                 "netdev-refcount", "page-table-check", "unexpected-reboot"}) {
    EXPECT_TRUE(kinds.count(k)) << k;
  }
}

TEST(Signatures, EveryRowIsWellFormed) {
  for (const auto& s : signatures()) {
    EXPECT_FALSE(s.kind.empty());
    EXPECT_FALSE(s.needle.empty()) << s.kind;
    EXPECT_NE(s.title, nullptr) << s.kind;
    if (s.frame == FrameRule::kMarker) {
      EXPECT_GT(s.frame_group, 0) << s.kind;
    }
  }
}

struct Case {
  const char* line;
  const char* kind;
  const char* title;  // with no guilty frame
};

TEST(Signatures, MarkersAndRawTitles) {
  const Case cases[] = {
      {"[   27.512345] mm/pgtable-generic.c:51: bad pmd (____ptrval____)(efffffffff57fe00)", "bad-pmd", "bad pmd"},
      {"mm/pgtable-generic.c:50: bad pmd 00000000af22fc02(dffffffe71fbfe02)", "bad-pmd", "bad pmd"},
      {"[    3.1] arch/x86/mm/pgtable.c:12: bad pud 00000000af22fc02(0000000012345067)", "bad-pgtable", "bad pud"},
      {"[  2.0]  pmd_clear_bad+0x3c/0x3c", "pmd-clear-bad", "pmd_clear_bad"},
      {"[ 12.0] BUG: Bad page map in process a.out  pte:8000000012345067 pmd:01234067", "bad-page-map",
       "BUG: Bad page map"},
      {"[ 12.0] BUG: Bad page state in process numasoak  pfn:1a2b3", "bad-page-state", "BUG: Bad page state"},
      {"[ 33.8] BUG: Bad rss-counter state mm:00000000c1b5e6a4 type:MM_ANONPAGES val:-512 Comm:w Pid:214", "bad-rss",
       "BUG: Bad rss-counter state"},
      {"[ 1.9] Kernel panic - not syncing: sysrq triggered crash", "panic", "kernel panic: sysrq triggered crash"},
      {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009", "panic",
       "kernel panic: Attempted to kill init! exitcode=ADDR"},
      {"[ 9.0] kernel BUG at mm/huge_memory.c:2123!", "kernel-bug", "kernel BUG at mm/huge_memory.c"},
      {"[ 9.0] BUG: kernel NULL pointer dereference, address: 0000000000000008", "bug",
       "BUG: kernel NULL pointer dereference"},
      {"[ 9.0] BUG: unable to handle page fault for address: ffffc90000a1b000", "bug",
       "BUG: unable to handle page fault"},
      {"[ 9.0] BUG: scheduling while atomic: swapper/0/0/0x00000002", "bug", "BUG: scheduling while atomic"},
      {"[ 9.0] BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 33s!", "bug",
       "BUG: workqueue lockup"},
      {"[ 9.0] BUG: spinlock bad magic on CPU#1, swapper/1/0", "bug", "BUG: spinlock bad magic"},
      {"[ 9.0] Oops: 0002 [#1] PREEMPT SMP NOPTI", "oops", "Oops"},
      {"[ 9.0] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "oops", "invalid opcode"},
      {"[ 9.0] Internal error: Oops: 0000000096000005 [#1] PREEMPT SMP", "oops", "Oops"},
      {"[ 9.0] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] SMP",
       "gpf", "general protection fault"},
      {"[ 9.0] Oops: general protection fault, probably for non-canonical address 0x1: 0000 [#1] SMP", "gpf",
       "general protection fault"},
      {"[ 9.0] WARNING: CPU: 1 PID: 0 at arch/x86/kernel/smpboot.c:432 topology_sane.isra.0+0x6b/0x80", "warning",
       "WARNING"},
      {"[ 9.0] WARNING: mm/mprotect.c:12 at change_pte_range+0x1/0x2, CPU#0: a/1", "warning", "WARNING"},
      {"[ 9.0] WARNING: possible circular locking dependency detected", "lockdep", "possible deadlock"},
      {"[ 9.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [stress-ng:123]", "soft-lockup", "BUG: soft lockup"},
      {"[ 9.0] watchdog: Watchdog detected hard LOCKUP on cpu 1", "hard-lockup", "hard LOCKUP"},
      {"[ 9.0] INFO: task kworker/0:1:23 blocked for more than 120 seconds.", "hung-task", "INFO: task hung"},
      {"[ 9.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "rcu-stall", "INFO: rcu detected stall"},
      {"[ 9.0] rcu: INFO: rcu_sched self-detected stall on CPU", "rcu-stall", "INFO: rcu detected stall"},
      {"[ 9.0] BUG: KASAN: slab-use-after-free in change_pmd_range.isra.0+0x12/0x34", "kasan",
       "KASAN: slab-use-after-free in change_pmd_range"},
      {"[ 9.0] UBSAN: array-index-out-of-bounds in mm/mprotect.c:123:45", "ubsan",
       "UBSAN: array-index-out-of-bounds in mm/mprotect.c"},
      {"[ 9.0] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
       "unable-to-handle", "Unable to handle kernel NULL pointer dereference"},
      {"[ 9.0] Unable to handle kernel paging request at virtual address ffff800008000000", "unable-to-handle",
       "Unable to handle kernel paging request"},
      {"[ 9.0] WARNING: CPU: 0 PID: 1 at change_pte_range+0x1/0x2", "warning", "WARNING"},
      {"[  301.196875][   T76] BUG: non-zero pgtables_bytes on freeing mm: 8192", "bad-pgtables",
       "BUG: non-zero pgtables_bytes on freeing mm"},
      {"BUG: non-zero nr_ptes on freeing mm: 1", "bad-pgtables", "BUG: non-zero nr_ptes on freeing mm"},
      {"[ 9.0] UBSAN: array index out of bounds at change_pte_range+0x1/0x2", "ubsan",
       "UBSAN: array index out of bounds"},
      {"[ 9.0] Internal error: UBSAN: shift out of bounds: 00000000f2005514 [#1] SMP", "ubsan",
       "UBSAN: shift out of bounds"},
      {"[ 9.0] Internal error: ptrauth failure: 0000000072000000 [#1] SMP", "oops", "Internal error: ptrauth failure"},
      {"[ 9.0] Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP", "oops", "Oops"},
      {"[ 9.0] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "oops", "Oops"},
      // Issue 17: the families the detector missed. Format strings from the 6.1 and 6.12 sources.
      {"[ 9.0] WARNING: possible recursive locking detected", "lockdep", "possible deadlock"},
      {"[ 9.0] WARNING: possible irq lock inversion dependency detected", "lockdep", "possible deadlock"},
      {"[ 9.0] WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected", "lockdep", "possible deadlock"},
      {"[ 9.0] WARNING: inconsistent lock state", "lockdep", "inconsistent lock state"},
      {"[ 9.0] WARNING: bad unlock balance detected!", "lockdep", "bad unlock balance detected"},
      {"[ 9.0] WARNING: held lock freed!", "lockdep", "held lock freed"},
      {"[ 9.0] WARNING: lock held when returning to user space!", "lockdep", "lock held when returning to user space"},
      {"[ 9.0] WARNING: kworker/0:1/23 still has locks held!", "lockdep", "still has locks held"},
      {"[ 9.0] INFO: trying to register non-static key.", "lockdep", "trying to register non-static key"},
      {"[ 9.0] BUG: MAX_LOCKDEP_KEYS too low!", "lockdep", "BUG: MAX_LOCKDEP_KEYS too low"},
      {"[ 9.0] WARNING: suspicious RCU usage", "lockdep", "suspicious RCU usage"},
      {"[ 9.0] refcount_t: underflow; use-after-free.", "refcount", "refcount_t: underflow; use-after-free"},
      {"[ 9.0] refcount_t: saturated; leaking memory.", "refcount", "refcount_t: saturated; leaking memory"},
      {"[ 9.0] list_add corruption. prev->next should be next (ffffffff82a0b0c0), but was 0000000000000000. "
       "(prev=ffff888004b1fd70).", "list-corruption", "list_add corruption"},
      {"[ 9.0] list_del corruption, ffff888004b1fd70->next is LIST_POISON1 (dead000000000100)", "list-corruption",
       "list_del corruption"},
      {"[ 9.0] ODEBUG: free active (active state 0) object: 0000000065bd2d6b object type: timer_list hint: "
       "foo+0x0/0x10", "debugobjects", "ODEBUG: free active timer_list"},
      {"[ 9.0] VFS: Busy inodes after unmount of sda1 (ext4)", "vfs", "VFS: Busy inodes after unmount of ext4"},
      {"[ 9.0] VFS: Close: file count is 0 (f_op=ext4_file_operations)", "vfs", "VFS: Close: file count is NUM"},
      {"[ 9.0] page dumped because: VM_BUG_ON_FOLIO(!folio_test_locked(folio))", "vm-bug",
       "VM_BUG_ON_FOLIO"},
      {"[ 9.0] BUG: spinlock recursion on CPU#0, sh/83", "bug", "BUG: spinlock recursion"},
      {"[ 9.0] BUG: rwlock wrong owner on CPU#1, sh/83, ffffffff82a0b0c0", "bug", "BUG: rwlock wrong owner"},
      {"[ 9.0] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580", "bug",
       "BUG: sleeping function called from invalid context"},
      {"[ 9.0] BUG kmalloc-64 (Not tainted): Object already free", "slab", "SLUB: Object already free"},
      {"[ 9.0] BUG kmalloc-128 (Tainted: G    B             ): Poison overwritten", "slab", "SLUB: Poison overwritten"},
      {"[ 9.0] BUG skbuff_head_cache (Tainted: G        W ): Padding overwritten. 0x..-0x.. @offset=8", "slab",
       "SLUB: Padding overwritten"},
      {"[ 9.0] unregister_netdevice: waiting for veth0 to become free. Usage count = 2", "netdev-refcount",
       "unregister_netdevice: waiting for DEV to become free"},
      {"[ 9.0] BUG: KASAN: double-free or invalid-free in kfree+0x10c/0x1d0", "kasan",
       "KASAN: double-free or invalid-free in kfree"},
      {"[ 9.0] KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]", "kasan",
       "KASAN: null-ptr-deref"},
      {"[ 9.0] BUG: KASAN: invalid-access", "kasan", "KASAN: invalid-access"},
      {"[ 9.0] kernel BUG at mm/page_table_check.c:97!", "page-table-check", "page_table_check: kernel BUG"},
      {"[ 9.0] divide error: 0000 [#1] PREEMPT SMP NOPTI", "oops", "divide error"},
      {"[ 9.0] PANIC: double fault, error_code: 0x0", "oops", "PANIC: double fault"},
      {"[ 9.0] BUG: TASK stack guard page was hit at 00000000f6f7b8a5 (stack is 0000000084c3da3b..000000003ba5a1b1)",
       "oops", "BUG: TASK stack guard page was hit"},
      {"[ 9.0] Unhandled fault: page domain fault (0x01b) at 0x00000000", "oops", "Unhandled fault: page domain fault"},
      {"[ 9.0] Internal error: : 1b [#1] SMP ARM", "oops", "Internal error"},
      {"[ 9.0] Unhandled 64-bit el1h sync exception on CPU0, ESR 0x0000000096000004 -- DABT (current EL)", "oops",
       "Unhandled NUM-bit el1h sync exception"},
      {"[ 0.000000] Linux version 6.1.192+ (root@vm) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld 2.40) #2 SMP Tue Nov 24",
       "unexpected-reboot", "unexpected kernel reboot"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(kind_of(c.line), c.kind) << c.line;
    EXPECT_EQ(title_of(c.line), c.title) << c.line;
  }
}

TEST(Signatures, MarkersMatchAfterAnyPrefix) {
  for (const char* line : {
           "kernel BUG at mm/mprotect.c:12!",
           "[   12.345678] kernel BUG at mm/mprotect.c:12!",
           "[   12.345678][  T123] kernel BUG at mm/mprotect.c:12!",
           "[   12.345678][    C1] kernel BUG at mm/mprotect.c:12!",
           "<2>[   12.345678] kernel BUG at mm/mprotect.c:12!",
           "Nov 24 12:00:00 host kernel: [   12.345678] kernel BUG at mm/mprotect.c:12!",
           "2025-11-24T12:00:00.123456+00:00 host kernel: kernel BUG at mm/mprotect.c:12!",
           "debian login: [   12.345678] kernel BUG at mm/mprotect.c:12!",
           "------------[ cut here ]------------kernel BUG at mm/mprotect.c:12!",
       }) {
    EXPECT_EQ(kind_of(line), "kernel-bug") << line;
    EXPECT_EQ(title_of(line), "kernel BUG at mm/mprotect.c") << line;
  }
}

TEST(Signatures, BenignLinesAreNotMarkers) {
  for (const char* line : {
           "[    0.296140] Performance Events: PMU not available due to virtualization, using software events only.",
           "[    0.1] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!",
           "[    0.1] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!",
           "[    0.1] Speculative Return Stack Overflow: IBPB-extending microcode not applied!",
           "[    0.1] x86/cpu: SGX disabled by BIOS.",
           "[    0.1] ACPI BIOS Error (bug): Could not resolve symbol [\\_SB.PCI0.LPCB.HPET], AE_NOT_FOUND (20220331/psargs-330)",
           "[    0.1] [Firmware Bug]: TSC_DEADLINE disabled due to Errata; please update microcode to version: 0x3a",
           "[    0.6] PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug",
           "[    1.1] AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.",
           "[    0.3] NMI watchdog: Perf NMI watchdog permanently disabled",
           "[    0.3] rcu: Hierarchical SRCU implementation.",
           "[    0.3] rcu: \tMax phase no-delay instances is 1000.",
           "[    0.0] Kernel command line: console=ttyS0 panic=-1 softlockup_panic=1 hung_task_panic=1",
           "[   50.1] traps: init[1] general protection fault ip:7f2c1a2b sp:7ffd1234 error:0 in libc.so.6[7f2c+195000]",
           "[   50.1] a.out[214]: segfault at 0 ip 0000000000401136 sp 00007ffd5a3c error 6 in a.out[401000+1000]",
           "[   50.1] INFO: NMI handler (perf_event_nmi_handler) took too long to run: 1.234 msecs",
           "[   50.1] ODEBUG: object 000000003c8f1f5e is on stack, but not annotated",
           "[   50.1] DEBUG: something from a driver",
           "[   50.1] ---[ end trace 0000000000000000 ]---",
           "[   50.1] ---[ end Kernel panic - not syncing: Fatal exception ]---",
           "[   50.1] lkdtm: Performing direct entry BUG",
           "[   50.1] sysrq: HELP : loglevel(0-9) reboot(b) crash(c) show-all-locks(d)",
           "[   50.1] Out of memory: Killed process 100 (busybox) total-vm:1493208kB, anon-rss:842000kB",
           "[   50.1] dump_stack_lvl+0x44/0x5c",
           "[   50.1] pmd_clear_bad() is where the kernel clears a bad pmd",
           "[   50.1] bad pmd count: 0",
           "[    0.1] workqueue: blk_mq_run_work_fn hogged CPU for >10000us 4 times, consider switching to WQ_UNBOUND",
           // Issue 17: look like reports, are not.
           "[    0.9] RAS: Correctable Errors collector initialized.",
           "[    0.0] Kernel command line: console=ttyS0 panic=-1 oops=panic panic_on_warn=1 slub_debug=FZPU",
           "[    0.1] ACPI: [Firmware Bug]: BIOS _OSI(Linux) query ignored",
           "[    0.1] ACPI BIOS Warning (bug): Incorrect checksum in table [DSDT] - 0x7E, should be 0x7F",
           "[    0.0] ODEBUG: selftest passed",
           "[    0.2] ODEBUG: Out of memory. ODEBUG disabled",
           "[    0.3] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
           "[    0.3] ... MAX_LOCKDEP_SUBCLASSES:  8",
           "[    0.3] kasan: KernelAddressSanitizer initialized",
           "[    0.3] SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=2",
           "[    0.3] Kernel/User page tables isolation: enabled",
           "[   12.0] INFO: lockdep is turned off.",
           "[   12.0] INFO: Allocated in lkdtm_SLAB_FREE_DOUBLE+0x1d/0x80 age=0 cpu=0 pid=83",
           "[   12.0] INFO: Slab 0x000000002c35bb5f objects=21 used=20 fp=0x0000000000000000 flags=0x200(slab|node=0)",
           "[   12.0] WARNING: could not open /dev/numasoak-agent: No such file or directory",
           "[   12.0] stress-ng: info: panic test: 'Kernel panic' is a string in this program",
           "[   12.0] The code is fine but needs lockdep annotation, or maybe",
           "[   12.0] lkdtm: Performing direct entry CORRUPT_LIST_ADD",
           "[   12.0] lkdtm: attempting bad list_add: 00000000c98a8fe9 -> 000000001b4fae34",
       }) {
    EXPECT_EQ(kind_of(line), "none") << line;
  }
}

TEST(NormalizeTitle, HexAndNumbersBecomePlaceholders) {
  EXPECT_EQ(normalize_title("BUG: soft lockup - CPU#0 stuck for 22s! [stress-ng:123]"),
            "BUG: soft lockup - CPU#NUM stuck for NUMs! [stress-ng:NUM]");
  EXPECT_EQ(normalize_title("bad pmd 00000000af22fc02(dffffffe71fbfe02)"), "bad pmd ADDR(ADDR)");
  EXPECT_EQ(normalize_title("bad pmd (____ptrval____)(efffffffff57fe00)"), "bad pmd (ADDR)(ADDR)");
  EXPECT_EQ(normalize_title("exitcode=0x00000009 flags=0X1f"), "exitcode=ADDR flags=ADDR");
  EXPECT_EQ(normalize_title("val:-512"), "val:-NUM");
}

TEST(NormalizeTitle, KeepsIdentifiersAndWords) {
  EXPECT_EQ(normalize_title("WARNING in p4d_alloc"), "WARNING in p4d_alloc");
  EXPECT_EQ(normalize_title("x86_64 sha256_update ext4_fill_super"), "x86_64 sha256_update ext4_fill_super");
  EXPECT_EQ(normalize_title("deadbeef cafe"), "deadbeef cafe");  // hex letters without digits: words
}

TEST(NormalizeTitle, CollapsesSpaceAndNeutralises) {
  EXPECT_EQ(normalize_title("  a \t b  "), "a b");
  EXPECT_EQ(normalize_title("evil\x1b[31m title\n"), "evil title?");
  EXPECT_LE(normalize_title(std::string(500, 'w')).size(), 160u);
}

TEST(NormalizeTitle, SameCrashSameTitle) {
  const char* a = "[  101.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [stress-ng:123]";
  const char* b = "[ 9999.9] watchdog: BUG: soft lockup - CPU#3 stuck for 45s! [numasoak-work:4711]";
  EXPECT_EQ(title_of(a, "lkdtm_SOFTLOCKUP"), title_of(b, "lkdtm_SOFTLOCKUP"));
  EXPECT_EQ(title_of(a, "lkdtm_SOFTLOCKUP"), "BUG: soft lockup in lkdtm_SOFTLOCKUP");
  EXPECT_EQ(title_of("[1.0] INFO: task a:1 blocked for more than 120 seconds."),
            title_of("[2.0] INFO: task kworker/u4:2:77 blocked for more than 241 seconds."));
}

TEST(Frames, FunctionOfATraceLine) {
  bool q = true;
  EXPECT_EQ(frame_function(" change_pmd_range.isra.0+0x34d/0x3a7", &q), "change_pmd_range");
  EXPECT_FALSE(q);
  EXPECT_EQ(frame_function(" ? sysvec_apic_timer_interrupt+0x34/0x81", &q), "sysvec_apic_timer_interrupt");
  EXPECT_TRUE(q);
  EXPECT_EQ(frame_function("dump_stack_lvl+0x46/0x61"), "dump_stack_lvl");
  EXPECT_EQ(frame_function(" [<ffffffff81234567>] __memset+0x24/0x30"), "__memset");
  EXPECT_EQ(frame_function(" [<ffffffff81234567>] ? foo+0x1/0x2", &q), "foo");
  EXPECT_TRUE(q);
  EXPECT_EQ(frame_function("  el0_svc_common.constprop.0+0x48/0xf0"), "el0_svc_common");
  EXPECT_EQ(frame_function(" lkdtm_do_action+0x24/0x40 [lkdtm]"), "lkdtm_do_action");
  EXPECT_EQ(frame_function(" <TASK>"), "");
  EXPECT_EQ(frame_function("Call Trace:"), "");
  EXPECT_EQ(frame_function("foo+0x12"), "");  // no size
  EXPECT_EQ(frame_function("12abc+0x1/0x2"), "");
}

TEST(Frames, FunctionOfAnInstructionPointerLine) {
  EXPECT_EQ(ip_function("RIP: 0010:topology_sane.isra.0+0x6b/0x80"), "topology_sane");
  EXPECT_EQ(ip_function("RIP: 0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30"), "__memset");
  EXPECT_EQ(ip_function("RIP: 0033:0x47b7a0"), "");  // user space
  EXPECT_EQ(ip_function("RIP: 0010:0x0"), "");
  EXPECT_EQ(ip_function("pc : change_pte_range+0x5c/0x4a0"), "change_pte_range");
  EXPECT_EQ(ip_function("PC is at do_thing+0x10/0x20"), "do_thing");
  EXPECT_EQ(ip_function("lr : change_protection+0x2b0/0x3a0"), "");
}

TEST(Frames, PlumbingIsSkipped) {
  for (auto f : {"dump_stack_lvl", "panic", "__warn", "report_bug", "handle_bug", "exc_invalid_op", "pmd_clear_bad",
                 "print_bad_pte", "kasan_report", "_printk"}) {
    EXPECT_TRUE(skip_frame(f, FrameRule::kTrace)) << f;
  }
  for (auto f : {"change_pmd_range", "sysrq_handle_crash", "migrate_pages", "lkdtm_SOFTLOCKUP"}) {
    EXPECT_FALSE(skip_frame(f, FrameRule::kTrace)) << f;
  }
  EXPECT_TRUE(skip_frame("schedule", FrameRule::kHungTrace));
  EXPECT_TRUE(skip_frame("rwsem_down_write_slowpath", FrameRule::kHungTrace));
  EXPECT_FALSE(skip_frame("schedule", FrameRule::kTrace));
  EXPECT_TRUE(skip_frame("rcu_sched_clock_irq", FrameRule::kStallTrace));
}

TEST(ConsoleLine, SplitsPrefixes) {
  auto l = parse_console_line("[ 2437548.196018][ T4711] mm/pgtable-generic.c:50: bad pmd");
  ASSERT_TRUE(l.uptime);
  EXPECT_NEAR(*l.uptime, 2437548.196018, 1e-6);
  EXPECT_EQ(l.caller, "T4711");
  EXPECT_EQ(l.message, "mm/pgtable-generic.c:50: bad pmd");

  l = parse_console_line("[    0.000000][    C1] x");
  EXPECT_EQ(l.caller, "C1");
  EXPECT_EQ(l.message, "x");

  l = parse_console_line("<3>[   12.5] oops");
  EXPECT_NEAR(*l.uptime, 12.5, 1e-9);
  EXPECT_EQ(l.message, "oops");

  l = parse_console_line("Nov 24 12:00:01 soak1 kernel: [   12.500000]  dump_stack_lvl+0x46/0x61");
  EXPECT_NEAR(*l.uptime, 12.5, 1e-9);
  EXPECT_EQ(l.message, " dump_stack_lvl+0x46/0x61");

  l = parse_console_line("Nov 24 12:00:01 soak1 kernel: no timestamp here");
  EXPECT_FALSE(l.uptime);
  EXPECT_EQ(l.message, "no timestamp here");

  l = parse_console_line("plain text [not a stamp]");
  EXPECT_FALSE(l.uptime);
  EXPECT_TRUE(l.caller.empty());
  EXPECT_EQ(l.message, "plain text [not a stamp]");

  l = parse_console_line("[  T99] caller without time");
  EXPECT_FALSE(l.uptime);
  EXPECT_EQ(l.caller, "T99");
  EXPECT_EQ(l.message, "caller without time");

  l = parse_console_line("[12.");
  EXPECT_FALSE(l.uptime);
  EXPECT_EQ(l.message, "[12.");
}

}  // namespace
}  // namespace numasoak::console
