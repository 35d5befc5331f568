// Telemetry (harness/telemetry/telemetry.h): totals, per-second rates, the
// run summary.
#include <gtest/gtest.h>

#include "telemetry/telemetry.h"

using namespace numasoak::telemetry;
using namespace std::chrono_literals;

namespace {

std::string heartbeat(int seq, int uptime_ms, int dt_ms, int huge, int thp, int uffd, int moved) {
  return "{\"type\":\"heartbeat\",\"seq\":" + std::to_string(seq) + ",\"uptime_ms\":" + std::to_string(uptime_ms) +
         ",\"dt_ms\":" + std::to_string(dt_ms) + ",\"vmstat\":{\"numa_huge_pte_updates\":" + std::to_string(huge) +
         ",\"thp_migration_success\":" + std::to_string(thp) + ",\"numa_hint_faults\":3},\"ops\":{\"uffd_wp_ioctls\":" +
         std::to_string(uffd) + ",\"mp_moved\":" + std::to_string(moved) + "}}";
}

}  // namespace

TEST(Telemetry, TotalsRatesAndPeaks) {
  Telemetry t;
  t.feed(R"({"type":"started","v":1,"uptime_ms":2000,"kernel":"6.1.192+","nodes":2,"cpus":2,"profile":"bad-pmd"})");
  t.feed(heartbeat(1, 3000, 1000, 100, 10, 40, 12));
  t.feed(heartbeat(2, 4000, 1000, 300, 30, 40, 28));
  t.feed(heartbeat(3, 6000, 2000, 200, 20, 80, 40));
  EXPECT_EQ(t.total(counters::numa_huge_pte_updates()), 600u);
  EXPECT_DOUBLE_EQ(t.rate(counters::numa_huge_pte_updates()), 150.0);
  EXPECT_DOUBLE_EQ(t.rate(counters::thp_migration_success()), 15.0);
  EXPECT_DOUBLE_EQ(t.rate(counters::uffd_wp_ioctls()), 40.0);
  EXPECT_DOUBLE_EQ(t.rate(counters::mp_moved()), 20.0);
  EXPECT_DOUBLE_EQ(t.rate(counters::numa_hint_faults()), 2.25);
  const auto s = t.summary();
  EXPECT_EQ(s.heartbeats, 3u);
  EXPECT_EQ(s.covered, 4000ms);
  EXPECT_EQ(s.last_heartbeat, 6000ms);
  EXPECT_DOUBLE_EQ(s[counters::numa_huge_pte_updates()].peak_per_second, 300.0);
  EXPECT_DOUBLE_EQ(s[counters::thp_migration_success()].per_second, 15.0);
  EXPECT_TRUE(s[counters::thp_migration_success()].present);
  EXPECT_FALSE(s[counters::race_widen_hits()].present);
  EXPECT_TRUE(s.race_exercised());
  EXPECT_FALSE(s.config_error());
  ASSERT_TRUE(s.started);
  EXPECT_EQ(s.started->kernel, "6.1.192+");
  EXPECT_FALSE(s.finished);
}

TEST(Telemetry, IntegrityErrorsAndFinish) {
  Telemetry t;
  t.feed(R"({"type":"started","v":1,"uptime_ms":1500})");
  t.feed(R"({"type":"integrity_error","worker":1,"addr":"0x7f0000200000","pages":512,"node":1,"kind":"zero","uptime_ms":12800})");
  t.feed(R"({"type":"integrity_error","worker":0,"addr":"0x7f0000400000","pages":3,"node":0,"kind":"corrupt","uptime_ms":20000})");
  t.feed(R"({"type":"finished","status":"integrity_errors","exit_code":1,"uptime_ms":61000,"integrity_events":2,"integrity_pages":515})");
  const auto s = t.summary();
  EXPECT_EQ(s.integrity_events, 2u);
  EXPECT_EQ(s.integrity_pages, 515u);
  EXPECT_EQ(s.first_integrity_error, 12800ms);
  EXPECT_EQ(s.first_integrity_error_after_start, 11300ms);
  ASSERT_EQ(s.integrity_errors.size(), 2u);
  EXPECT_TRUE(s.integrity_errors[0].zero);
  ASSERT_TRUE(s.finished);
  EXPECT_EQ(s.finished->status, "integrity_errors");
  EXPECT_FALSE(s.race_exercised());  // no heartbeats
}

TEST(Telemetry, ConfigErrorRun) {
  Telemetry t;
  t.feed(R"({"type":"config_error","reason":"THP is disabled by transparent_hugepage=never on the kernel command line","uptime_ms":900})");
  t.feed(R"({"type":"finished","status":"config_error","exit_code":2,"uptime_ms":901})");
  const auto s = t.summary();
  EXPECT_TRUE(s.config_error());
  EXPECT_EQ(s.config_errors[0], "THP is disabled by transparent_hugepage=never on the kernel command line");
  EXPECT_EQ(s.finished->exit_code, 2);
  EXPECT_FALSE(s.started);
}

TEST(Telemetry, ParseErrorsAreCountedAndHostileCountsSaturate) {
  Telemetry t;
  t.feed("garbage");
  t.feed(R"({"type":"heartbeat","dt_ms":1000,"ops":{"mp_moved":18446744073709551615}})");
  t.feed(R"({"type":"heartbeat","dt_ms":1000,"ops":{"mp_moved":18446744073709551615}})");
  EXPECT_EQ(t.total(counters::mp_moved()), UINT64_MAX);
  const auto s = t.summary();
  EXPECT_EQ(s.parse.errors, 1u);
  EXPECT_EQ(s.parse.parsed, 2u);
  for (int i = 0; i < 200; ++i) t.feed(R"({"type":"warning","reason":"w"})");
  EXPECT_EQ(t.summary().warnings.size(), TelemetrySummary::kMaxKept);
}

TEST(Telemetry, CounterNamesRoundTrip) {
  for (std::size_t i = 0; i < kCounterCount; ++i) {
    const Counter c{i};
    const auto found = find_counter(counter_name(c));
    ASSERT_TRUE(found) << counter_name(c);
    EXPECT_EQ(found->index, i);
  }
  EXPECT_EQ(counter_group(counters::thp_migration_success()), CounterGroup::kVmstat);
  EXPECT_EQ(counter_group(counters::mp_moved()), CounterGroup::kOps);
  EXPECT_EQ(counter_group(counters::race_widen_hits()), CounterGroup::kKernel);
  EXPECT_FALSE(find_counter("nope"));
}
