// The window locator on real objdump and addr2line output (tests/fixtures/
// kernel/window/: a slice of Debian 6.1.192-3's change_protection(), as the
// tools printed it for linux-image-6.1.0-57-amd64-dbg's vmlinux).
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/paths.h"
#include "kernel/window.h"
#include "support.h"

namespace numasoak::kernel {
namespace {

constexpr std::uint64_t kDebianChangeProtection = 0xffffffff812de9c0;

std::vector<Instruction> debian_slice(bool with_lines = true) {
  const auto dir = test::fixtures() / "window";
  auto insns = parse_objdump(read_file(dir / "debian-6.1.192-3-change_protection.objdump"));
  if (with_lines) attach_inlines(insns, read_file(dir / "debian-6.1.192-3-change_protection.addr2line"));
  return insns;
}

TEST(WindowLocator, ParsesObjdumpInstructions) {
  const auto insns = debian_slice(false);
  ASSERT_GT(insns.size(), 90u);
  const auto it = std::find_if(insns.begin(), insns.end(), [](const Instruction& i) { return i.address == 0xffffffff812df8a6; });
  ASSERT_NE(it, insns.end());
  EXPECT_EQ(it->mnemonic, "mov");
  EXPECT_EQ(it->operands, "(%r12),%rdi");
  // Jump targets and comments are not operands.
  for (const auto& i : insns) {
    EXPECT_EQ(i.operands.find('<'), std::string::npos) << i.operands;
    EXPECT_EQ(i.operands.find('#'), std::string::npos) << i.operands;
  }
}

TEST(WindowLocator, AttachesInlineChainsInnermostFirst) {
  const auto insns = debian_slice();
  const auto it = std::find_if(insns.begin(), insns.end(), [](const Instruction& i) { return i.address == 0xffffffff812df8a6; });
  ASSERT_NE(it, insns.end());
  ASSERT_GE(it->inlines.size(), 3u);
  EXPECT_EQ(it->inlines[0].function, "pmd_read_atomic");
  EXPECT_EQ(it->inlines[0].line, "include/linux/pgtable.h:1370");
  EXPECT_EQ(it->inlines[1].function, "pmd_none_or_clear_bad_unless_trans_huge");
  EXPECT_EQ(it->inlines[2].function, "change_pmd_range");
  EXPECT_EQ(it->inlines.back().function, "change_protection");
}

TEST(WindowLocator, FindsTheRereadInDebians61) {
  const WindowPoint w = find_window(debian_slice(), "change_protection", kDebianChangeProtection, "debian-6.1");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kReread);
  ASSERT_FALSE(w.offsets.empty());
  EXPECT_EQ(w.offsets.front(), 0xee6u);
  EXPECT_EQ(w.ptr_reg, "r12");
  EXPECT_EQ(w.val_reg, "");
  EXPECT_EQ(w.where(), "change_protection+0xee6");
  EXPECT_NE(w.source.find("include/linux/pgtable.h:1370 (pmd_read_atomic in pmd_none_or_clear_bad_unless_trans_huge)"),
            std::string::npos)
      << w.source;
  const auto params = w.module_params();
  EXPECT_NE(std::find(params.begin(), params.end(), "ptr_reg=r12"), params.end());
  EXPECT_NE(std::find(params.begin(), params.end(), "symbol=change_protection"), params.end());
  EXPECT_NE(w.describe().find("outside: kprobe at change_protection+0xee6"), std::string::npos) << w.describe();
}

TEST(WindowLocator, ASingleReadIsTheFixedShapeProbedAfterTheRead) {
  // The re-read's caller renamed to change_pmd_range(): the shape of a
  // kernel that reads the pmd once and decides on that value.
  auto insns = debian_slice();
  for (auto& i : insns)
    for (auto& f : i.inlines)
      if (f.function == "pmd_none_or_clear_bad_unless_trans_huge") f.function = "change_pmd_range";
  const WindowPoint w = find_window(insns, "change_protection", kDebianChangeProtection, "k");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kSingle);
  EXPECT_EQ(w.val_reg, "di");  // the value read into %rdi
  ASSERT_FALSE(w.offsets.empty());
  EXPECT_EQ(w.offsets.front(), 0xeeau);  // the instruction after the 4-byte load
}

TEST(WindowLocator, TheBackportsSingleReadIsTheLoadOfThePmdNotOfItsPointer) {
  // numasoak's 6.1.192 + backport (6.1+backport-bare): `mov (%rsp),%rax`
  // reloads the pmd pointer (inlined from pmd_read_atomic() too), then
  // `mov (%rax),%r14` reads the pmd. The delay goes after the latter.
  const auto dir = test::fixtures() / "window";
  auto insns = parse_objdump(read_file(dir / "numasoak-6.1.192-backport-change_protection.objdump"));
  attach_inlines(insns, read_file(dir / "numasoak-6.1.192-backport-change_protection.addr2line"));
  const WindowPoint w = find_window(insns, "change_protection", 0xffffffff81129e50, "6.1+backport-bare");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kSingle);
  EXPECT_EQ(w.val_reg, "r14");
  ASSERT_FALSE(w.offsets.empty());
  EXPECT_EQ(w.offsets.front(), 0xd67u);
}

TEST(WindowLocator, ABinaryWithoutDwarfIsRefusedNamingWhatWouldProvideIt) {
  try {
    find_window(debian_slice(false), "change_protection", kDebianChangeProtection, "mykernel");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.message();
    EXPECT_NE(m.find("mykernel"), std::string::npos) << m;
    EXPECT_NE(m.find("DWARF"), std::string::npos) << m;
    EXPECT_NE(e.hint().find("CONFIG_DEBUG_INFO_DWARF5"), std::string::npos) << e.hint();
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

TEST(WindowLocator, AnUnknownShapeIsRefused) {
  auto insns = debian_slice();
  for (auto& i : insns)
    for (auto& f : i.inlines)
      if (f.function == "pmd_read_atomic") f.function = "something_else";
  EXPECT_THROW(find_window(insns, "change_protection", kDebianChangeProtection, "k"), Error);
}

TEST(WindowLocator, ABuildWhoseCompilerMergedTheReadsHasNoWindowAndIsRefused) {
  // numasoak's 6.1.192 tinyconfig build without PARAVIRT_XXL: gcc merged
  // is_swap_pmd(*pmd), pmd_devmap(*pmd) and pmd_read_atomic(pmd) into one
  // load; pmd_none_or_clear_bad_unless_trans_huge() is inlined but reads nothing.
  const auto dir = test::fixtures() / "window";
  auto insns = parse_objdump(read_file(dir / "numasoak-6.1.192-nopvxxl-change_protection.objdump"));
  attach_inlines(insns, read_file(dir / "numasoak-6.1.192-nopvxxl-change_protection.addr2line"));
  ASSERT_TRUE(std::any_of(insns.begin(), insns.end(), [](const Instruction& i) {
    return std::any_of(i.inlines.begin(), i.inlines.end(), [](const Instruction::Frame& f) {
      return f.function == "pmd_none_or_clear_bad_unless_trans_huge";
    });
  }));
  try {
    find_window(insns, "change_protection", 0xffffffff8111a2c0, "6.1-bare");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no known race-window shape"), std::string::npos) << e.message();
  }
}

TEST(WindowLocator, AMissingVmlinuxIsRefusedBeforeAnyToolRuns) {
  test::TempDir t;
  try {
    locate_window(t.path() / "vmlinux", "k");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no vmlinux"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace numasoak::kernel
