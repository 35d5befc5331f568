// The transitions worker (transitions.h): walker threads, transition
// threads, a writer, the userfaultfd handler and the protection oracle, on
// one anonymous and one shmem (memfd) region of 2 MiB blocks.
#include "workload/transitions.h"

#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <random>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "workload/sys.h"
#include "workload/thread.h"
#include "workload/worker.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif

namespace numasoak::guest {

using nsw::Knob;
namespace proto = nsw::protocol;

namespace {

// Indices into the protocol's lists (spec/protocol.h).
enum Walker : std::size_t { kNuma, kWpSet, kWpResolve, kUnregister, kMprotect, kWalkerCount };
enum Transition : std::size_t { kMigrate, kZap, kSplit, kCollapse, kFault, kTransitionCount };
enum Memory : std::size_t { kAnon, kShmem, kMemoryCount };
static_assert(kWalkerCount == proto::kWalkers.size() && kTransitionCount == proto::kTransitions.size() &&
              kMemoryCount == proto::kMemory.size());

// How a walker learns what overlapped it: per block and transition kind, a
// transition bumps `started` before its syscall and `ended` after it. A walk
// that saw started != ended when it began, or a different `started` when it
// ended, overlapped at least one transition of that kind.
struct BlockClock {
  std::array<std::atomic<std::uint32_t>, kTransitionCount> started{};
  std::array<std::atomic<std::uint32_t>, kTransitionCount> ended{};
};

struct Region {
  Memory kind = kAnon;
  std::byte* base = nullptr;
  int memfd = -1;           // shmem: the file, to map the oracle block again
  std::size_t blocks = 0;   // the last one is the oracle's
  std::vector<BlockClock> clocks;

  std::size_t work_blocks() const { return blocks - 1; }
  std::byte* block(std::size_t b) const { return base + b * kHugeSize; }
  std::byte* oracle_block() const { return block(blocks - 1); }
};

struct Shared {
  const nsw::Settings* settings = nullptr;
  const GuestTopology* topo = nullptr;
  OpCounters* ops = nullptr;
  MatrixCounters* matrix = nullptr;
  int index = 0;
  int event_fd = -1;
  int uffd = -1;
  std::array<Region, kMemoryCount> regions;
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_handler{false};
  // The oracle's expectation: the page it is about to write, and the page the
  // handler saw fault last in an oracle block.
  std::atomic<std::uintptr_t> oracle_expect{0};
  std::atomic<std::uintptr_t> oracle_trapped{0};

  std::int64_t knob(Knob k) const { return settings->get(k); }
  void pause() const { sleep_us(knob(Knob::transitions_pause_us)); }
};

// --- mappings ---------------------------------------------------------------

std::byte* align_mapping(void* raw, std::size_t span, std::size_t bytes) {
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugeSize - 1) & ~(std::uintptr_t{kHugeSize} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t end = start + span, want_end = aligned + bytes;
  if (end > want_end) ::munmap(reinterpret_cast<void*>(want_end), end - want_end);
  return reinterpret_cast<std::byte*>(aligned);
}

std::byte* map_anon(std::size_t bytes) {
  const std::size_t span = bytes + kHugeSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  std::byte* p = align_mapping(raw, span, bytes);
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

// A memfd mapped MAP_SHARED at a 2 MiB-aligned address: shmem THPs need the
// virtual and the file offset aligned alike (offset 0 here). The file stays
// open (`fd`): the oracle maps its block again.
std::byte* map_shmem(std::size_t bytes, int* fd_out) {
  const int fd = static_cast<int>(::syscall(SYS_memfd_create, "numasoak-transitions", 0));
  if (fd < 0) return nullptr;
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return nullptr;
  }
  const std::size_t span = bytes + kHugeSize;
  void* hole = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (hole == MAP_FAILED) {
    ::close(fd);
    return nullptr;
  }
  std::byte* at = align_mapping(hole, span, bytes);
  void* p = ::mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    ::close(fd);
    return nullptr;
  }
  *fd_out = fd;
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return static_cast<std::byte*>(p);
}

// --- userfaultfd --------------------------------------------------------------

int open_uffd(std::string* why) {
  // UFFDIO_API takes one call per fd: learn the features on a probe first,
  // so that WP_HUGETLBFS_SHMEM is asked for only where the kernel has it.
  std::uint64_t features = 0;
  {
    const int probe = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC));
    if (probe < 0) {
      *why = "userfaultfd(2): " + errno_text(errno);
      return -1;
    }
    uffdio_api api{};
    api.api = UFFD_API;
    if (::ioctl(probe, UFFDIO_API, &api) == 0) features = api.features;
    ::close(probe);
  }
  const int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    *why = "userfaultfd(2): " + errno_text(errno);
    return -1;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | (features & UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
  if (::ioctl(fd, UFFDIO_API, &api) != 0) {
    *why = "UFFDIO_API with write-protect: " + errno_text(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool uffd_register(int uffd, void* addr, std::size_t len) {
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<std::uintptr_t>(addr);
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  return ::ioctl(uffd, UFFDIO_REGISTER, &reg) == 0;
}

bool uffd_unregister(int uffd, void* addr, std::size_t len) {
  uffdio_range r{};
  r.start = reinterpret_cast<std::uintptr_t>(addr);
  r.len = len;
  return ::ioctl(uffd, UFFDIO_UNREGISTER, &r) == 0;
}

// --- the matrix -----------------------------------------------------------------

struct ClockReading {
  std::array<std::uint32_t, kTransitionCount> started{}, ended{};
};

ClockReading read_clock(const BlockClock& c) {
  ClockReading r;
  for (std::size_t t = 0; t < kTransitionCount; ++t) {
    r.ended[t] = c.ended[t].load(std::memory_order_acquire);
    r.started[t] = c.started[t].load(std::memory_order_acquire);
  }
  return r;
}

// One walk of kind `w` on block `b` of `r`: run `walk`, count every
// transition kind that overlapped it.
template <typename Fn>
void walk(Shared& sh, Region& r, std::size_t b, Walker w, Fn&& fn) {
  const ClockReading before = read_clock(r.clocks[b]);
  fn();
  std::array<std::uint32_t, kTransitionCount> started_after{};
  for (std::size_t t = 0; t < kTransitionCount; ++t)
    started_after[t] = r.clocks[b].started[t].load(std::memory_order_acquire);
  for (std::size_t t = 0; t < kTransitionCount; ++t)
    if (before.started[t] != before.ended[t] || started_after[t] != before.started[t]) sh.matrix->add_cell(w, t, r.kind);
  sh.ops->add(Op::walker_ops);
}

template <typename Fn>
void transition(Shared& sh, Region& r, std::size_t b, Transition t, Fn&& fn) {
  r.clocks[b].started[t].fetch_add(1, std::memory_order_acq_rel);
  fn();
  r.clocks[b].ended[t].fetch_add(1, std::memory_order_acq_rel);
  sh.matrix->transitions_done[static_cast<std::size_t>(t) * kMemoryCount + static_cast<std::size_t>(r.kind)].fetch_add(1, std::memory_order_relaxed);
  sh.ops->add(Op::transition_ops);
}

// --- threads --------------------------------------------------------------------

// Walkers: each takes a random work block of either region, half the time
// the whole block, half the time one 4 KiB page in it (which splits a huge
// pmd on the way: the path that broke 6.1.160).
struct Pick {
  Region* region;
  std::size_t block;
  std::byte* addr;
  std::size_t len;
};

Pick pick(Shared& sh, std::mt19937_64& rng, bool allow_partial = true) {
  Region& r = sh.regions[rng() % kMemoryCount];
  const std::size_t b = rng() % r.work_blocks();
  if (allow_partial && (rng() & 1)) return {&r, b, r.block(b) + (rng() % kPagesPerHuge) * kPageSize, kPageSize};
  return {&r, b, r.block(b), kHugeSize};
}

void run_walker(Shared& sh, Walker w) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(sh.knob(Knob::seed)) * 31 + w);
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const Pick p = pick(sh, rng);
    walk(sh, *p.region, p.block, w, [&] {
      bool ok = true;
      switch (w) {
        case kWpSet: ok = uffd_writeprotect(sh.uffd, p.addr, p.len, true); break;
        case kWpResolve: ok = uffd_writeprotect(sh.uffd, p.addr, p.len, false); break;
        case kUnregister:
          // userfaultfd_unregister() resolves the range (a uffd_wp_range()
          // walk) before it drops the flag; register it again at once.
          ok = uffd_unregister(sh.uffd, p.addr, p.len);
          ok = uffd_register(sh.uffd, p.addr, p.len) && ok;
          break;
        case kMprotect:
          ok = ::mprotect(p.addr, p.len, PROT_READ | PROT_WRITE | PROT_EXEC) == 0;
          ok = ::mprotect(p.addr, p.len, PROT_READ | PROT_WRITE) == 0 && ok;
          break;
        default: break;
      }
      if (!ok) sh.ops->add(Op::uffd_errors);
    });
    sh.pause();
  }
}

void run_transition(Shared& sh, Transition t) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(sh.knob(Knob::seed)) * 131 + t);
  const std::vector<int> nodes = sh.topo->memory_nodes();
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const Pick p = pick(sh, rng, false);
    Region& r = *p.region;
    std::byte* block = p.addr;
    transition(sh, r, p.block, t, [&] {
      switch (t) {
        case kMigrate: {
          if (nodes.size() < 2) break;
          void* page = block;
          int where = -1, status = 0;
          sys_move_pages(0, 1, &page, nullptr, &where, 0);
          const int to = nodes[(static_cast<std::size_t>(std::max(where, 0)) + 1 + rng() % (nodes.size() - 1)) % nodes.size()];
          if (sys_move_pages(0, 1, &page, &to, &status, MPOL_MF_MOVE) < 0) sh.ops->add(Op::migrate_errors);
          break;
        }
        case kZap:
          // Anonymous: the data goes, the pmd is none. shmem: MADV_DONTNEED
          // unmaps (the page cache stays), MADV_REMOVE punches the hole.
          ::madvise(block, kHugeSize, r.kind == kShmem && (rng() & 1) ? MADV_REMOVE : MADV_DONTNEED);
          break;
        case kSplit:
          // A 4 KiB zap inside the block: an anonymous huge pmd becomes a
          // page table, a shmem one is unmapped (file THPs are not split
          // into page tables).
          ::madvise(block + (1 + rng() % (kPagesPerHuge - 1)) * kPageSize, kPageSize, MADV_DONTNEED);
          break;
        case kCollapse:
          if (::madvise(block, kHugeSize, MADV_COLLAPSE) != 0) sh.ops->add(Op::collapse_errors);
          else sh.ops->add(Op::collapses);
          break;
        case kFault:
          // none -> huge: the first write to an aligned, empty 2 MiB range
          // of a MADV_HUGEPAGE VMA faults a THP in (or maps the shmem one).
          ::madvise(block, kHugeSize, MADV_DONTNEED);
          *reinterpret_cast<volatile std::uint64_t*>(block) = rng();
          break;
        default: break;
      }
    });
    sh.pause();
  }
}

// Writes to the work blocks, so write-protected pages fault (and get
// resolved 4 KiB at a time by the handler) and zapped blocks fault back.
void run_writer(Shared& sh) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(sh.knob(Knob::seed)) * 7);
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const Pick p = pick(sh, rng, true);
    const std::size_t page = p.len == kPageSize ? 0 : (rng() % kPagesPerHuge) * kPageSize;
    *reinterpret_cast<volatile std::uint64_t*>(p.addr + page + 64) = rng();
    sh.ops->add(Op::touch_writes);
    sh.pause();
  }
}

bool in_oracle_block(const Shared& sh, std::uintptr_t a) {
  for (const auto& r : sh.regions) {
    const auto o = reinterpret_cast<std::uintptr_t>(r.oracle_block());
    if (a >= o && a < o + kHugeSize) return true;
  }
  return false;
}

// Resolves write-protect faults one 4 KiB page at a time: a partial resolve
// inside a huge shmem pmd splits (zaps) it under a MM_CP_UFFD_WP_RESOLVE
// walk, the 6.1.160 crash. Counted as resolve walks.
void run_handler(Shared& sh) {
  while (!sh.stop_handler.load(std::memory_order_relaxed)) {
    pollfd pfd{sh.uffd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    uffd_msg msgs[16];
    const ssize_t n = ::read(sh.uffd, msgs, sizeof msgs);
    if (n <= 0) continue;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(uffd_msg); ++i) {
      if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
      const std::uintptr_t page = msgs[i].arg.pagefault.address & ~(std::uintptr_t{kPageSize} - 1);
      if (in_oracle_block(sh, page)) sh.oracle_trapped.store(page, std::memory_order_release);
      Region* r = nullptr;
      for (auto& reg : sh.regions)
        if (page >= reinterpret_cast<std::uintptr_t>(reg.base) &&
            page < reinterpret_cast<std::uintptr_t>(reg.base) + reg.blocks * kHugeSize)
          r = &reg;
      const auto resolve = [&] {
        const bool ok = uffd_writeprotect(sh.uffd, reinterpret_cast<void*>(page), kPageSize, false);
        sh.ops->add(ok ? Op::uffd_wp_faults : Op::uffd_errors);
      };
      const std::size_t b = r ? (page - reinterpret_cast<std::uintptr_t>(r->base)) / kHugeSize : 0;
      if (r && b < r->work_blocks()) {
        walk(sh, *r, b, kWpResolve, resolve);
      } else {
        resolve();
      }
    }
  }
}

// --- the protection oracle ----------------------------------------------------------

thread_local sigjmp_buf t_fault_jmp;
thread_local volatile sig_atomic_t t_expect_fault = 0;

void on_segv(int sig, siginfo_t*, void*) {
  if (t_expect_fault) {
    t_expect_fault = 0;
    siglongjmp(t_fault_jmp, 1);
  }
  // Not ours: die as the default action would (the agent restarts the worker).
  std::signal(sig, SIG_DFL);
  ::raise(sig);
}

// True when a write to `p` faulted (SIGSEGV).
bool write_faults(volatile std::uint64_t* p) {
  if (sigsetjmp(t_fault_jmp, 1) != 0) return true;
  t_expect_fault = 1;
  *p = 0x6e756d61736f616bULL;
  t_expect_fault = 0;
  return false;
}

void report_protection(Shared& sh, const Region& r, std::uintptr_t addr, EventRecord::How how,
                       EventRecord::Scenario scenario) {
  sh.ops->add(Op::protection_events);
  EventRecord ev;
  ev.worker = sh.index;
  ev.type = EventRecord::kProtection;
  ev.addr = addr;
  ev.pages = 1;
  ev.how = how;
  ev.memory = static_cast<std::uint32_t>(r.kind);
  ev.scenario = scenario;
  ev.node = node_of(reinterpret_cast<void*>(addr));
  ev.uptime_ms = uptime_ms();
  [[maybe_unused]] const ssize_t n = ::write(sh.event_fd, &ev, sizeof ev);
}

// One uffd-wp check on the oracle block of `r`: bring it to `scenario`,
// write-protect it (or one page of it), write one protected page and expect
// the handler to have seen that page fault before the write completed.
void check_uffd_wp(Shared& sh, Region& r, EventRecord::Scenario scenario, std::mt19937_64& rng) {
  std::byte* block = r.oracle_block();
  // Populate: one write per 4 KiB page would be 512 faults; one per block
  // faults a THP in (or a page of the shmem one).
  for (std::size_t off = 0; off < kHugeSize; off += kPageSize)
    *reinterpret_cast<volatile std::uint64_t*>(block + off) = off;
  // shmem: unmap, keep the page cache: the pmd is none while the data exists,
  // which uffd-wp must still protect (pte markers). Anonymous memory has no
  // such state (unpopulated anonymous pages are not protectable in 6.1).
  // MADV_DONTNEED would leave a page table behind once the block was mapped
  // by PTEs; unmapping the whole 2 MiB frees it, so map it again.
  if (scenario == EventRecord::kPmdNone) {
    if (::munmap(block, kHugeSize) != 0 ||
        ::mmap(block, kHugeSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r.memfd,
               static_cast<off_t>(block - r.base)) != block) {
      std::fprintf(stderr, "numasoak: transitions: cannot map the oracle block again: %s\n", errno_text(errno).c_str());
      std::_Exit(3);
    }
    ::madvise(block, kHugeSize, MADV_HUGEPAGE);
    if (!uffd_register(sh.uffd, block, kHugeSize)) {
      sh.ops->add(Op::uffd_errors);
      return;
    }
  }
  const std::size_t page_index = rng() % kPagesPerHuge;
  std::byte* page = block + page_index * kPageSize;
  const bool skip = sh.knob(Knob::oracle_skip_protect) != 0;  // TEST ONLY
  if (!skip) {
    const bool ok = scenario == EventRecord::kPartial ? uffd_writeprotect(sh.uffd, page, kPageSize, true)
                                                      : uffd_writeprotect(sh.uffd, block, kHugeSize, true);
    if (!ok) {
      sh.ops->add(Op::uffd_errors);
      return;
    }
  }
  sh.oracle_trapped.store(0, std::memory_order_release);
  const auto addr = reinterpret_cast<std::uintptr_t>(page);
  sh.oracle_expect.store(addr, std::memory_order_release);
  *reinterpret_cast<volatile std::uint64_t*>(page + 8) = rng();  // blocks until resolved, if protected
  sh.ops->add(Op::oracle_checks);
  if (sh.oracle_trapped.load(std::memory_order_acquire) != addr)
    report_protection(sh, r, addr, EventRecord::kUffdWp, scenario);
  uffd_writeprotect(sh.uffd, block, kHugeSize, false);
}

void check_prot_read(Shared& sh, Region& r, std::mt19937_64& rng) {
  std::byte* block = r.oracle_block();
  *reinterpret_cast<volatile std::uint64_t*>(block) = 1;
  const bool skip = sh.knob(Knob::oracle_skip_protect) != 0;  // TEST ONLY
  if (!skip && ::mprotect(block, kHugeSize, PROT_READ) != 0) return;
  std::byte* page = block + (rng() % kPagesPerHuge) * kPageSize;
  sh.ops->add(Op::oracle_checks);
  if (!write_faults(reinterpret_cast<volatile std::uint64_t*>(page + 16)))
    report_protection(sh, r, reinterpret_cast<std::uintptr_t>(page), EventRecord::kProtRead, EventRecord::kReadOnly);
  ::mprotect(block, kHugeSize, PROT_READ | PROT_WRITE);
}

void run_oracle(Shared& sh) {
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGSEGV, &sa, nullptr);
  std::mt19937_64 rng(static_cast<std::uint64_t>(sh.knob(Knob::seed)) * 65537);
  while (!sh.stop.load(std::memory_order_relaxed)) {
    for (auto& r : sh.regions) {
      check_uffd_wp(sh, r, EventRecord::kMappedHuge, rng);
      check_uffd_wp(sh, r, EventRecord::kPartial, rng);
      if (r.kind == kShmem) check_uffd_wp(sh, r, EventRecord::kPmdNone, rng);
      check_prot_read(sh, r, rng);
      if (sh.stop.load(std::memory_order_relaxed)) break;
    }
    sh.pause();
  }
}

}  // namespace

void run_transitions(int index, const nsw::Settings& settings, const GuestTopology& topo, OpCounters& ops,
                     MatrixCounters& matrix, int event_fd) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  Shared sh;
  sh.settings = &settings;
  sh.topo = &topo;
  sh.ops = &ops;
  sh.matrix = &matrix;
  sh.index = index;
  sh.event_fd = event_fd;
  const std::size_t bytes = (static_cast<std::size_t>(settings.get(Knob::transitions_mb)) + 1) / 2 * kHugeSize;
  sh.regions[kAnon] = {kAnon, map_anon(bytes), -1, bytes / kHugeSize, std::vector<BlockClock>(bytes / kHugeSize)};
  int memfd = -1;
  std::byte* shmem = map_shmem(bytes, &memfd);
  sh.regions[kShmem] = {kShmem, shmem, memfd, bytes / kHugeSize, std::vector<BlockClock>(bytes / kHugeSize)};
  for (const auto& r : sh.regions) {
    if (!r.base) {
      std::fprintf(stderr, "numasoak: transitions: cannot map %zu MiB of %s: %s\n", bytes >> 20,
                   std::string(proto::kMemory[r.kind]).c_str(), errno_text(errno).c_str());
      std::_Exit(3);
    }
  }
  std::string why;
  sh.uffd = open_uffd(&why);
  for (const auto& r : sh.regions) {
    if (sh.uffd >= 0 && !uffd_register(sh.uffd, r.base, r.blocks * kHugeSize)) {
      why = "UFFDIO_REGISTER (write-protect) of the " + std::string(proto::kMemory[r.kind]) +
            " region: " + errno_text(errno);
      ::close(sh.uffd);
      sh.uffd = -1;
    }
  }
  if (sh.uffd < 0) {
    std::fprintf(stderr, "numasoak: transitions: %s\n", why.c_str());
    std::_Exit(3);
  }
  for (auto& r : sh.regions)
    for (std::size_t off = 0; off < r.blocks * kHugeSize; off += kHugeSize)
      *reinterpret_cast<volatile std::uint64_t*>(r.base + off) = off;

  std::vector<SmallThread> threads;
  SmallThread handler([&sh] { run_handler(sh); });
  for (std::size_t w = kWpSet; w < kWalkerCount; ++w)
    threads.emplace_back([&sh, w] { run_walker(sh, static_cast<Walker>(w)); });
  for (std::size_t t = 0; t < kTransitionCount; ++t)
    threads.emplace_back([&sh, t] { run_transition(sh, static_cast<Transition>(t)); });
  threads.emplace_back([&sh] { run_writer(sh); });
  if (settings.on(Knob::oracle)) threads.emplace_back([&sh] { run_oracle(sh); });

  int sig = 0;
  sigwait(&term, &sig);
  sh.stop = true;
  // Release every writer that may wait on a write-protect fault (an
  // unregister wakes them, over however many VMAs the walkers left), then
  // the handler last.
  for (auto& r : sh.regions) uffd_unregister(sh.uffd, r.base, r.blocks * kHugeSize);
  for (auto& t : threads) t.join();
  sh.stop_handler = true;
  handler.join();
  std::_Exit(0);
}

}  // namespace numasoak::guest
