// Pure parsing: fragments and .config, patch headers and patch's output,
// the bzImage setup header.
#include <gtest/gtest.h>

#include "kernel/bzimage.h"
#include "kernel/kconfig.h"
#include "kernel/patch_parse.h"
#include "support.h"

namespace numasoak::kernel {
namespace {

TEST(Kconfig, DroppedOptionIsNamedWithItsFragment) {
  auto req = parse_fragment("# comment\nCONFIG_NUMA=y\nCONFIG_NUMA_BALANCING=y\n# CONFIG_SLOB is not set\nCONFIG_NR_CPUS=64\n",
                            "numasoak-guest.config");
  ASSERT_EQ(req.size(), 4u);
  EXPECT_EQ(req[2].value, "n");
  auto cfg = parse_config("CONFIG_NUMA=y\n# CONFIG_NUMA_BALANCING is not set\nCONFIG_NR_CPUS=8\n");
  auto unmet = unmet_requests(req, cfg);
  ASSERT_EQ(unmet.size(), 2u);
  const std::string msg = describe_unmet(unmet, cfg);
  EXPECT_NE(msg.find("fragment numasoak-guest.config asks for CONFIG_NUMA_BALANCING=y but olddefconfig dropped it "
                     "(missing dependency?)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("CONFIG_NR_CPUS=64 but olddefconfig set CONFIG_NR_CPUS=8"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(Kconfig, NotSetIsMetByAbsenceAndLastFragmentWins) {
  auto req = parse_fragment("CONFIG_A=y\n# CONFIG_B is not set\n", "one.config");
  auto more = parse_fragment("# CONFIG_A is not set\n", "two.config");
  req.insert(req.end(), more.begin(), more.end());
  EXPECT_TRUE(unmet_requests(req, parse_config("# CONFIG_A is not set\n")).empty());
  auto unmet = unmet_requests(req, parse_config("CONFIG_A=y\nCONFIG_B=y\n"));
  ASSERT_EQ(unmet.size(), 2u);
  EXPECT_EQ(unmet[1].fragment, "two.config");
}

TEST(PatchParse, TouchedFilesCoverUnifiedAndGitDiffs) {
  const std::string p =
      "From abc\nSubject: x\n---\n mm/mprotect.c | 2 +-\n\n"
      "diff --git a/mm/mprotect.c b/mm/mprotect.c\nindex 1..2 100644\n--- a/mm/mprotect.c\n+++ b/mm/mprotect.c\n"
      "@@ -1 +1 @@\n-a\n+b\n"
      "diff --git a/mm/new.c b/mm/new.c\nnew file mode 100644\n--- /dev/null\n+++ b/mm/new.c\t2024-01-01\n@@ -0,0 +1 @@\n+x\n"
      "diff --git a/mm/old.c b/mm/renamed.c\nsimilarity index 100%\nrename from mm/old.c\nrename to mm/renamed.c\n";
  EXPECT_EQ(touched_files(p), (std::vector<std::string>{"mm/mprotect.c", "mm/new.c", "mm/old.c", "mm/renamed.c"}));
}

TEST(PatchParse, FailureNamesFileAndHunk) {
  EXPECT_EQ(describe_patch_failure("patching file mm/mprotect.c\nHunk #1 succeeded at 10.\nHunk #2 FAILED at 310.\n"
                                   "1 out of 2 hunks FAILED -- saving rejects to file mm/mprotect.c.rej\n"),
            "mm/mprotect.c: hunk #2 FAILED at line 310");
  EXPECT_EQ(describe_patch_failure("can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip "
                                   "option?\nThe text leading up to this was:\n--------------------------\n"
                                   "|--- a/mm/gone.c\n|+++ b/mm/gone.c\n--------------------------\n"
                                   "No file to patch.  Skipping patch.\n1 out of 1 hunk ignored\n"),
            "can't find file to patch: mm/gone.c");
}

TEST(BzImage, ReadsMagicAndVersionString) {
  test::TempDir tmp;
  std::string img(0x400, '\0');
  img.replace(0x202, 4, "HdrS");
  const unsigned ptr = 0x100;  // string at 0x200 + 0x100
  img[0x20E] = static_cast<char>(ptr & 0xff);
  img[0x20F] = static_cast<char>(ptr >> 8);
  img.replace(0x300, 20, "6.1.192 (x@y) #1 SMP");
  test::write(tmp.path() / "bzImage", img);
  EXPECT_TRUE(looks_like_bzimage(tmp.path() / "bzImage"));
  EXPECT_EQ(bzimage_version(tmp.path() / "bzImage").value_or(""), "6.1.192 (x@y) #1 SMP");
  EXPECT_EQ(release_of("6.1.192 (x@y) #1 SMP"), "6.1.192");
  test::write(tmp.path() / "not", std::string(0x400, 'x'));
  EXPECT_FALSE(looks_like_bzimage(tmp.path() / "not"));
}

}  // namespace
}  // namespace numasoak::kernel
