// Co-location (workload/colocation.h): walks x migrations of the same PMD,
// and mm->numa_scan_seq out of a real /proc/<pid>/sched layout.
#include <gtest/gtest.h>

#include "workload/colocation.h"

using namespace numasoak::guest;

TEST(Colocation, PairsAreWalksTimesMigrationsOfTheSamePmdNotOfTheRegion) {
  // Two PMDs: walks on one, migrations on the other, then both on one.
  const auto apart = colocate({{5, 0, 0}, {0, 0, 7}}, 7);
  EXPECT_EQ(apart.walks, 5u);
  EXPECT_EQ(apart.migrations, 7u);
  EXPECT_EQ(apart.mpairs, 0u);          // never on the same PMD
  EXPECT_EQ(apart.hint_migrations, 0u);  // every THP migration was one the workload saw
  const auto together = colocate({{5, 2, 7}, {0, 2, 0}}, 7);
  EXPECT_EQ(together.walks, 9u);  // own walks + a scan pass over each PMD of the mm
  EXPECT_EQ(together.scan_walks, 4u);
  EXPECT_EQ(together.mpairs, 1000u * 7 * 7);
}

TEST(Colocation, HintMigrationsAreWhatVmstatSawBeyondTheObservedSpreadEvenly) {
  const auto d = colocate({{4, 0, 1}, {0, 0, 0}}, 5);
  EXPECT_EQ(d.hint_migrations, 4u);
  EXPECT_EQ(d.hint_mpairs, 1000u * 4 * 4 / 2);  // walks x hint / N
  EXPECT_EQ(colocate({}, 3).hint_mpairs, 0u);
  EXPECT_EQ(colocate({{1, 0, 9}}, 3).hint_migrations, 0u);  // clamped: vmstat lags the workload
}

TEST(Colocation, ScanSeqFromProcSchedText) {
  // kernel/sched/debug.c's P(): "%-45s:%21Ld\n".
  const std::string sched =
      "stress (123, #threads: 4)\n"
      "-------------------------------------------------------------------\n"
      "se.exec_start                                :         12345.678901\n"
      "mm->numa_scan_seq                            :                   42\n"
      "numa_pages_migrated                          :                    3\n";
  EXPECT_EQ(parse_numa_scan_seq(sched), 42u);
  EXPECT_FALSE(parse_numa_scan_seq("se.exec_start : 1\n"));          // CONFIG_NUMA_BALANCING off
  EXPECT_FALSE(parse_numa_scan_seq("mm->numa_scan_seq : x\n"));      // not a number
  EXPECT_FALSE(parse_numa_scan_seq("mm->numa_scan_seq : -1\n"));     // never negative
}
