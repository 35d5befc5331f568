#include "console/scan.h"

#include <algorithm>
#include <chrono>

#include "console/console_line.h"

namespace numasoak::console {

LogScanner::LogScanner(DetectorOptions options, size_t max_line) : assembler_(max_line), detector_(options) {}

void LogScanner::feed(std::string_view bytes) {
  assembler_.feed(bytes, [this](std::string_view l) { line(l); });
}

void LogScanner::finish() {
  assembler_.finish([this](std::string_view l) { line(l); });
  detector_.finish();
}

void LogScanner::line(std::string_view l) {
  const auto uptime = parse_console_line(l).uptime;
  if (uptime) {
    if (last_uptime_ && *uptime > *last_uptime_) {
      // A jump of more than a day is a garbled timestamp, not time passing.
      const double step = std::min(*uptime - *last_uptime_, 86400.0);
      clock_ += std::chrono::duration_cast<Duration>(std::chrono::duration<double>(step));
    }
    last_uptime_ = uptime;
  }
  detector_.feed(l, clock_);
}

std::vector<Failure> scan_bytes(std::string_view bytes, const DetectorOptions& options) {
  LogScanner scanner(options);
  std::vector<Failure> out;
  // Feed in pieces and drain as we go, as a live run would.
  constexpr size_t kChunk = 64 * 1024;
  for (size_t at = 0; at < bytes.size(); at += kChunk) {
    scanner.feed(bytes.substr(at, kChunk));
    for (auto& f : scanner.take_completed()) out.push_back(std::move(f));
  }
  scanner.finish();
  for (auto& f : scanner.take_completed()) out.push_back(std::move(f));
  // Batches are each in line order, but a report can outlive later ones.
  std::stable_sort(out.begin(), out.end(), [](const Failure& a, const Failure& b) { return a.line < b.line; });
  return out;
}

}  // namespace numasoak::console
