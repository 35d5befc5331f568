// libFuzzer target: the agent-message parser and the telemetry it feeds.
// Input is split into lines as the agent channel would be; every line goes
// through AgentParser::parse (which must never throw) and every message into
// Telemetry. Strings that come out must be bounded and free of controls.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "inert.h"
#include "telemetry/parser.h"
#include "telemetry/telemetry.h"

namespace {

void check_text(std::string_view s) { numasoak::fuzz::check_inert(s, numasoak::telemetry::AgentParser::kMaxText); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace numasoak::telemetry;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  AgentParser parser;
  Telemetry telemetry;  // its own parser: the path a run takes
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    (void)telemetry.feed(line);
    auto m = parser.parse(line);
    if (!m) continue;
    if (const auto* s = std::get_if<Started>(&*m)) {
      for (const auto* t : {&s->kernel, &s->thp, &s->profile}) check_text(*t);
      for (const auto& [k, v] : s->settings) {
        check_text(k);
        check_text(v);
      }
    }
    if (const auto* c = std::get_if<ConfigError>(&*m)) check_text(c->reason);
    if (const auto* w = std::get_if<Warning>(&*m)) check_text(w->reason);
    if (const auto* f = std::get_if<Finished>(&*m)) check_text(f->status);
  }
  (void)telemetry.summary();
  return 0;
}
