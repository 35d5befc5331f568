// libFuzzer target: the campaign TOML loader. Any text must give a Campaign
// or a numasoak::Error (a located, one-line-per-problem message); any other
// exception, a crash or undefined behaviour is a finding. Kernel references
// are not required, so no file outside the input is needed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "config/campaign.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)numasoak::load_campaign_text(text, "fuzz.toml", "/nonexistent-numasoak-fuzz", false);
  } catch (const numasoak::Error& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
