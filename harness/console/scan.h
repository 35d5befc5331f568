// LogScanner: LineAssembler + Detector over a byte stream that has no host
// clock of its own: a saved console log, a fuzzer's input.
//
// Reports in a live run complete by host time. A saved log has none, so the
// scanner replays time from the printk timestamps: the clock advances by the
// difference between consecutive timestamps (a reboot, or a CPU whose clock
// is not synced yet, restarting at 0 does not move it back). Without
// timestamps the clock stands still and reports complete by line count, by
// the next marker from the same printer, or at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "console/detector.h"
#include "console/line_assembler.h"

namespace numasoak::console {

/// LineAssembler + Detector over a saved log or a fuzzer's input, its clock replayed from printk timestamps.
class LogScanner {
 public:
  explicit LogScanner(DetectorOptions options = {}, size_t max_line = LineAssembler::kDefaultMaxLine);

  // Raw bytes, any chunking.
  void feed(std::string_view bytes);
  // End of the log: the partial last line, then every open report.
  void finish();

  // Completed failures since the last call, in order of their marker lines.
  std::vector<Failure> take_completed() { return detector_.take_completed(); }

  const LineAssembler& assembler() const { return assembler_; }
  const Detector& detector() const { return detector_; }

 private:
  void line(std::string_view l);

  LineAssembler assembler_;
  Detector detector_;
  Duration clock_{0};
  std::optional<double> last_uptime_;
};

// Every failure in `bytes`, scanned as a whole log, in order of marker lines. The single entry point for
// fuzzing the line parser and detector together.
std::vector<Failure> scan_bytes(std::string_view bytes, const DetectorOptions& options = {});

}  // namespace numasoak::console
