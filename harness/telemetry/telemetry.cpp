#include "telemetry/telemetry.h"

#include <algorithm>
#include <limits>

namespace numasoak::telemetry {

namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

template <typename T>
void keep(std::vector<T>& v, T item) {
  if (v.size() < TelemetrySummary::kMaxKept) v.push_back(std::move(item));
}

}  // namespace

bool TelemetrySummary::race_exercised() const {
  return (*this)[counters::numa_huge_pte_updates()].total > 0 && (*this)[counters::thp_migration_success()].total > 0;
}

std::optional<Message> Telemetry::feed(std::string_view line) {
  auto m = parser_.parse(line);
  if (m) add(*m);
  return m;
}

void Telemetry::add(const Message& m) {
  std::visit([this](const auto& msg) { on(msg); }, m);
}

void Telemetry::on(const Started& m) { s_.started = m; }

void Telemetry::on(const Heartbeat& m) {
  ++s_.heartbeats;
  s_.covered += m.interval;
  s_.last_heartbeat = m.uptime;
  const double secs = seconds(m.interval);
  for (std::size_t i = 0; i < kCounterCount; ++i) {
    if (!m.present[i]) continue;
    auto& c = s_.counters[i];
    c.present = true;
    totals_[i] = saturating_add(totals_[i], m.delta[i]);
    if (secs > 0) c.peak_per_second = std::max(c.peak_per_second, static_cast<double>(m.delta[i]) / secs);
  }
}

void Telemetry::on(const IntegrityError& m) {
  ++s_.integrity_events;
  s_.integrity_pages = saturating_add(s_.integrity_pages, m.pages);
  if (!s_.first_integrity_error || m.uptime < *s_.first_integrity_error) s_.first_integrity_error = m.uptime;
  keep(s_.integrity_errors, m);
}

void Telemetry::on(const ProtectionError& m) {
  ++s_.protection_events;
  keep(s_.protection_errors, m);
}

void Telemetry::on(const Matrix& m) {
  s_.matrix_seen = true;
  for (std::size_t i = 0; i < m.delta.size(); ++i) s_.matrix[i] = saturating_add(s_.matrix[i], m.delta[i]);
}

void Telemetry::on(const ConfigError& m) { keep(s_.config_errors, m.reason); }

void Telemetry::on(const Warning& m) { keep(s_.warnings, m.reason); }

void Telemetry::on(const Finished& m) { s_.finished = m; }

double Telemetry::rate(Counter c) const {
  const double secs = seconds(s_.covered);
  return secs > 0 ? static_cast<double>(totals_[c.index]) / secs : 0.0;
}

TelemetrySummary Telemetry::summary() const {
  TelemetrySummary out = s_;
  for (std::size_t i = 0; i < kCounterCount; ++i) {
    out.counters[i].total = totals_[i];
    out.counters[i].per_second = rate(Counter{i});
  }
  if (out.first_integrity_error && out.started)
    out.first_integrity_error_after_start = std::max(Duration{0}, *out.first_integrity_error - out.started->uptime);
  out.parse = parser_.stats();
  return out;
}

}  // namespace numasoak::telemetry
