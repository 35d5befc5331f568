// Thin wrappers over the Linux interfaces the workload needs. No libnuma:
// move_pages, mbind, migrate_pages and get_mempolicy go through syscall(),
// so the binary links fully static. Plus small /proc and /sys helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::guest {

inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kHugeSize = std::size_t{2} << 20;
inline constexpr std::size_t kPagesPerHuge = kHugeSize / kPageSize;

// Node masks are one unsigned long: the guest has at most 64 nodes.
inline constexpr unsigned long kMaxNode = 64;

long sys_move_pages(int pid, unsigned long count, void** pages, const int* nodes, int* status, int flags);
long sys_mbind(void* addr, unsigned long len, int mode, const unsigned long* nodemask, unsigned long maxnode,
               unsigned flags);
long sys_migrate_pages(int pid, unsigned long maxnode, const unsigned long* from, const unsigned long* to);
long sys_set_mempolicy(int mode, const unsigned long* nodemask, unsigned long maxnode);
long sys_get_mempolicy(int* mode, unsigned long* nodemask, unsigned long maxnode, const void* addr,
                       unsigned long flags);

// The node backing `addr` (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR), -1 on error.
int node_of(const void* addr);

// Pins the calling thread to one CPU; false on error.
bool pin_to_cpu(int cpu);

// Milliseconds since boot (CLOCK_BOOTTIME): the guest's uptime.
std::int64_t uptime_ms();
void sleep_us(std::int64_t us);

// Reads a small file (at most `max` bytes); nullopt when it cannot.
std::optional<std::string> read_text(const std::string& path, std::size_t max = std::size_t{1} << 20);
// Writes `value` to a sysfs/procfs file; on failure returns the reason
// ("path: strerror"), on success "".
std::string write_text(const std::string& path, std::string_view value);
bool exists(const std::string& path);

std::string_view trim(std::string_view s);
// "0-3,5,7-8" -> {0,1,2,3,5,7,8}; bad parts are skipped.
std::vector<int> parse_cpulist(std::string_view text);
// The bracketed choice of a sysfs selector: "always [madvise] never" -> "madvise".
std::string selected_choice(std::string_view text);

std::string errno_text(int err);

}  // namespace numasoak::guest
