#include "workload/worker.h"

#include <csignal>
#include <linux/mempolicy.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

#include "workload/integrity.h"
#include "workload/sys.h"
#include "workload/thread.h"

namespace numasoak::guest {

using nsw::Knob;

namespace {

// A 2 MiB-aligned private anonymous region, asked to be THP-backed.
std::byte* map_region(std::size_t bytes) {
  const std::size_t span = bytes + kHugeSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugeSize - 1) & ~(std::uintptr_t{kHugeSize} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t end = start + span, want_end = aligned + bytes;
  if (end > want_end) ::munmap(reinterpret_cast<void*>(want_end), end - want_end);
  auto* region = reinterpret_cast<std::byte*>(aligned);
  ::madvise(region, bytes, MADV_HUGEPAGE);
  return region;
}

// NUMA balancing scans every migratable VMA and pays a TLB flush for each
// one it changed; under TCG a flush waits for the other vCPU, so a scan of
// the stacks, heap and data costs more than the THP region itself, and the
// scanner's 32x self-throttle then makes scans rare. A VMA with a policy
// lacking MPOL_F_MOF (here MPOL_LOCAL) is skipped by the scanner, so give
// one to every private writable mapping but the region. Returns how many.
int focus_numa_scanner(const std::byte* region, std::size_t bytes) {
  const auto maps = read_text("/proc/self/maps", 1 << 20);
  if (!maps) return 0;
  const auto r0 = reinterpret_cast<std::uintptr_t>(region), r1 = r0 + bytes;
  int n = 0;
  std::string_view text = *maps;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // "start-end perms offset dev inode [path]"
    const auto dash = line.find('-'), sp = line.find(' ');
    if (dash == std::string_view::npos || sp == std::string_view::npos || sp < dash || line.size() < sp + 5) continue;
    const std::string_view perms = line.substr(sp + 1, 4);
    if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p') continue;
    if (line.find("[vsyscall]") != std::string_view::npos || line.find("[vvar]") != std::string_view::npos) continue;
    const std::uintptr_t a = std::strtoull(std::string(line.substr(0, dash)).c_str(), nullptr, 16);
    const std::uintptr_t b = std::strtoull(std::string(line.substr(dash + 1, sp - dash - 1)).c_str(), nullptr, 16);
    if (b <= a || (a < r1 && b > r0)) continue;
    if (sys_mbind(reinterpret_cast<void*>(a), b - a, MPOL_LOCAL, nullptr, 0, 0) == 0) ++n;
  }
  return n;
}

void send_event(const WorkerContext& ctx, const IntegrityEvent& ev) {
  EventRecord r;
  r.worker = ctx.index;
  r.node = ev.node;
  r.addr = ev.addr;
  r.pages = ev.pages;
  r.expected = ev.expected;
  r.actual = ev.actual;
  r.uptime_ms = ev.uptime_ms;
  r.zero = ev.zero ? 1 : 0;
  // Atomic (< PIPE_BUF); if the agent is far behind, the pipe is full and
  // the record is dropped rather than stalling the checker (counted anyway).
  [[maybe_unused]] const ssize_t n = ::write(ctx.event_fd, &r, sizeof r);
}

void run_verifier(WorkerContext& ctx, IntegrityChecker& checker) {
  pin_helper(ctx);
  const std::int64_t pause_us = ctx.knob(Knob::verify_pause_ms) * 1000;
  const std::int64_t refresh_every = ctx.knob(Knob::refresh_every);
  const std::uint64_t max_reports = static_cast<std::uint64_t>(ctx.knob(Knob::max_reports));
  std::uint64_t reported = 0;
  std::size_t refresh_cursor = 0;
  std::vector<IntegrityEvent> events;
  for (std::int64_t pass = 1; !ctx.stop.load(std::memory_order_relaxed); ++pass) {
    for (std::size_t b = 0; b < checker.blocks(); ++b) {
      const std::uint64_t before = checker.pages_checked();
      events.clear();
      checker.verify_block(b, events);
      ctx.ops->add(Op::pages_checked, checker.pages_checked() - before);
      for (const auto& ev : events) {
        ctx.ops->add(Op::integrity_events);
        ctx.ops->add(Op::integrity_pages, ev.pages);
        if (reported++ < max_reports) send_event(ctx, ev);
      }
      if (ctx.stop.load(std::memory_order_relaxed)) break;
    }
    ctx.ops->add(Op::verify_passes);
    if (refresh_every > 0 && pass % refresh_every == 0) checker.refresh_block(refresh_cursor++ % checker.blocks());
    sleep_us(pause_us);
  }
}

}  // namespace

void run_worker(int index, const nsw::Settings& settings, const GuestTopology& topo, OpCounters& ops, int event_fd,
                ColocationCounters* colo) {
  // SIGTERM ends the worker; only this thread takes it (sigwait below).
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  // One malloc arena: per-thread arenas are more mappings for the NUMA
  // scanner to wade through.
  mallopt(M_ARENA_MAX, 1);

  WorkerContext ctx;
  ctx.index = index;
  ctx.settings = &settings;
  ctx.topo = &topo;
  ctx.ops = &ops;
  ctx.colo = colo;
  ctx.bytes = nsw::region_bytes(settings);
  ctx.mem_nodes = topo.memory_nodes();
  ctx.event_fd = event_fd;
  ctx.region = map_region(ctx.bytes);
  if (!ctx.region) {
    std::fprintf(stderr, "numasoak: worker %d: cannot map %zu MiB\n", index, ctx.bytes >> 20);
    std::_Exit(3);
  }

  const std::uint32_t seed = static_cast<std::uint32_t>(settings.get(Knob::seed)) * 2654435761u +
                             static_cast<std::uint32_t>(index);
  IntegrityChecker checker(ctx.region, ctx.bytes, seed, node_of, uptime_ms);
  checker.set_block_reset([](std::byte* block) { ::madvise(block, kHugeSize, MADV_DONTNEED); });
  checker.fill();  // faults in the THPs

  // The mover process: move_pages(pid of this worker) from outside, so its
  // CPU time neither triggers NUMA scans of this mm nor runs them (a scan
  // running in the migrator's own context can never meet its migrations).
  // Forked before any thread exists; MADV_DONTFORK keeps the THPs private.
  pid_t mover = -1;
  const int mover_cpu = topo.cpus[static_cast<std::size_t>(index + 1) % topo.cpus.size()];
  const bool mover_process = settings.on(Knob::move_pages) && settings.choice(Knob::mover) == "process";
  if (mover_process) {
    ::madvise(ctx.region, ctx.bytes, MADV_DONTFORK);
    const pid_t me = ::getpid();
    mover = ::fork();
    if (mover == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != me) std::_Exit(0);
      // Nothing of the mover's own is worth scanning: a task policy without
      // MPOL_F_MOF makes NUMA balancing skip all of it.
      sys_set_mempolicy(MPOL_LOCAL, nullptr, 0);
      pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
      run_mover(ctx, me, mover_cpu);
      std::_Exit(0);
    }
  }

  if (settings.on(Knob::uffd_wp)) {
    std::string why;
    ctx.uffd = uffd_open_wp(ctx.region, ctx.bytes, &why);
    if (ctx.uffd < 0) std::fprintf(stderr, "numasoak: worker %d: %s\n", index, why.c_str());
  }

  // With a mover process on mover_cpu, the scans that can meet its
  // migrations are those run on the other CPUs: keep the helper threads
  // (and the scans they run) off mover_cpu.
  for (int cpu : topo.cpus)
    if (!mover_process || cpu != mover_cpu || topo.cpus.size() == 1) ctx.helper_cpus.push_back(cpu);
  std::vector<SmallThread> threads;
  if (settings.on(Knob::balancing)) {
    int slot = 0;
    for (int cpu : topo.cpus) {
      const std::int64_t pause = settings.get(Knob::touch_pause_us);
      for (std::int64_t t = 0; t < settings.get(Knob::touchers); ++t)
        threads.emplace_back([&ctx, cpu, s = slot++, pause] { run_toucher(ctx, cpu, s, pause); });
    }
  } else if (ctx.uffd >= 0) {
    // uffd-wp needs writes to fault on: one unpinned writer.
    threads.emplace_back([&ctx] { run_toucher(ctx, -1, 0, ctx.knob(Knob::touch_pause_us)); });
  }
  if (settings.on(Knob::move_pages)) {
    if (!mover_process) threads.emplace_back([&ctx, mover_cpu] { run_mover(ctx, 0, mover_cpu); });
    threads.emplace_back([&ctx] { run_mbinder(ctx); });
  }
  for (std::int64_t d = 0; d < settings.get(Knob::scan_drivers); ++d)
    threads.emplace_back([&ctx] { run_scan_driver(ctx); });
  if (settings.on(Knob::mprotect)) threads.emplace_back([&ctx] { run_mprotect_churn(ctx); });
  if (settings.on(Knob::split_collapse)) threads.emplace_back([&ctx] { run_split_collapse(ctx); });
  if (settings.on(Knob::integrity)) threads.emplace_back([&ctx, &checker] { run_verifier(ctx, checker); });
  SmallThread protector, handler;
  if (ctx.uffd >= 0) {
    handler = SmallThread([&ctx] { run_uffd_handler(ctx); });
    protector = SmallThread([&ctx] { run_uffd_protector(ctx); });
  }

  // After the threads exist: their stacks are mappings too.
  if (settings.on(Knob::scan_focus)) focus_numa_scanner(ctx.region, ctx.bytes);

  int sig = 0;
  sigwait(&term, &sig);

  // Orderly stop: no new write-protection, then release every writer that
  // may wait on a write-protect fault, then the handler last.
  ctx.stop = true;
  if (mover > 0) {
    ::kill(mover, SIGKILL);
    ::waitpid(mover, nullptr, 0);
  }
  if (protector.joinable()) protector.join();
  // Block by block: the region may be split into several VMAs right now.
  if (ctx.uffd >= 0)
    for (std::size_t off = 0; off < ctx.bytes; off += kHugeSize)
      uffd_writeprotect(ctx.uffd, ctx.region + off, kHugeSize, false);
  for (auto& t : threads) t.join();
  ctx.stop_handler = true;
  if (handler.joinable()) handler.join();

  // One last full pass: losses since the verifier's last look count too.
  if (settings.on(Knob::integrity)) {
    std::vector<IntegrityEvent> events;
    const std::uint64_t before = checker.pages_checked();
    checker.verify_all(events);
    ops.add(Op::pages_checked, checker.pages_checked() - before);
    for (const auto& ev : events) {
      ops.add(Op::integrity_events);
      ops.add(Op::integrity_pages, ev.pages);
      send_event(ctx, ev);
    }
  }
  std::_Exit(0);
}

}  // namespace numasoak::guest
