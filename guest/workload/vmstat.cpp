#include "workload/vmstat.h"

#include <charconv>

#include "workload/sys.h"

namespace numasoak::guest {

VmstatSample parse_vmstat(std::string_view text) {
  VmstatSample s;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, sp);
    for (std::size_t i = 0; i < kVmstatKeys.size(); ++i) {
      if (kVmstatKeys[i] != name) continue;
      std::uint64_t v = 0;
      const std::string_view num = trim(line.substr(sp + 1));
      const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec == std::errc() && ptr == num.data() + num.size()) {
        s.value[i] = v;
        s.present[i] = true;
      }
      break;
    }
  }
  return s;
}

VmstatSample read_vmstat() {
  auto text = read_text("/proc/vmstat", 1 << 16);
  return text ? parse_vmstat(*text) : VmstatSample{};
}

}  // namespace numasoak::guest
