#include "workload/checks.h"

#include <cerrno>
#include <cstdlib>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "workload/sys.h"
#include "workload/vmstat.h"
#include "workload/worker.h"

namespace numasoak::guest {

using nsw::Knob;

namespace {

constexpr const char* kThp = "/sys/kernel/mm/transparent_hugepage/";
constexpr const char* kSchedDebug = "/sys/kernel/debug/sched/numa_balancing/";
constexpr const char* kLegacySysctl = "/proc/sys/kernel/numa_balancing_";

std::int64_t read_int(const std::string& path) {
  auto t = read_text(path, 64);
  if (!t || trim(*t).empty()) return -1;
  return std::strtoll(std::string(trim(*t)).c_str(), nullptr, 10);
}

// The file of a NUMA-balancing scan knob: debugfs (5.13+) or the old sysctl.
std::string scan_knob_path(const std::string& name) {
  if (exists(kSchedDebug + name)) return kSchedDebug + name;
  if (exists(kLegacySysctl + name)) return kLegacySysctl + name;
  return "";
}

}  // namespace

std::string cmdline_value(std::string_view cmdline, std::string_view name) {
  std::string found;
  std::size_t i = 0;
  while (i < cmdline.size()) {
    while (i < cmdline.size() && (cmdline[i] == ' ' || cmdline[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < cmdline.size() && cmdline[i] != ' ' && cmdline[i] != '\n') ++i;
    const std::string_view word = cmdline.substr(start, i - start);
    if (word.size() > name.size() && word.substr(0, name.size()) == name && word[name.size()] == '=')
      found = std::string(word.substr(name.size() + 1));
  }
  return found;
}

std::string apply_kernel_settings(const nsw::Settings& s, std::string_view cmdline, KernelState& st) {
  utsname u{};
  if (::uname(&u) == 0) st.release = u.release;
  if (auto v = cmdline_value(cmdline, "numasoak.race_widen_us"); !v.empty()) st.race_widen_us = std::atoll(v.c_str());
  if (auto v = cmdline_value(cmdline, "numasoak.race_widen_uffd_us"); !v.empty())
    st.race_widen_uffd_us = std::atoll(v.c_str());
  // The outside amplifier (numasoak_widen.ko, loaded by /init) takes the same
  // delays under its own names.
  if (auto v = cmdline_value(cmdline, "numasoak_widen.numa_us"); !v.empty() && st.race_widen_us < 0)
    st.race_widen_us = std::atoll(v.c_str());
  if (auto v = cmdline_value(cmdline, "numasoak_widen.uffd_us"); !v.empty() && st.race_widen_uffd_us < 0)
    st.race_widen_uffd_us = std::atoll(v.c_str());

  // THP.
  const std::string enabled = std::string(kThp) + "enabled";
  if (!exists(enabled)) return "THP is not available: no " + enabled + " (CONFIG_TRANSPARENT_HUGEPAGE off)";
  const std::string boot_thp = cmdline_value(cmdline, "transparent_hugepage");
  if (boot_thp == "never") return "THP is disabled by transparent_hugepage=never on the kernel command line";
  if (s.choice(Knob::thp) != "keep" && boot_thp.empty()) {
    if (auto err = write_text(enabled, s.choice(Knob::thp)); !err.empty()) return "cannot set THP mode: " + err;
  }
  if (s.choice(Knob::thp_defrag) != "keep") {
    if (auto err = write_text(std::string(kThp) + "defrag", s.choice(Knob::thp_defrag)); !err.empty())
      return "cannot set THP defrag: " + err;
  }
  st.thp_enabled = selected_choice(read_text(enabled, 256).value_or(""));
  st.thp_defrag = selected_choice(read_text(std::string(kThp) + "defrag", 256).value_or(""));
  if (st.thp_enabled == "never") return "THP is off (transparent_hugepage/enabled is 'never')";
  // shmem THPs for the transitions worker (shmem/memfd MAP_SHARED with
  // MADV_HUGEPAGE: 'advise' is enough).
  if (s.on(Knob::transitions) && s.choice(Knob::shmem_thp) != "keep") {
    const std::string shmem = std::string(kThp) + "shmem_enabled";
    if (!exists(shmem)) return "shmem THPs are not available: no " + shmem;
    if (auto err = write_text(shmem, s.choice(Knob::shmem_thp)); !err.empty())
      return "cannot set shmem THP mode: " + err;
  }

  // NUMA balancing.
  const std::string nb = "/proc/sys/kernel/numa_balancing";
  if (s.get(Knob::numa_balancing) > 0 && !exists(nb))
    return "NUMA balancing is not available: no " + nb + " (CONFIG_NUMA_BALANCING off)";
  // scan_period_max first: the kernel does not check min <= max itself.
  static constexpr Knob kScan[] = {Knob::scan_delay_ms, Knob::scan_period_max_ms, Knob::scan_period_min_ms,
                                   Knob::scan_size_mb};
  for (Knob k : kScan) {
    const std::int64_t v = s.get(k);
    if (v == -1) continue;
    if (k == Knob::scan_size_mb && v == 0) return "scan_size_mb=0 would divide by zero in the kernel";
    const std::string name(nsw::def(k).name);
    const std::string path = scan_knob_path(name);
    if (path.empty())
      return "cannot set NUMA balancing " + name + ": no " + kSchedDebug + name +
             " (debugfs not mounted, or CONFIG_SCHED_DEBUG/CONFIG_NUMA_BALANCING off)";
    if (auto err = write_text(path, std::to_string(v)); !err.empty()) return "cannot set " + name + ": " + err;
  }
  if (s.get(Knob::numa_balancing) >= 0 && exists(nb)) {
    if (auto err = write_text(nb, std::to_string(s.get(Knob::numa_balancing))); !err.empty())
      return "cannot set numa_balancing: " + err;
  }
  st.numa_balancing = read_int(nb);
  if (auto p = scan_knob_path("scan_delay_ms"); !p.empty()) st.scan_delay_ms = read_int(p);
  if (auto p = scan_knob_path("scan_period_min_ms"); !p.empty()) st.scan_period_min_ms = read_int(p);
  if (auto p = scan_knob_path("scan_period_max_ms"); !p.empty()) st.scan_period_max_ms = read_int(p);
  if (auto p = scan_knob_path("scan_size_mb"); !p.empty()) st.scan_size_mb = read_int(p);
  return "";
}

namespace {

// Allocates one THP, moves it to another node and checks that it moved as a
// THP (thp_migration_success), not split into base pages.
std::string probe_thp_migration(const GuestTopology& topo) {
  const auto nodes = topo.memory_nodes();
  const std::size_t span = 2 * kHugeSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return "cannot map 4 MiB for the THP probe: " + errno_text(errno);
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  auto* block = reinterpret_cast<std::byte*>((start + kHugeSize - 1) & ~(std::uintptr_t{kHugeSize} - 1));
  ::madvise(block, kHugeSize, MADV_HUGEPAGE);

  std::string why;
  const VmstatSample v0 = read_vmstat();
  for (std::size_t off = 0; off < kHugeSize; off += kPageSize) block[off] = std::byte{1};
  const VmstatSample v1 = read_vmstat();
  if (!v1.present[static_cast<std::size_t>(Vm::thp_fault_alloc)] ||
      !v1.present[static_cast<std::size_t>(Vm::thp_migration_success)]) {
    why = "/proc/vmstat has no thp_fault_alloc/thp_migration_success (CONFIG_VM_EVENT_COUNTERS off?)";
  } else if (v1.get(Vm::thp_fault_alloc) == v0.get(Vm::thp_fault_alloc)) {
    why = "no THP could be allocated for a 2 MiB-aligned MADV_HUGEPAGE region (thp_fault_alloc did not move)";
  } else {
    const int from = node_of(block);
    const int to = from == nodes[0] ? nodes[1] : nodes[0];
    void* page = block;
    int status = -1;
    const long rc = sys_move_pages(0, 1, &page, &to, &status, MPOL_MF_MOVE);
    const VmstatSample v2 = read_vmstat();
    if (rc < 0) {
      why = "move_pages failed: " + errno_text(errno) + (errno == ENOSYS ? " (CONFIG_MIGRATION off)" : "");
    } else if (status != to) {
      why = "move_pages could not migrate a THP from node " + std::to_string(from) + " to node " +
            std::to_string(to) + " (status " + std::to_string(status) + ")";
    } else if (v2.get(Vm::thp_migration_success) == v1.get(Vm::thp_migration_success)) {
      why = v2.get(Vm::thp_migration_split) != v1.get(Vm::thp_migration_split)
                ? "THPs are split when migrated: no THP migration (CONFIG_ARCH_ENABLE_THP_MIGRATION off?)"
                : "a THP moved to another node without counting a THP migration (thp_migration_success stayed)";
    }
  }
  ::munmap(raw, span);
  return why;
}

}  // namespace

std::string check_guest(const nsw::Settings& s, const GuestTopology& topo) {
  const auto nodes = topo.memory_nodes();
  const auto need = static_cast<std::size_t>(s.get(Knob::min_nodes));
  if (nodes.size() < need)
    return "the guest has " + std::to_string(nodes.size()) + " NUMA node" + (nodes.size() == 1 ? "" : "s") +
           " with memory, the workload needs at least " + std::to_string(need) +
           " (boot QEMU with -numa node,... per node)";
  if (topo.cpus.empty()) return "no online CPUs found in /sys/devices/system/cpu/online";
  if (nodes.size() >= 2) {
    if (auto why = probe_thp_migration(topo); !why.empty()) return why;
  }
  if (s.on(Knob::uffd_wp)) {
    const std::size_t span = 2 * kHugeSize;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return "cannot map memory for the userfaultfd probe: " + errno_text(errno);
    std::string why;
    const int fd = uffd_open_wp(raw, span, &why);
    if (fd >= 0) ::close(fd);
    ::munmap(raw, span);
    if (fd < 0) return why;
  }
  return "";
}

}  // namespace numasoak::guest
