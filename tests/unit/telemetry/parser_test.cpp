// AgentParser (harness/telemetry/parser.h): real agent lines, bad lines and
// hostile lines. It must never throw, and every rejected line is counted.
#include <gtest/gtest.h>
#include <random>
#include <string>

#include "telemetry/parser.h"

using namespace numasoak::telemetry;
using namespace std::chrono_literals;

namespace {

// Captured from a bad-pmd run on the numasoak 6.1 kernel (race_widen_us=200).
const std::string kStarted = R"json({"type":"started","v":1,"uptime_ms":3365,"kernel":"6.1.192+","nodes":2,"cpus":2,"node_cpus":[[0],[1]],"node_mem_mb":[996,1007],"thp":"always","thp_defrag":"madvise","numa_balancing":1,"scan_delay_ms":0,"scan_period_min_ms":1,"scan_period_max_ms":10,"scan_size_mb":16,"race_widen_us":200,"race_widen_uffd_us":-1,"profile":"bad-pmd","settings":{"duration":"60","seed":"1","heartbeat_ms":"1000","warn_after_s":"30","min_nodes":"2","processes":"2","region_mb":"8","numa_balancing":"1","scan_delay_ms":"0","scan_period_min_ms":"1","scan_period_max_ms":"10","scan_size_mb":"16","thp":"always","thp_defrag":"madvise","scan_focus":"1","balancing":"1","touchers":"1","touch_stride_kb":"64","touch_pause_us":"2000","move_pages":"1","movers":"1","move_batch":"0","move_pause_us":"0","mbind_every":"64","migrate_pages_every":"256","uffd_wp":"1","uffd_wp_chunk_mb":"0","uffd_wp_pause_us":"20000","mprotect":"0","mprotect_pause_ms":"50","split_collapse":"0","split_collapse_pause_ms":"200","integrity":"1","verify_pause_ms":"200","refresh_every":"8","max_reports":"1000"}})json";
const std::string kHeartbeat = R"json({"type":"heartbeat","seq":5,"uptime_ms":8397,"dt_ms":1002,"vmstat":{"numa_pte_updates":18432,"numa_huge_pte_updates":339,"numa_hint_faults":20,"numa_hint_faults_local":9,"numa_pages_migrated":2560,"pgmigrate_success":54272,"pgmigrate_fail":0,"thp_migration_success":106,"thp_migration_fail":0,"thp_migration_split":0,"thp_fault_alloc":0,"thp_split_pmd":0},"ops":{"touch_passes":91,"touch_writes":11648,"mp_calls":32,"mp_moved":108,"mp_failed":20,"mbind_calls":0,"migrate_pages_calls":0,"migrate_errors":0,"uffd_wp_ioctls":67,"uffd_wp_faults":95,"uffd_errors":0,"mprotect_calls":0,"splits":0,"collapses":0,"collapse_errors":0,"pages_checked":16384,"verify_passes":8,"integrity_events":0,"integrity_pages":0,"worker_restarts":0},"kernel":{"race_widen_hits":39}})json";
const std::string kIntegrity =
    R"json({"type":"integrity_error","worker":2,"addr":"0x7f8487400000","pages":512,"node":0,"kind":"zero","expected":"0x3f9e410dd98de4d7","actual":"0x0","uptime_ms":3664})json";
const std::string kFinished =
    R"json({"type":"finished","status":"integrity_errors","exit_code":1,"uptime_ms":61468,"integrity_events":1,"integrity_pages":512})json";

template <typename T>
T parse_as(AgentParser& p, const std::string& line) {
  auto m = p.parse(line);
  EXPECT_TRUE(m.has_value()) << p.last_error() << " in " << line.substr(0, 80);
  EXPECT_TRUE(m && std::holds_alternative<T>(*m));
  return m && std::holds_alternative<T>(*m) ? std::get<T>(*m) : T{};
}

}  // namespace

TEST(AgentParser, Started) {
  AgentParser p;
  const auto s = parse_as<Started>(p, kStarted);
  EXPECT_EQ(s.protocol, 1);
  EXPECT_EQ(s.kernel, "6.1.192+");
  EXPECT_EQ(s.nodes, 2);
  EXPECT_EQ(s.cpus, 2);
  EXPECT_EQ(s.thp, "always");
  EXPECT_EQ(s.profile, "bad-pmd");
  EXPECT_EQ(s.race_widen_us, 200);
  EXPECT_EQ(s.settings.at("uffd_wp"), "1");
  EXPECT_GT(s.uptime, 0ms);
}

TEST(AgentParser, Heartbeat) {
  AgentParser p;
  const auto h = parse_as<Heartbeat>(p, kHeartbeat + "\r\n");
  EXPECT_EQ(h.seq, 5u);
  EXPECT_EQ(h.interval, 1002ms);
  EXPECT_EQ(h.uptime, 8397ms);
  EXPECT_EQ(h.delta[counters::numa_huge_pte_updates().index], 339u);
  EXPECT_EQ(h.delta[counters::thp_migration_success().index], 106u);
  EXPECT_EQ(h.delta[counters::uffd_wp_ioctls().index], 67u);
  EXPECT_EQ(h.delta[counters::mp_moved().index], 108u);
  EXPECT_EQ(h.delta[counters::race_widen_hits().index], 39u);
  EXPECT_TRUE(h.present[counters::race_widen_hits().index]);
}

TEST(AgentParser, IntegrityErrorFinishedConfigErrorWarning) {
  AgentParser p;
  const auto e = parse_as<IntegrityError>(p, kIntegrity);
  EXPECT_EQ(e.addr, 0x7f8487400000u);
  EXPECT_EQ(e.pages, 512u);
  EXPECT_EQ(e.node, 0);
  EXPECT_TRUE(e.zero);
  EXPECT_EQ(e.worker, 2);
  EXPECT_EQ(e.uptime, 3664ms);
  const auto f = parse_as<Finished>(p, kFinished);
  EXPECT_EQ(f.status, "integrity_errors");
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_EQ(f.integrity_pages, 512u);
  const auto c = parse_as<ConfigError>(
      p, R"({"type":"config_error","reason":"the guest has 1 NUMA node with memory, the workload needs at least 2","uptime_ms":900})");
  EXPECT_EQ(c.reason, "the guest has 1 NUMA node with memory, the workload needs at least 2");
  const auto w = parse_as<Warning>(p, R"({"type":"warning","reason":"no THP migration after 30 s","uptime_ms":31000})");
  EXPECT_EQ(w.uptime, 31000ms);
  EXPECT_EQ(p.stats().parsed, 4u);
  EXPECT_EQ(p.stats().errors, 0u);
}

TEST(AgentParser, BadLinesAreCountedNotThrown) {
  AgentParser p;
  const char* bad[] = {
      "not json at all",
      "[1,2,3]",
      "{\"no_type\":1}",
      "{\"type\":7}",
      "{\"type\":\"heartbeat\"}",                                   // dt_ms missing
      "{\"type\":\"heartbeat\",\"dt_ms\":\"1000\"}",                // wrong type
      "{\"type\":\"heartbeat\",\"dt_ms\":1000,\"vmstat\":[1]}",     // not an object
      "{\"type\":\"heartbeat\",\"dt_ms\":1000,\"ops\":{\"mp_moved\":-4}}",
      "{\"type\":\"heartbeat\",\"dt_ms\":-1}",
      "{\"type\":\"integrity_error\",\"pages\":512,\"addr\":\"0xZZ\"}",
      "{\"type\":\"integrity_error\",\"pages\":512,\"addr\":\"0x11111111111111111\"}",
      "{\"type\":\"integrity_error\",\"pages\":0}",
      "{\"type\":\"finished\"}",
      "{\"type\":\"config_error\",\"reason\":42}",
      "{\"type\":\"started\",\"settings\":{\"a\":1}}",
      "{\"type\":\"started\",\"nodes\":1e400}",
      "{\"type\":\"heartbeat\",\"dt_ms\":1000",  // truncated
  };
  for (const char* line : bad) {
    std::optional<Message> m;
    EXPECT_NO_THROW(m = p.parse(line)) << line;
    EXPECT_FALSE(m.has_value()) << line;
  }
  EXPECT_EQ(p.stats().errors, std::size(bad));
  EXPECT_EQ(p.stats().parsed, 0u);
  EXPECT_FALSE(p.last_error().empty());
}

TEST(AgentParser, UnknownTypesAndEmptyLinesAreIgnored) {
  AgentParser p;
  EXPECT_FALSE(p.parse("{\"type\":\"from_the_future\",\"x\":1}"));
  EXPECT_FALSE(p.parse(""));
  EXPECT_FALSE(p.parse("\r\n"));
  EXPECT_EQ(p.stats().unknown_types, 1u);
  EXPECT_EQ(p.stats().errors, 0u);
  EXPECT_EQ(p.stats().lines, 1u);
  // Unknown counters inside a known message are ignored too.
  auto m = p.parse(R"({"type":"heartbeat","dt_ms":1000,"vmstat":{"new_counter":5,"thp_split_pmd":2}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<Heartbeat>(*m).delta[find_counter("thp_split_pmd")->index], 2u);
}

TEST(AgentParser, HostileLines) {
  AgentParser p;
  // Too long: dropped before parsing.
  const std::string huge = "{\"type\":\"warning\",\"reason\":\"" + std::string(100000, 'A') + "\"}";
  EXPECT_FALSE(p.parse(huge));
  EXPECT_EQ(p.stats().too_long, 1u);
  // Deep nesting inside the limit.
  std::string deep(AgentParser::kMaxAcceptedLine / 2 - 2, '[');
  deep += std::string(deep.size(), ']');
  EXPECT_NO_THROW(p.parse(deep));
  // Control characters and escapes in text are neutralised and bounded.
  const std::string reason(2000, 'x');
  auto m = p.parse("{\"type\":\"warning\",\"reason\":\"\\u001b[31mred\\u0007\\n" + reason + "\"}");
  ASSERT_TRUE(m);
  const auto& w = std::get<Warning>(*m);
  EXPECT_EQ(w.reason.substr(0, 12), "?[31mred??xx");
  EXPECT_EQ(w.reason.size(), AgentParser::kMaxText);
  // Invalid UTF-8 is not JSON: rejected.
  EXPECT_FALSE(p.parse("{\"type\":\"warning\",\"reason\":\"\xff\xfe\"}"));
  // Numbers at the edges.
  EXPECT_FALSE(p.parse(R"({"type":"heartbeat","dt_ms":1000,"ops":{"mp_moved":1.5}})"));
  EXPECT_TRUE(p.parse(R"({"type":"heartbeat","dt_ms":1000,"ops":{"mp_moved":18446744073709551615}})"));
}

TEST(AgentParser, RandomBytesNeverThrow) {
  AgentParser p;
  std::mt19937 rng(1234);
  const std::string alphabet = "{}[]\":,0123456789-+.eE truefalsnul\\u\x01\xff\xc3typeheartbeatdt_ms";
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    const int len = static_cast<int>(rng() % 200);
    if (i % 2) line = kHeartbeat.substr(0, rng() % kHeartbeat.size());
    for (int j = 0; j < len; ++j) line += alphabet[rng() % alphabet.size()];
    EXPECT_NO_THROW(p.parse(line));
  }
  EXPECT_EQ(p.stats().lines, p.stats().parsed + p.stats().errors + p.stats().unknown_types);
}

TEST(SanitizeText, CutsOnUtf8Boundaries) {
  EXPECT_EQ(sanitize_text("abc\x7f", 10), "abc?");
  EXPECT_EQ(sanitize_text("h\xc3\xa9llo", 2), "h");  // does not keep half of U+00E9
  EXPECT_EQ(sanitize_text("h\xc3\xa9llo", 3), "h\xc3\xa9");
}

// The transitions worker's messages (guest/PROTOCOL.md): a protection that
// did not hold, and the walker x transition matrix.
TEST(AgentParser, ProtectionErrorAndMatrix) {
  AgentParser p;
  const auto e = parse_as<ProtectionError>(
      p, R"json({"type":"protection_error","worker":1,"addr":"0x7f0000200000","how":"uffd-wp","memory":"shmem","scenario":"pmd-none","node":1,"uptime_ms":49912})json");
  EXPECT_EQ(e.worker, 1);
  EXPECT_EQ(e.addr, 0x7f0000200000u);
  EXPECT_EQ(e.how, "uffd-wp");
  EXPECT_EQ(e.memory, "shmem");
  EXPECT_EQ(e.scenario, "pmd-none");
  EXPECT_EQ(e.uptime, 49912ms);

  const auto m = parse_as<Matrix>(
      p, R"json({"type":"matrix","seq":7,"uptime_ms":9000,"cells":{"wp_resolve.split.shmem":3,"numa.migrate.anon":12,"no.such.cell":5}})json");
  namespace proto = numasoak::nsw::protocol;
  EXPECT_EQ(m.delta[proto::matrix_cell(2, 2, 1)], 3u);  // wp_resolve x split (shmem)
  EXPECT_EQ(m.delta[proto::matrix_cell(0, 0, 0)], 12u);  // numa x migrate (anon)
  std::uint64_t sum = 0;
  for (auto v : m.delta) sum += v;
  EXPECT_EQ(sum, 15u);  // the unknown cell is ignored
  // A negative count is no matrix: the line is rejected and counted.
  EXPECT_FALSE(p.parse(R"json({"type":"matrix","seq":8,"cells":{"mprotect.fault.anon":-4}})json"));
  EXPECT_EQ(p.stats().errors, 1u);
}
