#include "workload/colocation.h"

#include <charconv>
#include <cmath>
#include <string>

#include "workload/sys.h"

namespace numasoak::guest {

ColocationDelta colocate(const std::vector<PmdInterval>& pmds, std::uint64_t thp_migration_success) {
  ColocationDelta d;
  for (const auto& p : pmds) {
    d.walks += p.own_walks + p.scan_passes;
    d.scan_walks += p.scan_passes;
    d.migrations += p.migrations;
    d.mpairs += 1000 * (p.own_walks + p.scan_passes) * p.migrations;
  }
  d.hint_migrations = thp_migration_success > d.migrations ? thp_migration_success - d.migrations : 0;
  if (!pmds.empty()) {
    // sum_p walks_p * hint/N = walks * hint / N
    const double share = static_cast<double>(d.hint_migrations) / static_cast<double>(pmds.size());
    d.hint_mpairs = static_cast<std::uint64_t>(std::llround(1000.0 * static_cast<double>(d.walks) * share));
  }
  return d;
}

std::optional<std::uint64_t> parse_numa_scan_seq(std::string_view text) {
  constexpr std::string_view kKey = "mm->numa_scan_seq";
  const auto at = text.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(at + kKey.size());
  line = line.substr(0, line.find('\n'));
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view num = trim(line.substr(colon + 1));
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || ptr != num.data() + num.size() || v < 0) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::optional<std::uint64_t> read_numa_scan_seq(int pid) {
  const auto text = read_text("/proc/" + std::to_string(pid) + "/sched", 1 << 16);
  return text ? parse_numa_scan_seq(*text) : std::nullopt;
}

}  // namespace numasoak::guest
