// Telemetry: accumulates one run's agent messages into totals, per-second
// rates and a summary the run result stores. Feed it lines as they arrive
// (feed) or messages already parsed (add); ask for summary() at any time.
// Pure: no I/O, no clocks; all times are the guest's uptime.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/messages.h"
#include "telemetry/parser.h"

namespace numasoak::telemetry {

/// One counter over a run: total, mean and peak per second, whether it was sent.
struct CounterStats {
  std::uint64_t total = 0;
  double per_second = 0;       // total over the time the heartbeats cover
  double peak_per_second = 0;  // the busiest heartbeat interval
  bool present = false;        // the guest ever sent it
};

/// Everything the agent said over a run, summed (what a RunResult keeps).
struct TelemetrySummary {
  static constexpr std::size_t kMaxKept = 64;  // integrity errors, warnings, config errors kept in full

  std::optional<Started> started;
  std::optional<Finished> finished;
  std::uint64_t heartbeats = 0;
  Duration covered{0};                       // sum of heartbeat intervals
  std::optional<Duration> last_heartbeat;    // guest uptime of the last one
  std::array<CounterStats, kCounterCount> counters{};

  std::uint64_t integrity_events = 0;
  std::uint64_t integrity_pages = 0;
  // Guest uptime of the first integrity error, and the same after the
  // workload started (when `started` was seen).
  std::optional<Duration> first_integrity_error;
  std::optional<Duration> first_integrity_error_after_start;
  std::vector<IntegrityError> integrity_errors;  // the first kMaxKept
  std::uint64_t protection_events = 0;
  std::vector<ProtectionError> protection_errors;  // the first kMaxKept
  // The walker x transition matrix, totals (proto::matrix_cell); `matrix_seen`
  // when the guest ran the transitions worker at all.
  std::array<std::uint64_t, proto::kMatrixCells> matrix{};
  bool matrix_seen = false;
  std::vector<std::string> config_errors;        // the first kMaxKept
  std::vector<std::string> warnings;             // the first kMaxKept

  ParseStats parse;

  const CounterStats& operator[](Counter c) const { return counters[c.index]; }
  // The guest refused to run (one node, THP off, ...): never a "survived".
  bool config_error() const { return !config_errors.empty(); }
  // Huge-PMD NUMA updates and THP migrations both happened: the race's two
  // sides were exercised.
  bool race_exercised() const;
};

/// Feeds agent lines in, keeps the summary and the rates.
class Telemetry {
 public:
  // Parses and adds one agent line; returns the message when it parsed.
  std::optional<Message> feed(std::string_view line);
  void add(const Message& m);

  TelemetrySummary summary() const;
  std::uint64_t total(Counter c) const { return totals_[c.index]; }
  // Per second over the time the heartbeats cover (0 before any).
  double rate(Counter c) const;
  const ParseStats& parse_stats() const { return parser_.stats(); }

 private:
  void on(const Started& m);
  void on(const Heartbeat& m);
  void on(const IntegrityError& m);
  void on(const ProtectionError& m);
  void on(const Matrix& m);
  void on(const ConfigError& m);
  void on(const Warning& m);
  void on(const Finished& m);

  AgentParser parser_;
  TelemetrySummary s_;
  CounterSet totals_{};
};

}  // namespace numasoak::telemetry
