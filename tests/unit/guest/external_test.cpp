// External stressors for numasoak bench: the profiles that select them and
// the process that runs them (a real fork/exec).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "spec/knobs.h"
#include "workload/external.h"

namespace numasoak::guest {
namespace {

using nsw::Knob;

TEST(External, AlternativeProfilesRunAProgramWithBadPmdBalancing) {
  const auto bad = nsw::resolve_settings("bad-pmd", {}).settings;
  EXPECT_EQ(bad.get(Knob::external), 0);
  for (const char* p : {"alt-selftest-migration", "alt-stress-ng-numa", "alt-stress-ng-vm-hugepage"}) {
    const auto s = nsw::resolve_settings(p, {}).settings;
    EXPECT_NE(s.get(Knob::external), 0) << p;
    EXPECT_FALSE(s.on(Knob::balancing) || s.on(Knob::move_pages) || s.on(Knob::uffd_wp)) << p;
    for (Knob k : {Knob::numa_balancing, Knob::scan_delay_ms, Knob::scan_period_min_ms, Knob::scan_period_max_ms,
                   Knob::scan_size_mb, Knob::thp, Knob::thp_defrag})
      EXPECT_EQ(s.get(k), bad.get(k)) << p << " " << nsw::def(k).name;
  }
}

TEST(External, ArgvPerChoice) {
  EXPECT_TRUE(external_argv(0, 2).empty());
  EXPECT_EQ(external_argv(1, 2), std::vector<std::string>{kSelftestMigrationPath});
  const auto numa = external_argv(2, 4);
  ASSERT_GE(numa.size(), 3u);
  EXPECT_EQ(numa[0], kStressNgPath);
  EXPECT_EQ(numa[1], "--numa");
  EXPECT_EQ(numa[2], "4");
  const auto vm = external_argv(3, 0);
  ASSERT_GE(vm.size(), 5u);
  EXPECT_EQ(vm[1], "--vm");
  EXPECT_EQ(vm[2], "1");
  EXPECT_EQ(vm[3], "--vm-madvise");
  EXPECT_EQ(vm[4], "hugepage");
}

TEST(External, SpawnRunsTheProgramAndAMissingOneExits127) {
  const pid_t ok = spawn_external({"/bin/sh", "-c", "exit 7"});
  ASSERT_GT(ok, 0);
  int st = 0;
  ASSERT_EQ(::waitpid(ok, &st, 0), ok);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 7);
  const pid_t missing = spawn_external({"/nonexistent/numasoak-program"});
  ASSERT_GT(missing, 0);
  ASSERT_EQ(::waitpid(missing, &st, 0), missing);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 127);
}

}  // namespace
}  // namespace numasoak::guest
