#include "kernel/kconfig.h"

#include <fmt/format.h>
#include <regex>

namespace numasoak::kernel {

namespace {

template <typename F>
void for_each_line(std::string_view text, F f) {
  size_t start = 0;
  int n = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    f(line, ++n);
    start = nl + 1;
  }
}

bool parse_line(std::string_view line, std::string& option, std::string& value) {
  static const std::regex set(R"(^(CONFIG_[A-Za-z0-9_]+)=(.*)$)");
  static const std::regex unset(R"(^# (CONFIG_[A-Za-z0-9_]+) is not set$)");
  const std::string l(line);
  std::smatch m;
  if (std::regex_match(l, m, set)) {
    option = m[1];
    value = m[2];
    return true;
  }
  if (std::regex_match(l, m, unset)) {
    option = m[1];
    value = "n";
    return true;
  }
  return false;
}

}  // namespace

std::vector<KconfigRequest> parse_fragment(std::string_view text, const std::string& fragment_name) {
  std::vector<KconfigRequest> out;
  for_each_line(text, [&](std::string_view line, int n) {
    std::string option, value;
    if (parse_line(line, option, value)) out.push_back({option, value, fragment_name, n});
  });
  return out;
}

std::map<std::string, std::string> parse_config(std::string_view text) {
  std::map<std::string, std::string> out;
  for_each_line(text, [&](std::string_view line, int) {
    std::string option, value;
    if (parse_line(line, option, value)) out[option] = value;
  });
  return out;
}

std::vector<KconfigRequest> unmet_requests(const std::vector<KconfigRequest>& requests,
                                           const std::map<std::string, std::string>& final_config) {
  std::map<std::string, size_t> last;  // option -> index of the request that wins
  for (size_t i = 0; i < requests.size(); ++i) last[requests[i].option] = i;
  std::vector<KconfigRequest> out;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (last[r.option] != i) continue;
    auto it = final_config.find(r.option);
    const bool ok = r.value == "n" ? (it == final_config.end() || it->second == "n")
                                   : (it != final_config.end() && it->second == r.value);
    if (!ok) out.push_back(r);
  }
  return out;
}

std::string describe_unmet(const std::vector<KconfigRequest>& unmet, const std::map<std::string, std::string>& final_config) {
  std::string out;
  for (const auto& r : unmet) {
    auto it = final_config.find(r.option);
    const std::string asked = r.value == "n" ? "# " + r.option + " is not set" : r.option + "=" + r.value;
    std::string got;
    if (it == final_config.end() || it->second == "n") {
      got = "olddefconfig dropped it (missing dependency?)";
    } else {
      got = fmt::format("olddefconfig set {}={} (a dependency or select overrides it)", r.option, it->second);
    }
    out += out.empty() ? "" : "; and ";
    out += fmt::format("fragment {} asks for {} but {}", r.fragment, asked, got);
  }
  return out;
}

}  // namespace numasoak::kernel
