// numasoak-workload: the guest side of numasoak.
//
// Reads its settings from the kernel command line (nsw.<knob>=<value>, see
// spec/knobs.h), applies the kernel settings, proves the guest can exercise
// the race (or sends config_error and exits 2), then runs worker processes
// for `duration` seconds while it reports to the host over the agent channel:
// `started`, a `heartbeat` per second (vmstat and op deltas),
// `integrity_error` per lost range, `warning`, `finished`. See PROTOCOL.md.
// With nsw.external it runs an alternative stressor instead of the workers
// (workload/external.h) and reports the same heartbeats.
//
// Exit codes: 0 ran clean, 1 integrity errors, 2 configuration error,
// 3 internal error.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "spec/knobs.h"
#include "spec/protocol.h"
#include "workload/agent.h"
#include "workload/checks.h"
#include "workload/colocation.h"
#include "workload/counters.h"
#include "workload/external.h"
#include "workload/json.h"
#include "workload/sys.h"
#include "workload/topology.h"
#include "workload/transitions.h"
#include "workload/vmstat.h"
#include "workload/worker.h"

namespace numasoak::guest {
namespace {

using nsw::Knob;
namespace proto = nsw::protocol;

constexpr int kExitOk = 0, kExitIntegrity = 1, kExitConfig = 2, kExitInternal = 3;
constexpr int kMaxRestarts = 16;
constexpr int kProtocolVersion = nsw::protocol::kVersion;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void console(const std::string& text) {
  const std::string line = "numasoak: " + text + "\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

class Workload {
 public:
  Workload(Agent& agent, nsw::Settings settings, GuestTopology topo)
      : agent_(agent), s_(std::move(settings)), topo_(std::move(topo)) {}

  void send_started(const KernelState& ks) {
    JsonLine settings;
    for (std::size_t i = 0; i < nsw::kKnobCount; ++i)
      settings.str(nsw::kKnobs[i].name, nsw::format_value(nsw::kKnobs[i], s_.values[i]));
    std::string node_mem = "[";
    for (std::size_t i = 0; i < topo_.nodes.size(); ++i)
      node_mem += (i ? "," : "") + std::to_string(topo_.nodes[i].mem_kb / 1024);
    node_mem += "]";
    JsonLine m;
    m.str("type", proto::type::kStarted)
        .num("v", kProtocolVersion)
        .num("uptime_ms", uptime_ms())
        .str("kernel", ks.release)
        .num("nodes", static_cast<std::int64_t>(topo_.memory_nodes().size()))
        .num("cpus", static_cast<std::int64_t>(topo_.cpus.size()))
        .raw("node_cpus", topo_.cpus_json())
        .raw("node_mem_mb", node_mem)
        .str("thp", ks.thp_enabled)
        .str("thp_defrag", ks.thp_defrag)
        .num("numa_balancing", ks.numa_balancing)
        .num("scan_delay_ms", ks.scan_delay_ms)
        .num("scan_period_min_ms", ks.scan_period_min_ms)
        .num("scan_period_max_ms", ks.scan_period_max_ms)
        .num("scan_size_mb", ks.scan_size_mb)
        .num("race_widen_us", ks.race_widen_us)
        .num("race_widen_uffd_us", ks.race_widen_uffd_us)
        .str("profile", s_.profile)
        .raw("settings", settings.object());
    agent_.send(m.line());
    console("workload started (profile " + s_.profile + ", kernel " + ks.release + ", " +
            std::to_string(topo_.memory_nodes().size()) + " nodes, " + std::to_string(topo_.cpus.size()) +
            " CPUs, THP " + ks.thp_enabled + ", numa_balancing " + std::to_string(ks.numa_balancing) +
            ", race_widen_us " + std::to_string(ks.race_widen_us) + ")");
  }

  int run() {
    void* shm = ::mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) return fail("cannot map the shared counters: " + errno_text(errno));
    shared_ = new (shm) SharedCounters();
    ops_ = &shared_->ops;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail("pipe2: " + errno_text(errno));
    pipe_r_ = fds[0];
    pipe_w_ = fds[1];
    ::fcntl(pipe_r_, F_SETFL, O_NONBLOCK);
    ::fcntl(pipe_w_, F_SETFL, O_NONBLOCK);

    start_ms_ = uptime_ms();
    vm_start_ = vm_last_ = read_vmstat();
    ops_last_ = ops_->snapshot();
    last_hb_ms_ = start_ms_;
    race_hits_last_ = read_kernel_counters();
    // The workers, then the transitions worker (index `processes`).
    const int count = static_cast<int>(s_.get(Knob::processes)) + (transitions() ? 1 : 0);
    for (int i = 0; i < count; ++i) {
      const pid_t pid = spawn(i);
      if (pid < 0) return fail("fork: " + errno_text(errno));
      workers_.push_back(pid);
    }

    const std::int64_t duration_ms = s_.get(Knob::duration) * 1000;
    const std::int64_t hb = s_.get(Knob::heartbeat_ms);
    bool broken = false;
    while (duration_ms == 0 || uptime_ms() - start_ms_ < duration_ms) {
      std::int64_t wait = last_hb_ms_ + hb - uptime_ms();
      if (duration_ms > 0) wait = std::min(wait, start_ms_ + duration_ms - uptime_ms());
      pollfd p{pipe_r_, POLLIN, 0};
      if (wait > 0) ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(wait, 60000)));
      drain_events();
      if (uptime_ms() - last_hb_ms_ >= hb) {
        heartbeat();
        check_progress();
        if (!reap_and_restart()) {
          broken = true;
          break;
        }
      }
    }
    stop_workers();
    drain_events();
    heartbeat();
    const std::uint64_t events = ops_->get(Op::integrity_events) + ops_->get(Op::protection_events);
    const std::string_view status = broken               ? proto::status::kError
                                    : events > 0         ? proto::status::kIntegrityErrors
                                                         : proto::status::kOk;
    const int code = broken ? kExitInternal : events > 0 ? kExitIntegrity : kExitOk;
    finished(status, code);
    return code;
  }

  void finished(std::string_view status, int code) {
    JsonLine m;
    m.str("type", proto::type::kFinished)
        .str("status", status)
        .num("exit_code", code)
        .num("uptime_ms", uptime_ms())
        .unum("integrity_events", ops_ ? ops_->get(Op::integrity_events) : 0)
        .unum("integrity_pages", ops_ ? ops_->get(Op::integrity_pages) : 0);
    agent_.send(m.line());
    console("workload finished: " + std::string(status));
  }

 private:
  int fail(const std::string& why) {
    JsonLine m;
    m.str("type", proto::type::kWarning).str("reason", why).num("uptime_ms", uptime_ms());
    agent_.send(m.line());
    console("internal error: " + why);
    finished(proto::status::kError, kExitInternal);
    return kExitInternal;
  }

  pid_t spawn(int index) {
    if (external()) return spawn_external(external_argv(static_cast<int>(s_.get(Knob::external)), static_cast<int>(topo_.cpus.size())));
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_r_);
      if (index >= s_.get(Knob::processes)) run_transitions(index, s_, topo_, *ops_, shared_->matrix, pipe_w_);
      run_worker(index, s_, topo_, *ops_, pipe_w_, &shared_->colo);
    }
    return pid;
  }

  void drain_events() {
    EventRecord r;
    while (::read(pipe_r_, &r, sizeof r) == static_cast<ssize_t>(sizeof r)) {
      if (r.type == EventRecord::kProtection) {
        send_protection_error(r);
        continue;
      }
      JsonLine m;
      m.str("type", proto::type::kIntegrityError)
          .num("worker", r.worker)
          .str("addr", hex(r.addr))
          .unum("pages", r.pages)
          .num("node", r.node)
          .str("kind", r.zero ? "zero" : "corrupt")
          .str("expected", hex(r.expected))
          .str("actual", hex(r.actual))
          .num("uptime_ms", r.uptime_ms);
      agent_.send(m.line());
      console("integrity error: worker " + std::to_string(r.worker) + " lost " + std::to_string(r.pages) +
              " page(s) at " + hex(r.addr) + " on node " + std::to_string(r.node) + " (" +
              (r.zero ? "read zero" : "wrong data") + ") at " + std::to_string(r.uptime_ms / 1000) + "." +
              std::to_string(r.uptime_ms % 1000 / 100) + " s");
    }
  }

  void send_protection_error(const EventRecord& r) {
    static constexpr std::array<std::string_view, 4> kScenario = {"mapped-huge", "pmd-none", "partial", "read-only"};
    const std::string_view how = r.how == EventRecord::kProtRead ? proto::protection::kProtRead : proto::protection::kUffdWp;
    const std::string_view memory = proto::kMemory[std::min<std::size_t>(r.memory, proto::kMemory.size() - 1)];
    const std::string_view scenario = kScenario[std::min<std::size_t>(r.scenario, kScenario.size() - 1)];
    JsonLine m;
    m.str("type", proto::type::kProtectionError)
        .num("worker", r.worker)
        .str("addr", hex(r.addr))
        .str("how", how)
        .str("memory", memory)
        .str("scenario", scenario)
        .num("node", r.node)
        .num("uptime_ms", r.uptime_ms);
    agent_.send(m.line());
    console("protection error: a write to a " + std::string(how == proto::protection::kUffdWp ? "uffd-write-protected" : "PROT_READ") +
            " " + std::string(memory) + " page at " + hex(r.addr) + " (" + std::string(scenario) +
            ") went through at " + std::to_string(r.uptime_ms / 1000) + "." + std::to_string(r.uptime_ms % 1000 / 100) + " s");
  }

  // The matrix deltas since the last heartbeat (non-zero cells only), with
  // the NUMA row: transitions done in an interval in which NUMA balancing
  // updated page table entries.
  void send_matrix(const VmstatSample& vm) {
    MatrixCounters& mx = shared_->matrix;
    const bool scanned = vm.get(Vm::numa_pte_updates) > vm_last_.get(Vm::numa_pte_updates);
    for (std::size_t t = 0; t < proto::kTransitions.size(); ++t) {
      const std::size_t anon = 0;  // the scanner walks only the anonymous region (matrix_impossible)
      const std::uint64_t done = mx.transitions_done[t * proto::kMemory.size() + anon].load(std::memory_order_relaxed);
      if (scanned) mx.add_cell_n(0, t, anon, done - std::min(done, transitions_last_[t]));
      transitions_last_[t] = done;
    }
    JsonLine c;
    bool any = false;
    for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
      for (std::size_t t = 0; t < proto::kTransitions.size(); ++t)
        for (std::size_t k = 0; k < proto::kMemory.size(); ++k) {
          const std::size_t i = proto::matrix_cell(w, t, k);
          const std::uint64_t v = mx.cell[i].load(std::memory_order_relaxed);
          if (v == matrix_last_[i]) continue;
          c.unum(std::string(proto::kWalkers[w]) + "." + std::string(proto::kTransitions[t]) + "." +
                     std::string(proto::kMemory[k]),
                 v - std::min(v, matrix_last_[i]));
          matrix_last_[i] = v;
          any = true;
        }
    if (!any) return;
    JsonLine m;
    m.str("type", proto::type::kMatrix).unum("seq", seq_).num("uptime_ms", uptime_ms()).raw("cells", c.object());
    agent_.send(m.line());
  }

  // The co-location counts of the interval (workload/colocation.h), added
  // to the ops before they are sent.
  void count_colocation(const VmstatSample& vm) {
    if (external()) return;
    const std::size_t nworkers = std::min<std::size_t>(
        {static_cast<std::size_t>(s_.get(Knob::processes)), workers_.size(), kColoWorkers});
    const std::size_t nblocks = std::min<std::size_t>(nsw::region_bytes(s_) / kHugeSize, kColoBlocks);
    colo_walks_last_.resize(nworkers * nblocks);
    colo_migrations_last_.resize(nworkers * nblocks);
    scan_seq_last_.resize(nworkers, {-1, 0});
    std::vector<PmdInterval> pmds(nworkers * nblocks);
    for (std::size_t w = 0; w < nworkers; ++w) {
      // NUMA scan passes over this worker's mm since the last heartbeat.
      std::uint64_t passes = 0;
      const auto seq = read_numa_scan_seq(workers_[w]);
      if (seq) {
        auto& [pid, last] = scan_seq_last_[w];
        if (pid == workers_[w] && *seq >= last) passes = *seq - last;
        pid = workers_[w];
        last = *seq;
      } else if (!scan_seq_warned_ && s_.on(Knob::numa_balancing)) {
        scan_seq_warned_ = true;
        console("mm->numa_scan_seq not readable in /proc/" + std::to_string(workers_[w]) +
                "/sched (CONFIG_SCHED_DEBUG off?): co-location counts miss the NUMA scan walks");
      }
      for (std::size_t b = 0; b < nblocks; ++b) {
        const std::size_t i = w * nblocks + b, slot = ColocationCounters::slot(static_cast<int>(w), b);
        const std::uint64_t walks = shared_->colo.walks[slot].load(std::memory_order_relaxed);
        const std::uint64_t migr = shared_->colo.migrations[slot].load(std::memory_order_relaxed);
        pmds[i].own_walks = walks - std::min(walks, colo_walks_last_[i]);
        pmds[i].migrations = migr - std::min(migr, colo_migrations_last_[i]);
        pmds[i].scan_passes = passes;
        colo_walks_last_[i] = walks;
        colo_migrations_last_[i] = migr;
      }
    }
    const auto k = static_cast<std::size_t>(Vm::thp_migration_success);
    const std::uint64_t thp = vm.present[k] ? vm.value[k] - std::min(vm.value[k], vm_last_.value[k]) : 0;
    const ColocationDelta d = colocate(pmds, thp);
    ops_->add(Op::colo_walks, d.walks);
    ops_->add(Op::colo_scan_walks, d.scan_walks);
    ops_->add(Op::colo_migrations, d.migrations);
    ops_->add(Op::colo_hint_migrations, d.hint_migrations);
    ops_->add(Op::colo_mpairs, d.mpairs);
    ops_->add(Op::colo_hint_mpairs, d.hint_mpairs);
  }

  void heartbeat() {
    const std::int64_t now = uptime_ms();
    const VmstatSample vm = read_vmstat();
    count_colocation(vm);
    const auto ops = ops_->snapshot();
    JsonLine v, o;
    for (std::size_t i = 0; i < kVmstatKeys.size(); ++i)
      if (vm.present[i]) v.unum(kVmstatKeys[i], vm.value[i] - std::min(vm.value[i], vm_last_.value[i]));
    for (std::size_t i = 0; i < kOpCount; ++i) o.unum(kOpNames[i], ops[i] - std::min(ops[i], ops_last_[i]));
    const auto hits = read_kernel_counters();
    JsonLine m;
    m.str("type", proto::type::kHeartbeat)
        .unum("seq", ++seq_)
        .num("uptime_ms", now)
        .num("dt_ms", now - last_hb_ms_)
        .raw("vmstat", v.object())
        .raw("ops", o.object());
    {
      JsonLine k;
      bool any = false;
      for (std::size_t i = 0; i < hits.size(); ++i) {
        if (hits[i] < 0 || race_hits_last_[i] < 0) continue;
        k.num(nsw::protocol::kKernelCounters[i], std::max<std::int64_t>(0, hits[i] - race_hits_last_[i]));
        any = true;
      }
      if (any) m.raw("kernel", k.object());
    }
    agent_.send(m.line());
    if (transitions()) send_matrix(vm);
    race_hits_last_ = hits;
    vm_last_ = vm;
    ops_last_ = ops;
    last_hb_ms_ = now;
  }

  bool external() const { return s_.get(Knob::external) != 0; }
  bool transitions() const { return !external() && s_.on(Knob::transitions); }

  using KernelCounters = std::array<std::int64_t, nsw::protocol::kKernelCounters.size()>;

  // The amplifier's counters (protocol.h kKernelCounters); -1 where absent.
  static KernelCounters read_kernel_counters() {
    auto read = [](const char* path) -> std::int64_t {
      auto t = read_text(path, 64);
      if (!t || trim(*t).empty()) return -1;
      return std::strtoll(std::string(trim(*t)).c_str(), nullptr, 10);
    };
    KernelCounters c{};
    // The widen module counts a delay in hits, then in hits_irqs_off: read
    // the second first, so a delay taken between the reads never makes
    // hits_irqs_off exceed hits.
    c[1] = read("/sys/module/numasoak_widen/parameters/hits_irqs_off");
    c[2] = read("/sys/module/numasoak_widen/parameters/landed");
    c[0] = read("/sys/module/numasoak/parameters/race_widen_hits");
    if (c[0] < 0) c[0] = read("/sys/module/numasoak_widen/parameters/hits");
    return c;
  }

  // Warns once when the race's ingredients are missing after warn_after_s.
  void check_progress() {
    const std::int64_t after = s_.get(Knob::warn_after_s);
    if (warned_ || after == 0 || uptime_ms() - start_ms_ < after * 1000) return;
    warned_ = true;
    const std::uint64_t thp_mig = vm_last_.get(Vm::thp_migration_success) - vm_start_.get(Vm::thp_migration_success);
    const std::uint64_t huge_upd = vm_last_.get(Vm::numa_huge_pte_updates) - vm_start_.get(Vm::numa_huge_pte_updates);
    std::string why;
    if (thp_mig == 0 && huge_upd == 0)
      why = "no THP migration and no huge-PMD NUMA update after " + std::to_string(after) +
            " s: the race is not being exercised";
    else if (thp_mig == 0 && (s_.on(Knob::move_pages) || s_.on(Knob::balancing)))
      why = "no THP migration after " + std::to_string(after) + " s";
    else if (huge_upd == 0 && s_.on(Knob::balancing) && s_.get(Knob::numa_balancing) != 0)
      why = "no huge-PMD NUMA update (numa_huge_pte_updates) after " + std::to_string(after) + " s";
    if (why.empty()) return;
    JsonLine m;
    m.str("type", proto::type::kWarning).str("reason", why).num("uptime_ms", uptime_ms());
    agent_.send(m.line());
    console("warning: " + why);
  }

  // Restarts workers that died; false when too many did.
  bool reap_and_restart() {
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      int st = 0;
      const pid_t pid = ::waitpid(workers_[i], &st, WNOHANG);
      if (pid != workers_[i]) continue;
      if (external() && WIFEXITED(st) && WEXITSTATUS(st) != 127) {
        // An external program that ends is run again (at most once per
        // heartbeat: this runs once per heartbeat); only a failed exec is fatal.
        ::kill(-pid, SIGKILL);  // what it left behind in its process group
        workers_[i] = spawn(static_cast<int>(i));
        continue;
      }
      const std::string how = WIFSIGNALED(st) ? "was killed by signal " + std::to_string(WTERMSIG(st))
                                              : "exited with status " + std::to_string(WEXITSTATUS(st));
      const bool give_up = ++restarts_ > kMaxRestarts || (external() && WIFEXITED(st) && WEXITSTATUS(st) == 127);
      const std::string why = "worker " + std::to_string(i) + " " + how + (give_up ? "; too many, giving up" : "; restarted");
      JsonLine m;
      m.str("type", proto::type::kWarning).str("reason", why).num("uptime_ms", uptime_ms());
      agent_.send(m.line());
      console("warning: " + why);
      if (give_up) return false;
      ops_->add(Op::worker_restarts);
      workers_[i] = spawn(static_cast<int>(i));
    }
    return true;
  }

  void stop_workers() {
    // An external program runs in its own process group: stop all of it.
    for (pid_t pid : workers_)
      if (pid > 0) ::kill(external() ? -pid : pid, SIGTERM);
    const std::int64_t deadline = uptime_ms() + 30000;  // the last verification pass, under TCG
    std::size_t left = workers_.size();
    while (left > 0 && uptime_ms() < deadline) {
      for (auto& pid : workers_) {
        if (pid <= 0) continue;
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) {
          pid = -1;
          --left;
        }
      }
      drain_events();
      if (left > 0) sleep_us(20000);
    }
    for (auto& pid : workers_) {
      if (pid <= 0) continue;
      ::kill(external() ? -pid : pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }

  Agent& agent_;
  nsw::Settings s_;
  GuestTopology topo_;
  // Everything the workers count, in one MAP_SHARED mapping made before
  // they fork.
  struct SharedCounters {
    OpCounters ops;
    MatrixCounters matrix;
    ColocationCounters colo;
  };
  SharedCounters* shared_ = nullptr;
  OpCounters* ops_ = nullptr;
  std::array<std::uint64_t, proto::kMatrixCells> matrix_last_{};
  std::array<std::uint64_t, proto::kTransitions.size()> transitions_last_{};
  int pipe_r_ = -1, pipe_w_ = -1;
  std::vector<pid_t> workers_;
  VmstatSample vm_start_, vm_last_;
  std::array<std::uint64_t, kOpCount> ops_last_{};
  std::vector<std::uint64_t> colo_walks_last_, colo_migrations_last_;
  std::vector<std::pair<pid_t, std::uint64_t>> scan_seq_last_;  // per worker: pid, mm->numa_scan_seq
  bool scan_seq_warned_ = false;
  std::int64_t start_ms_ = 0, last_hb_ms_ = 0;
  std::uint64_t seq_ = 0;
  KernelCounters race_hits_last_{-1, -1, -1};
  int restarts_ = 0;
  bool warned_ = false;
};

int config_error(Agent& agent, const std::string& reason) {
  JsonLine m;
  m.str("type", proto::type::kConfigError).str("reason", reason).num("uptime_ms", uptime_ms());
  agent.send(m.line());
  JsonLine f;
  f.str("type", proto::type::kFinished).str("status", proto::status::kConfigError).num("exit_code", kExitConfig).num("uptime_ms", uptime_ms());
  agent.send(f.line());
  console("config error: " + reason);
  return kExitConfig;
}

void usage() {
  std::fprintf(stderr,
               "usage: numasoak-workload [--agent PATH|-] [--cmdline TEXT] [--cmdline-file PATH] [--knobs]\n"
               "Settings come from the kernel command line as nsw.<knob>=<value>; --knobs lists them.\n");
}

void list_knobs() {
  for (const auto& p : nsw::kProfiles)
    std::printf("profile %-16s %s\n", std::string(p.name).c_str(), std::string(p.help).c_str());
  for (const auto& k : nsw::kKnobs)
    std::printf("nsw.%-24s default %-8s %s\n", std::string(k.name).c_str(), nsw::format_value(k, k.def).c_str(),
                std::string(k.help).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string agent_path = "/dev/ttyS1";
  std::string cmdline_path = "/proc/cmdline";
  std::string cmdline_text;
  bool have_text = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--agent" && i + 1 < argc) {
      agent_path = argv[++i];
    } else if (a == "--cmdline" && i + 1 < argc) {
      cmdline_text = argv[++i];
      have_text = true;
    } else if (a == "--cmdline-file" && i + 1 < argc) {
      cmdline_path = argv[++i];
    } else if (a == "--knobs") {
      list_knobs();
      return 0;
    } else {
      usage();
      return a == "--help" || a == "-h" ? 0 : kExitConfig;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);

  Agent agent;
  if (auto err = agent.open(agent_path); !err.empty()) {
    console("cannot open the agent channel " + err);
    return kExitInternal;
  }
  if (!have_text) {
    auto text = read_text(cmdline_path, 1 << 16);
    if (!text) return config_error(agent, "cannot read " + cmdline_path);
    cmdline_text = *text;
  }
  const nsw::ParseResult parsed = nsw::settings_from_cmdline(cmdline_text);
  if (!parsed.ok()) {
    std::string reason;
    for (const auto& e : parsed.errors) reason += (reason.empty() ? "" : "; ") + e;
    return config_error(agent, reason);
  }
  KernelState ks;
  if (auto why = apply_kernel_settings(parsed.settings, cmdline_text, ks); !why.empty())
    return config_error(agent, why);
  GuestTopology topo = read_topology();
  if (auto why = check_guest(parsed.settings, topo); !why.empty()) return config_error(agent, why);

  Workload w(agent, parsed.settings, std::move(topo));
  w.send_started(ks);
  return w.run();
}

}  // namespace numasoak::guest

int main(int argc, char** argv) { return numasoak::guest::main(argc, argv); }
