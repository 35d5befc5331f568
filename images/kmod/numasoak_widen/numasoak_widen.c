// SPDX-License-Identifier: GPL-2.0
/*
 * numasoak_widen: widen the change_pmd_range() race window of a kernel that
 * carries no numasoak patch, from outside its source.  NOT A FIX: a test
 * instrument for the numasoak harness.
 *
 * The harness's window locator reads the kernel binary (DWARF lines and
 * inlines) and names the instructions of the window: after the read(s) of
 * *pmd that decide "not a swap pmd, not devmap" and up to the re-read in
 * pmd_none_or_clear_bad_unless_trans_huge() (unfixed 6.1.y), or right after
 * the single read (fixed kernels).  This module puts a kprobe at one of them
 * and busy-waits there, like the debug patch's udelay():
 *
 *   symbol=change_protection offsets=0x3a6,0x3ad,...   candidate points, in order
 *   ptr_reg=ax     register holding the pmd pointer at the point ("" = none)
 *   val_reg=dx     register holding the pmd value read ("" = none)
 *   numa_us=200    delay in NUMA-balancing walks (change_prot_numa())
 *   uffd_us=0      delay in userfaultfd write-protect walks (mwriteprotect_range())
 *
 * Interrupts must stay on during the delay (BRIEF §6): the migrating CPU
 * waits for the walker's answer to its TLB-flush IPI before it installs the
 * PMD migration entry, so a delay with interrupts off (an int3 kprobe
 * handler) makes the entry land after the window closes.  Jump-optimized
 * kprobes run their handler with interrupts on, so the module keeps the
 * first candidate point that the kernel optimizes, and counts delays taken
 * with interrupts off apart (hits_irqs_off) so a run can say the window was
 * not really widened.  landed counts PMD migration entries installed on the
 * very pmd a CPU was delaying on, during the delay: the proof that the delay
 * lets the race happen.
 *
 * Read-only in /sys/module/numasoak_widen/parameters/: hits, hits_irqs_off,
 * landed, optimized, point (the offset in use).  numa_us and uffd_us are
 * writable at run time.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#define WIDEN_MAX_US 10000U
#define WIDEN_MAX_POINTS 16
#define WIDEN_TASK_SLOTS 64

static char *symbol = "change_protection";
module_param(symbol, charp, 0444);
static unsigned long offsets[WIDEN_MAX_POINTS];
static int n_offsets;
module_param_array(offsets, ulong, &n_offsets, 0444);
static char *ptr_reg = "";
module_param(ptr_reg, charp, 0444);
static char *val_reg = "";
module_param(val_reg, charp, 0444);
static unsigned int numa_us;
module_param(numa_us, uint, 0644);
static unsigned int uffd_us;
module_param(uffd_us, uint, 0644);

static atomic_long_t hits = ATOMIC_LONG_INIT(0);
static atomic_long_t hits_irqs_off = ATOMIC_LONG_INIT(0);
static atomic_long_t landed = ATOMIC_LONG_INIT(0);
static long point = -1;
module_param(point, long, 0444);

static int get_counter(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read((atomic_long_t *)kp->arg));
}
static const struct kernel_param_ops counter_ops = { .get = get_counter };
module_param_cb(hits, &counter_ops, &hits, 0444);
module_param_cb(hits_irqs_off, &counter_ops, &hits_irqs_off, 0444);
module_param_cb(landed, &counter_ops, &landed, 0444);

static struct kprobe window;

static int get_optimized(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", point >= 0 && (window.flags & KPROBE_FLAG_OPTIMIZED) ? 1 : 0);
}
static const struct kernel_param_ops optimized_ops = { .get = get_optimized };
module_param_cb(optimized, &optimized_ops, NULL, 0444);

/* ---- which walk a task is in: change_prot_numa() or mwriteprotect_range() ---- */

enum walk { WALK_NONE = 0, WALK_NUMA = 1, WALK_UFFD = 2 };

static struct task_struct *slot_task[WIDEN_TASK_SLOTS];
static int slot_walk[WIDEN_TASK_SLOTS];

static enum walk walk_of(struct task_struct *t)
{
	int i;

	for (i = 0; i < WIDEN_TASK_SLOTS; i++)
		if (READ_ONCE(slot_task[i]) == t)
			return READ_ONCE(slot_walk[i]);
	return WALK_NONE;
}

struct walk_mark { int slot; };

static int mark_walk(struct kretprobe_instance *ri, enum walk w)
{
	struct walk_mark *m = (struct walk_mark *)ri->data;
	int i;

	m->slot = -1;
	for (i = 0; i < WIDEN_TASK_SLOTS; i++) {
		if (cmpxchg(&slot_task[i], NULL, current) == NULL) {
			WRITE_ONCE(slot_walk[i], w);
			m->slot = i;
			break;
		}
	}
	return 0;
}

static int numa_entry(struct kretprobe_instance *ri, struct pt_regs *regs) { return mark_walk(ri, WALK_NUMA); }
static int uffd_entry(struct kretprobe_instance *ri, struct pt_regs *regs) { return mark_walk(ri, WALK_UFFD); }

static int walk_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct walk_mark *m = (struct walk_mark *)ri->data;

	if (m->slot >= 0) {
		WRITE_ONCE(slot_walk[m->slot], WALK_NONE);
		smp_store_release(&slot_task[m->slot], NULL);
	}
	return 0;
}

static struct kretprobe numa_walk = {
	.kp.symbol_name = "change_prot_numa",
	.entry_handler = numa_entry,
	.handler = walk_return,
	.data_size = sizeof(struct walk_mark),
	.maxactive = WIDEN_TASK_SLOTS,
};
static struct kretprobe uffd_walk = {
	.kp.symbol_name = "mwriteprotect_range",
	.entry_handler = uffd_entry,
	.handler = walk_return,
	.data_size = sizeof(struct walk_mark),
	.maxactive = WIDEN_TASK_SLOTS,
};

/* ---- the window ---- */

/* pt_regs offset of a register named as the locator names it ("ax", "r12"), or -1. */
static int reg_offset(const char *name)
{
	static const struct { const char *name; int off; } regs[] = {
		{ "ax", offsetof(struct pt_regs, ax) }, { "bx", offsetof(struct pt_regs, bx) },
		{ "cx", offsetof(struct pt_regs, cx) }, { "dx", offsetof(struct pt_regs, dx) },
		{ "si", offsetof(struct pt_regs, si) }, { "di", offsetof(struct pt_regs, di) },
		{ "bp", offsetof(struct pt_regs, bp) }, { "r8", offsetof(struct pt_regs, r8) },
		{ "r9", offsetof(struct pt_regs, r9) }, { "r10", offsetof(struct pt_regs, r10) },
		{ "r11", offsetof(struct pt_regs, r11) }, { "r12", offsetof(struct pt_regs, r12) },
		{ "r13", offsetof(struct pt_regs, r13) }, { "r14", offsetof(struct pt_regs, r14) },
		{ "r15", offsetof(struct pt_regs, r15) },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(regs); i++)
		if (!strcmp(name, regs[i].name))
			return regs[i].off;
	return -1;
}

static int ptr_off = -1, val_off = -1;
static DEFINE_PER_CPU(pmd_t *, delaying_on);

static unsigned long reg_value(struct pt_regs *regs, int off)
{
	return *(unsigned long *)((char *)regs + off);
}

static int window_pre(struct kprobe *p, struct pt_regs *regs)
{
	enum walk w = walk_of(current);
	unsigned int us = w == WALK_NUMA ? READ_ONCE(numa_us) : w == WALK_UFFD ? READ_ONCE(uffd_us) : 0;
	pmd_t *pmdp = NULL;
	pmd_t v;

	if (!us)
		return 0;
	if (ptr_off >= 0)
		pmdp = (pmd_t *)reg_value(regs, ptr_off);
	if (val_off >= 0) {
		v = __pmd(reg_value(regs, val_off));
	} else if (!pmdp || copy_from_kernel_nofault(&v, pmdp, sizeof(v))) {
		return 0;
	}
	/* As the debug patch: only a huge pmd or a PMD migration entry can change under the walker in a way that matters. */
	if (!pmd_trans_huge(v) && !is_pmd_migration_entry(v))
		return 0;
	us = min(us, WIDEN_MAX_US);
	atomic_long_inc(&hits);
	if (irqs_disabled())
		atomic_long_inc(&hits_irqs_off);
	this_cpu_write(delaying_on, pmdp);
	while (us) {
		unsigned int step = min(us, 100U);

		udelay(step);
		us -= step;
	}
	this_cpu_write(delaying_on, NULL);
	return 0;
}

/* ---- the proof: migration entries installed on a pmd during its delay ---- */

struct migration_mark { pmd_t *pmd; };

static int migration_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct page_vma_mapped_walk *pvmw = (struct page_vma_mapped_walk *)regs->di;
	struct migration_mark *m = (struct migration_mark *)ri->data;

	m->pmd = pvmw ? pvmw->pmd : NULL;
	return 0;
}

static int migration_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct migration_mark *m = (struct migration_mark *)ri->data;
	int cpu;

	if (!m->pmd)
		return 0;
	for_each_online_cpu(cpu) {
		if (READ_ONCE(per_cpu(delaying_on, cpu)) == m->pmd) {
			atomic_long_inc(&landed);
			break;
		}
	}
	return 0;
}

static struct kretprobe migration = {
	.kp.symbol_name = "set_pmd_migration_entry",
	.entry_handler = migration_entry,
	.handler = migration_return,
	.data_size = sizeof(struct migration_mark),
	.maxactive = 64,
};

static int __init widen_init(void)
{
	int i, wait, err = -EINVAL;

	if (n_offsets <= 0) {
		pr_err("numasoak_widen: no window point given (offsets=)\n");
		return -EINVAL;
	}
	ptr_off = ptr_reg[0] ? reg_offset(ptr_reg) : -1;
	val_off = val_reg[0] ? reg_offset(val_reg) : -1;
	if ((ptr_reg[0] && ptr_off < 0) || (val_reg[0] && val_off < 0) || (ptr_off < 0 && val_off < 0)) {
		pr_err("numasoak_widen: ptr_reg=%s val_reg=%s: need a known register for the pmd\n", ptr_reg, val_reg);
		return -EINVAL;
	}
	err = register_kretprobe(&numa_walk);
	if (err) {
		pr_err("numasoak_widen: kretprobe change_prot_numa: %d\n", err);
		return err;
	}
	err = register_kretprobe(&uffd_walk);
	if (err) {
		pr_err("numasoak_widen: kretprobe mwriteprotect_range: %d\n", err);
		goto out_numa;
	}
	if (register_kretprobe(&migration))
		migration.kp.addr = NULL; /* no proof counter, the delay still works */

	/*
	 * The first candidate the kernel optimizes into a jump; the optimizer
	 * runs from a workqueue a few jiffies after registration.
	 */
	for (i = 0; i < n_offsets; i++) {
		memset(&window, 0, sizeof(window));
		window.symbol_name = symbol;
		window.offset = offsets[i];
		window.pre_handler = window_pre;
		err = register_kprobe(&window);
		if (err) {
			pr_info("numasoak_widen: %s+0x%lx: register_kprobe %d\n", symbol, offsets[i], err);
			continue;
		}
		/*
		 * The optimizer waits for an RCU-tasks grace period, which
		 * takes seconds on a loaded TCG guest: give it up to 3 s.
		 */
		for (wait = 0; wait < 30 && !(window.flags & KPROBE_FLAG_OPTIMIZED); wait++)
			msleep(100);
		if (window.flags & KPROBE_FLAG_OPTIMIZED)
			break;
		pr_info("numasoak_widen: %s+0x%lx: not optimized\n", symbol, offsets[i]);
		if (i + 1 < n_offsets)
			unregister_kprobe(&window);
	}
	if (err) {
		pr_err("numasoak_widen: no window point could be probed in %s\n", symbol);
		goto out_uffd;
	}
	point = offsets[i < n_offsets ? i : n_offsets - 1];
	pr_info("numasoak_widen: outside amplifier (NOT A FIX) at %s+0x%lx, %s, pmd %s %s, numa_us=%u uffd_us=%u%s\n",
		symbol, point, (window.flags & KPROBE_FLAG_OPTIMIZED) ? "optimized (interrupts on)"
		: "NOT optimized (int3, interrupts off: the delay cannot widen this window)",
		val_off >= 0 ? "value in" : "pointer in", val_off >= 0 ? val_reg : ptr_reg, numa_us, uffd_us,
		migration.kp.addr ? "" : ", no landed counter");
	return 0;

out_uffd:
	unregister_kretprobe(&uffd_walk);
out_numa:
	unregister_kretprobe(&numa_walk);
	if (migration.kp.addr)
		unregister_kretprobe(&migration);
	return err;
}

static void __exit widen_exit(void)
{
	unregister_kprobe(&window);
	if (migration.kp.addr)
		unregister_kretprobe(&migration);
	unregister_kretprobe(&uffd_walk);
	unregister_kretprobe(&numa_walk);
}

module_init(widen_init);
module_exit(widen_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numasoak: widen the change_pmd_range() race window from outside (NOT A FIX)");
