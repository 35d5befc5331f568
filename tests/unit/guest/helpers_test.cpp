// The guest's small pure helpers: JSON lines, /proc and /sys parsing.
#include <gtest/gtest.h>

#include "workload/checks.h"
#include "workload/json.h"
#include "workload/sys.h"
#include "workload/topology.h"
#include "workload/vmstat.h"

using namespace numasoak::guest;

TEST(JsonLine, EscapesAndNests) {
  JsonLine inner;
  inner.unum("a", 1).boolean("b", true);
  JsonLine m;
  m.str("type", "warning").str("reason", "bad \"x\"\n\t\x01 \\ ok").num("n", -3).raw("o", inner.object());
  EXPECT_EQ(m.line(), "{\"type\":\"warning\",\"reason\":\"bad \\\"x\\\"\\n\\t\\u0001 \\\\ ok\",\"n\":-3,"
                      "\"o\":{\"a\":1,\"b\":true}}\n");
  EXPECT_EQ(JsonLine().line(), "{}\n");
}

TEST(Vmstat, PicksKnownCounters) {
  const auto s = parse_vmstat("nr_free_pages 12\nnuma_huge_pte_updates 7\nthp_migration_success 99\nbogus\n"
                              "thp_split_pmd x\n");
  EXPECT_EQ(s.get(Vm::numa_huge_pte_updates), 7u);
  EXPECT_EQ(s.get(Vm::thp_migration_success), 99u);
  EXPECT_TRUE(s.present[static_cast<size_t>(Vm::thp_migration_success)]);
  EXPECT_FALSE(s.present[static_cast<size_t>(Vm::thp_split_pmd)]);
  EXPECT_FALSE(s.present[static_cast<size_t>(Vm::numa_pte_updates)]);
}

TEST(Sysfs, CpulistAndSelectedChoice) {
  EXPECT_EQ(parse_cpulist("0-3,5,7-8\n"), (std::vector<int>{0, 1, 2, 3, 5, 7, 8}));
  EXPECT_EQ(parse_cpulist(""), std::vector<int>{});
  EXPECT_EQ(parse_cpulist("3-1,x,4"), std::vector<int>{4});
  EXPECT_EQ(selected_choice("always [madvise] never\n"), "madvise");
  EXPECT_EQ(selected_choice("[always] defer defer+madvise madvise never"), "always");
  EXPECT_EQ(parse_node_memtotal_kb("Node 1 MemTotal:        1031168 kB\nNode 1 MemFree: 1 kB\n"), 1031168u);
}

TEST(Cmdline, ValueOfAParameter) {
  const std::string cmd = "console=ttyS0 transparent_hugepage=never numasoak.race_widen_us=200 x=1 x=2\n";
  EXPECT_EQ(cmdline_value(cmd, "transparent_hugepage"), "never");
  EXPECT_EQ(cmdline_value(cmd, "numasoak.race_widen_us"), "200");
  EXPECT_EQ(cmdline_value(cmd, "x"), "2");
  EXPECT_EQ(cmdline_value(cmd, "numasoak.race_widen"), "");
}
