// The stressor threads of a worker. Each is a loop that runs until
// ctx.stop; none of them ever writes the integrity check words.
#include <cerrno>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <random>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workload/integrity.h"
#include "workload/sys.h"
#include "workload/worker.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MPOL_F_NUMA_BALANCING
#define MPOL_F_NUMA_BALANCING (1 << 13)
#endif

namespace numasoak::guest {

using nsw::Knob;

namespace {

unsigned long node_mask(int node) { return 1UL << static_cast<unsigned>(node); }

// The next node after `node` in `nodes` (round robin), or nodes[0].
int next_node(const std::vector<int>& nodes, int node) {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i] == node) return nodes[(i + 1) % nodes.size()];
  return nodes.front();
}

}  // namespace

void pin_helper(const WorkerContext& ctx) {
  if (ctx.helper_cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : ctx.helper_cpus) CPU_SET(c, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

void run_toucher(WorkerContext& ctx, int cpu, int slot, std::int64_t pause) {
  if (cpu >= 0) pin_to_cpu(cpu);
  const std::size_t stride = static_cast<std::size_t>(ctx.knob(Knob::touch_stride_kb)) * 1024;
  const std::size_t word = IntegrityChecker::kScratchOffset + 8 * static_cast<std::size_t>(slot % 8);
  std::uint64_t n = 0;
  while (!ctx.stop.load(std::memory_order_relaxed)) {
    std::uint64_t writes = 0;
    for (std::size_t off = 0; off < ctx.bytes; off += stride) {
      const std::size_t page = off & ~(kPageSize - 1);
      *reinterpret_cast<volatile std::uint64_t*>(ctx.region + page + word) = ++n;
      ++writes;
    }
    ctx.ops->add(Op::touch_passes);
    ctx.ops->add(Op::touch_writes, writes);
    sleep_us(pause);
  }
}

void run_mover(WorkerContext& ctx, int pid, int cpu) {
  const auto& nodes = ctx.mem_nodes;
  if (nodes.size() < 2) return;
  if (cpu >= 0) pin_to_cpu(cpu);
  const std::size_t nblocks = ctx.blocks();
  std::vector<void*> pages(nblocks);
  for (std::size_t b = 0; b < nblocks; ++b) pages[b] = ctx.region + b * kHugeSize;
  std::vector<int> where(nblocks, -1), target(nblocks), status(nblocks);
  sys_move_pages(pid, nblocks, pages.data(), nullptr, where.data(), 0);

  const std::size_t batch = ctx.knob(Knob::move_batch) > 0
                                ? std::min<std::size_t>(nblocks, static_cast<std::size_t>(ctx.knob(Knob::move_batch)))
                                : nblocks;
  const std::int64_t migrate_every = ctx.knob(Knob::migrate_pages_every);
  const std::int64_t pause = ctx.knob(Knob::move_pause_us);
  std::size_t cursor = 0;
  int mp_from = nodes[0];

  for (std::int64_t round = 1; !ctx.stop.load(std::memory_order_relaxed); ++round) {
    if (migrate_every > 0 && round % migrate_every == 0) {
      // Everything the worker has on one node to the next.
      const int to = next_node(nodes, mp_from);
      const unsigned long from_mask = node_mask(mp_from), to_mask = node_mask(to);
      if (sys_migrate_pages(pid, kMaxNode, &from_mask, &to_mask) < 0)
        ctx.ops->add(Op::migrate_errors);
      else
        ctx.ops->add(Op::migrate_pages_calls);
      mp_from = to;
      const std::vector<int> before = where;
      sys_move_pages(pid, nblocks, pages.data(), nullptr, where.data(), 0);
      // A block whose node changed across migrate_pages() was migrated.
      for (std::size_t b = 0; b < nblocks; ++b)
        if (before[b] >= 0 && where[b] >= 0 && before[b] != where[b]) ctx.migrated(b);
    } else {
      // move_pages: every block of the batch to the node after its own.
      const std::size_t first = cursor % nblocks;
      const std::size_t count = std::min(batch, nblocks - first);
      for (std::size_t i = first; i < first + count; ++i) target[i] = next_node(nodes, where[i]);
      const long rc = sys_move_pages(pid, count, &pages[first], &target[first], &status[first], MPOL_MF_MOVE);
      if (rc < 0) {
        ctx.ops->add(Op::migrate_errors);
        if (errno == ESRCH) return;  // the worker is gone
      } else {
        std::uint64_t moved = 0, failed = 0;
        for (std::size_t i = first; i < first + count; ++i) {
          if (status[i] == target[i]) {
            ++moved;
            ctx.migrated(i);
          }
          if (status[i] < 0) ++failed;
          where[i] = status[i] >= 0 ? status[i] : where[i];
        }
        ctx.ops->add(Op::mp_calls);
        ctx.ops->add(Op::mp_moved, moved);
        ctx.ops->add(Op::mp_failed, failed);
      }
      cursor += count;
    }
    sleep_us(pause);
  }
}

void run_mbinder(WorkerContext& ctx) {
  pin_helper(ctx);
  const auto& nodes = ctx.mem_nodes;
  const std::int64_t interval_us = ctx.knob(Knob::mbind_interval_ms) * 1000;
  if (nodes.size() < 2 || interval_us <= 0) return;
  bool numa_balancing_flag = true;  // MPOL_F_NUMA_BALANCING keeps the VMA visible to the scanner
  int node = nodes[0];
  for (std::size_t b = 0; !ctx.stop.load(std::memory_order_relaxed); b = (b + 1) % ctx.blocks()) {
    sleep_us(interval_us);
    // One block bound to a node with MPOL_MF_MOVE, then the policy is reset
    // at once: a VMA left with a non-default policy lacking
    // MPOL_F_NUMA_BALANCING would be invisible to the NUMA scanner.
    node = next_node(nodes, node);
    void* addr = ctx.region + b * kHugeSize;
    int node_before = -1, node_after = -1;
    sys_move_pages(0, 1, &addr, nullptr, &node_before, 0);
    const unsigned long mask = node_mask(node);
    long rc = sys_mbind(addr, kHugeSize, MPOL_BIND | (numa_balancing_flag ? MPOL_F_NUMA_BALANCING : 0), &mask,
                        kMaxNode, MPOL_MF_MOVE);
    if (rc < 0 && errno == EINVAL && numa_balancing_flag) {
      numa_balancing_flag = false;  // a kernel without MPOL_F_NUMA_BALANCING for mbind
      rc = sys_mbind(addr, kHugeSize, MPOL_BIND, &mask, kMaxNode, MPOL_MF_MOVE);
    }
    if (sys_mbind(addr, kHugeSize, MPOL_DEFAULT, nullptr, 0, 0) < 0) rc = -1;
    ctx.ops->add(rc < 0 ? Op::migrate_errors : Op::mbind_calls);
    // mbind() succeeds whether or not it moved anything: a block whose node
    // changed was migrated (by it, or by a racing migration).
    sys_move_pages(0, 1, &addr, nullptr, &node_after, 0);
    if (node_before >= 0 && node_after >= 0 && node_before != node_after) ctx.migrated(b);
  }
}

void run_scan_driver(WorkerContext& ctx) {
  pin_helper(ctx);
  volatile std::uint64_t spin = 0;
  while (!ctx.stop.load(std::memory_order_relaxed))
    for (int i = 0; i < 1 << 20; ++i) spin = spin + 1;
}

int uffd_open_wp(void* addr, std::size_t len, std::string* why) {
  const int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    *why = errno == ENOSYS ? "userfaultfd is not available (CONFIG_USERFAULTFD off)"
                           : "userfaultfd(2) failed: " + errno_text(errno);
    return -1;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
  if (::ioctl(fd, UFFDIO_API, &api) != 0) {
    *why = "UFFDIO_API with UFFD_FEATURE_PAGEFAULT_FLAG_WP failed: " + errno_text(errno) +
           " (kernel without userfaultfd write-protect)";
    ::close(fd);
    return -1;
  }
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<std::uintptr_t>(addr);
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(fd, UFFDIO_REGISTER, &reg) != 0) {
    *why = "UFFDIO_REGISTER in write-protect mode failed: " + errno_text(errno) +
           " (anonymous uffd-wp needs CONFIG_HAVE_ARCH_USERFAULTFD_WP)";
    ::close(fd);
    return -1;
  }
  if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
    *why = "UFFDIO_WRITEPROTECT is not offered for anonymous memory";
    ::close(fd);
    return -1;
  }
  return fd;
}

bool uffd_writeprotect(int uffd, void* addr, std::size_t len, bool wp) {
  uffdio_writeprotect w{};
  w.range.start = reinterpret_cast<std::uintptr_t>(addr);
  w.range.len = len;
  w.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
  while (::ioctl(uffd, UFFDIO_WRITEPROTECT, &w) != 0) {
    if (errno != EAGAIN && errno != EINTR) return false;
  }
  return true;
}

namespace {
// UFFDIO_WRITEPROTECT wants its range inside one VMA; while the mbind thread
// has a block bound to a node the region is three VMAs (ENOENT): then go
// block by block.
void protect_range(WorkerContext& ctx, std::byte* addr, std::size_t len, bool wp) {
  const std::size_t first = static_cast<std::size_t>(addr - ctx.region) / kHugeSize;
  if (uffd_writeprotect(ctx.uffd, addr, len, wp)) {
    ctx.ops->add(Op::uffd_wp_ioctls);
    // One change_pmd_range() pass over every block of the range.
    for (std::size_t b = first; b < first + (len + kHugeSize - 1) / kHugeSize; ++b) ctx.walked(b);
    return;
  }
  if (errno != ENOENT || len <= kHugeSize) {
    ctx.ops->add(Op::uffd_errors);
    return;
  }
  for (std::size_t off = 0; off < len; off += kHugeSize) {
    const bool ok = uffd_writeprotect(ctx.uffd, addr + off, kHugeSize, wp);
    ctx.ops->add(ok ? Op::uffd_wp_ioctls : Op::uffd_errors);
    if (ok) ctx.walked(first + off / kHugeSize);
  }
}
}  // namespace

void run_uffd_protector(WorkerContext& ctx) {
  pin_helper(ctx);
  const std::size_t chunk_mb = static_cast<std::size_t>(ctx.knob(Knob::uffd_wp_chunk_mb));
  const std::size_t chunk = chunk_mb == 0 ? ctx.bytes : std::min(ctx.bytes, (chunk_mb + 1) / 2 * kHugeSize);
  const std::int64_t pause = ctx.knob(Knob::uffd_wp_pause_us);
  std::size_t off = 0;
  while (!ctx.stop.load(std::memory_order_relaxed)) {
    const std::size_t len = std::min(chunk, ctx.bytes - off);
    std::byte* addr = ctx.region + off;
    protect_range(ctx, addr, len, true);
    sleep_us(pause);
    protect_range(ctx, addr, len, false);
    sleep_us(pause);
    off += len;
    if (off >= ctx.bytes) off = 0;
  }
}

void run_uffd_handler(WorkerContext& ctx) {
  pin_helper(ctx);
  while (!ctx.stop_handler.load(std::memory_order_relaxed)) {
    pollfd p{ctx.uffd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    uffd_msg msgs[16];
    const ssize_t n = ::read(ctx.uffd, msgs, sizeof msgs);
    if (n <= 0) continue;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(uffd_msg); ++i) {
      if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
      // Resolve the whole 2 MiB block: a partial range would split the THP.
      const std::uintptr_t a = msgs[i].arg.pagefault.address & ~(std::uintptr_t{kHugeSize} - 1);
      const bool ok = uffd_writeprotect(ctx.uffd, reinterpret_cast<void*>(a), kHugeSize, false);
      ctx.ops->add(ok ? Op::uffd_wp_faults : Op::uffd_errors);
      const auto r0 = reinterpret_cast<std::uintptr_t>(ctx.region);
      if (ok && a >= r0 && a < r0 + ctx.bytes) ctx.walked((a - r0) / kHugeSize);
    }
  }
}

void run_mprotect_churn(WorkerContext& ctx) {
  pin_helper(ctx);
  std::mt19937_64 rng(static_cast<std::uint64_t>(ctx.knob(Knob::seed)) * 7919 + static_cast<std::uint64_t>(ctx.index));
  const std::int64_t pause_us = ctx.knob(Knob::mprotect_pause_ms) * 1000;
  while (!ctx.stop.load(std::memory_order_relaxed)) {
    // RW <-> RWX: a real protection change walk (change_protection) that
    // never makes the memory unwritable for the touchers.
    std::byte* block = ctx.region + (rng() % ctx.blocks()) * kHugeSize;
    ::mprotect(block, kHugeSize, PROT_READ | PROT_WRITE | PROT_EXEC);
    ctx.ops->add(Op::mprotect_calls);
    sleep_us(pause_us / 2);
    ::mprotect(block, kHugeSize, PROT_READ | PROT_WRITE);
    ctx.ops->add(Op::mprotect_calls);
    sleep_us(pause_us / 2);
  }
}

void run_split_collapse(WorkerContext& ctx) {
  pin_helper(ctx);
  std::mt19937_64 rng(static_cast<std::uint64_t>(ctx.knob(Knob::seed)) * 104729 + static_cast<std::uint64_t>(ctx.index));
  const std::int64_t pause_us = ctx.knob(Knob::split_collapse_pause_ms) * 1000;
  while (!ctx.stop.load(std::memory_order_relaxed)) {
    std::byte* block = ctx.region + (rng() % ctx.blocks()) * kHugeSize;
    // A 4 KiB protection change inside the block splits its PMD; the data stays.
    ::mprotect(block + kPageSize, kPageSize, PROT_READ | PROT_WRITE | PROT_EXEC);
    ::mprotect(block + kPageSize, kPageSize, PROT_READ | PROT_WRITE);
    ctx.ops->add(Op::splits);
    sleep_us(pause_us / 2);
    // EINVAL both on kernels without MADV_COLLAPSE and (6.1) when PTEs carry
    // uffd-wp bits; either way khugepaged may collapse later (MADV_HUGEPAGE).
    ctx.ops->add(::madvise(block, kHugeSize, MADV_COLLAPSE) == 0 ? Op::collapses : Op::collapse_errors);
    sleep_us(pause_us / 2);
  }
}

}  // namespace numasoak::guest
