// SPDX-License-Identifier: GPL-2.0
/*
 * numasoak_widen: widen the change_pmd_range() race window of a kernel that
 * carries no numasoak patch, from outside its source.  NOT A FIX: a test
 * instrument for the numasoak harness.
 *
 * The harness's window locator reads the kernel binary (DWARF lines and
 * inlines) and names the instructions of the window: the re-read of *pmd in
 * pmd_none_or_clear_bad_unless_trans_huge() (unfixed 6.1.y), or the single
 * read that decides everything (fixed kernels).  gcc duplicates that read
 * into several paths (the 6.1 backport's `goto again` gives nine copies), so
 * the module puts a kprobe on every copy it is given and busy-waits there,
 * like the debug patch's udelay():
 *
 *   symbol=change_protection offsets=0x3a6,0x5d1,...   every copy of the read
 *   ptr_reg=ax     register holding the pmd pointer (delay BEFORE the re-read)
 *   val_reg=r14    register the read loads the pmd into (delay AFTER the read)
 *   ptr_regs=ax,-,ax,...  after the read: per copy, the register still holding
 *                  the pmd pointer ("-": the load overwrote it), for landed
 *   numa_us=200    delay in NUMA-balancing walks (change_prot_numa())
 *   uffd_us=0      delay in userfaultfd write-protect walks (mwriteprotect_range())
 *
 * BRIEF §6 warns that a delay with interrupts off (an int3 kprobe handler)
 * may not widen this window: the migrating CPU waits for the walker's answer
 * to its TLB-flush IPI before it installs the PMD migration entry.  A
 * jump-optimized kprobe runs with interrupts on; the kernel optimizes
 * pre-handler probes on its own, a few jiffies after registration, where it
 * can.  The module counts delays taken with interrupts off apart
 * (hits_irqs_off), and landed counts PMD migration entries installed on the
 * very pmd a CPU was delaying on, during the delay: together they say
 * whether the delay let the race happen.
 *
 * Read-only in /sys/module/numasoak_widen/parameters/: hits, hits_irqs_off,
 * landed, armed (probes registered), optimized (of those, jump-optimized
 * now), point (the first offset).  numa_us and uffd_us are writable.
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
static char *ptr_regs[WIDEN_MAX_POINTS];
static int n_ptr_regs;
module_param_array(ptr_regs, charp, &n_ptr_regs, 0444);
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

static struct kprobe windows[WIDEN_MAX_POINTS];
static int armed;
module_param(armed, int, 0444);

static int get_optimized(char *buf, const struct kernel_param *kp)
{
	int i, n = 0;

	for (i = 0; i < n_offsets; i++)
		if (windows[i].addr && (windows[i].flags & KPROBE_FLAG_OPTIMIZED))
			n++;
	return sysfs_emit(buf, "%d\n", n);
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
static int point_ptr_off[WIDEN_MAX_POINTS];
static DEFINE_PER_CPU(pmd_t *, delaying_on);

static unsigned long reg_value(struct pt_regs *regs, int off)
{
	return *(unsigned long *)((char *)regs + off);
}

static void window_delay(struct kprobe *p, struct pt_regs *regs)
{
	int point_ptr = point_ptr_off[p - windows];
	enum walk w = walk_of(current);
	unsigned int us = w == WALK_NUMA ? READ_ONCE(numa_us) : w == WALK_UFFD ? READ_ONCE(uffd_us) : 0;
	pmd_t *pmdp = NULL;
	pmd_t v;

	if (!us)
		return;
	if (point_ptr >= 0)
		pmdp = (pmd_t *)reg_value(regs, point_ptr);
	else if (ptr_off >= 0)
		pmdp = (pmd_t *)reg_value(regs, ptr_off);
	if (val_off >= 0) {
		v = __pmd(reg_value(regs, val_off));
	} else if (!pmdp || copy_from_kernel_nofault(&v, pmdp, sizeof(v))) {
		return;
	}
	/* As the debug patch: only a huge pmd or a PMD migration entry can change under the walker in a way that matters. */
	if (!pmd_trans_huge(v) && !is_pmd_migration_entry(v))
		return;
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
}

/* Before the re-read (the pointer is in ptr_reg). */
static int window_pre(struct kprobe *p, struct pt_regs *regs)
{
	window_delay(p, regs);
	return 0;
}

/* After the single read: the probed load has run, the value is in val_reg. */
static void window_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	window_delay(p, regs);
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
	int i, err = -EINVAL;

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

	/* Every copy of the read; a copy the kernel refuses is logged and skipped. */
	for (i = 0; i < n_offsets; i++) {
		point_ptr_off[i] = i < n_ptr_regs && ptr_regs[i] && strcmp(ptr_regs[i], "-") ? reg_offset(ptr_regs[i]) : -1;
		windows[i].symbol_name = symbol;
		windows[i].offset = offsets[i];
		if (val_off >= 0)
			windows[i].post_handler = window_post;
		else
			windows[i].pre_handler = window_pre;
		err = register_kprobe(&windows[i]);
		if (err) {
			pr_info("numasoak_widen: %s+0x%lx: register_kprobe %d\n", symbol, offsets[i], err);
			windows[i].addr = NULL;
			continue;
		}
		armed++;
	}
	if (!armed) {
		pr_err("numasoak_widen: no window point could be probed in %s\n", symbol);
		err = -EINVAL;
		goto out_uffd;
	}
	point = offsets[0];
	pr_info("numasoak_widen: outside amplifier (NOT A FIX) at %s+0x%lx and %d more copies, %s, pmd %s %s, numa_us=%u uffd_us=%u%s\n",
		symbol, point, armed - 1, val_off >= 0 ? "after the read" : "before the re-read",
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
	int i;

	for (i = 0; i < n_offsets; i++)
		if (windows[i].addr)
			unregister_kprobe(&windows[i]);
	if (migration.kp.addr)
		unregister_kretprobe(&migration);
	unregister_kretprobe(&uffd_walk);
	unregister_kretprobe(&numa_walk);
}

module_init(widen_init);
module_exit(widen_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numasoak: widen the change_pmd_range() race window from outside (NOT A FIX)");
