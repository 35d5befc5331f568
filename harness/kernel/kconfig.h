// Kconfig fragments and the check that olddefconfig kept what they ask for.
//
// merge_config.sh + olddefconfig silently drop an option whose dependencies
// are off (CONFIG_NUMA_BALANCING=y without CONFIG_NUMA): a guest kernel
// without it would run the whole campaign and never hit the race. So every
// request of every fragment is checked against the final .config.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::kernel {

/// One line of a fragment: "CONFIG_X=value" or "# CONFIG_X is not set" (value "n").
struct KconfigRequest {
  std::string option;    // "CONFIG_NUMA"
  std::string value;     // "y", "m", "64", "\"text\"", or "n" for "is not set"
  std::string fragment;  // file name, for messages
  int line = 0;
};

std::vector<KconfigRequest> parse_fragment(std::string_view text, const std::string& fragment_name);

// A .config as option -> value ("n" for "# CONFIG_X is not set").
std::map<std::string, std::string> parse_config(std::string_view text);

// Requests the final .config does not honour, judged like merge_config.sh:
// when several fragments set an option the last one wins; "n" is honoured
// by "is not set" or by the option being absent (an invisible symbol is off).
std::vector<KconfigRequest> unmet_requests(const std::vector<KconfigRequest>& requests,
                                           const std::map<std::string, std::string>& final_config);

// One line: "fragment numasoak-guest.config asks for CONFIG_NUMA_BALANCING=y
// but olddefconfig dropped it (missing dependency?)", plus "; and ..." for
// the others.
std::string describe_unmet(const std::vector<KconfigRequest>& unmet, const std::map<std::string, std::string>& final_config);

}  // namespace numasoak::kernel
