// libFuzzer target: the console pipeline (LineAssembler + Detector) over any
// bytes, as a whole log (scan_bytes) and fed in two arbitrary chunks through
// LogScanner. Checks the assembler's promises on the way: lines are bounded
// and carry no control characters or invalid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inert.h"
#include "console/line_assembler.h"
#include "console/scan.h"

using numasoak::fuzz::check_inert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace numasoak::console;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The first byte picks a split point, so chunk boundaries get fuzzed too.
  const size_t split = size == 0 ? 0 : (static_cast<size_t>(data[0]) * size) / 256;
  constexpr size_t kMax = 256;  // small, so cutting long lines is exercised
  LineAssembler lines(kMax);
  const auto sink = [&](std::string_view l) { check_inert(l, kMax + LineAssembler::kCutMarker.size() + 4); };
  lines.feed(bytes.substr(0, split), sink);
  if (lines.buffered() > kMax + LineAssembler::kCutMarker.size() + 4) std::abort();
  lines.feed(bytes.substr(split), sink);
  lines.finish(sink);

  for (const auto& f : scan_bytes(bytes)) {
    check_inert(f.title, 4096);
    check_inert(f.guilty_frame, 4096);
  }
  LogScanner scanner;
  scanner.feed(bytes.substr(0, split));
  scanner.feed(bytes.substr(split));
  scanner.finish();
  (void)scanner.take_completed();
  return 0;
}
