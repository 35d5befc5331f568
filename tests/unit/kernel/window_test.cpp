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
  // The load itself: the module's post-handler delays after it has run.
  EXPECT_EQ(w.offsets.front(), 0xee6u);
  EXPECT_NE(w.describe().find("after the single read"), std::string::npos) << w.describe();
}

std::vector<Instruction> backport_function() {
  // numasoak's 6.1.192 + backport (6.1+backport-bare), all of change_protection().
  const auto dir = test::fixtures() / "window";
  auto insns = parse_objdump(read_file(dir / "numasoak-6.1.192-backport-change_protection.objdump"));
  attach_inlines(insns, read_file(dir / "numasoak-6.1.192-backport-change_protection.addr2line"));
  return insns;
}

TEST(WindowLocator, TheBackportsSingleReadIsTheLoadOfThePmdNotOfItsPointer) {
  // `mov (%rsp),%rax` reloads the pmd pointer (inlined from pmd_read_atomic()
  // too), then `mov (%rax),%r14` reads the pmd: the load DWARF names is the latter.
  const WindowPoint w = find_window(backport_function(), "change_protection", 0xffffffff81129e50, "6.1+backport-bare");
  EXPECT_EQ(w.shape, WindowPoint::Shape::kSingle);
  EXPECT_EQ(w.val_reg, "r14");
  ASSERT_FALSE(w.offsets.empty());
  EXPECT_EQ(w.offsets.front(), 0xd64u);
  EXPECT_NE(w.source.find("pmd_read_atomic in change_pmd_range"), std::string::npos) << w.source;
}

TEST(WindowLocator, EveryCopyOfTheBackportsReadIsAProbePoint) {
  // gcc copied `_pmd = pmd_read_atomic(pmd)` into each path that reaches
  // `again:`; DWARF names only one of them (+0xd64, on the `goto again` path)
  // and puts the main path's copy (+0x3c7, `mov (%rax),%r14` then the
  // pmd_none mask) on line 387. A delay at +0xd64 alone was never taken in
  // a 60 s run: every copy must be probed.
  const WindowPoint w = find_window(backport_function(), "change_protection", 0xffffffff81129e50, "6.1+backport-bare");
  const std::vector<std::uint64_t> want = {0xd64, 0x3c7, 0x94d, 0xa4c, 0xa7f, 0xaa6, 0xac4, 0xd89, 0xd9e};
  for (auto o : want)
    EXPECT_NE(std::find(w.offsets.begin(), w.offsets.end(), o), w.offsets.end()) << std::hex << "+0x" << o << " missing";
  EXPECT_EQ(w.copies, static_cast<int>(w.offsets.size()));
  // Not a copy: other loads into %r14 in the function, e.g. the pmd pointer
  // reloaded from the stack (`mov (%rsp),%r14`, +0xa34) or the reads of change_pte_range().
  EXPECT_EQ(std::find(w.offsets.begin(), w.offsets.end(), 0xa34u), w.offsets.end());
  EXPECT_LE(w.offsets.size(), 10u);
  // Per copy, where the pmd pointer still is after the load, for the landed
  // counter: %rax after `mov (%rax),%r14`, nowhere after `mov (%r14),%r14`.
  ASSERT_EQ(w.ptr_regs.size(), w.offsets.size());
  EXPECT_EQ(w.ptr_regs.front(), "ax");
  const auto at = std::find(w.offsets.begin(), w.offsets.end(), 0xa4cu) - w.offsets.begin();
  EXPECT_EQ(w.ptr_regs[static_cast<std::size_t>(at)], "");
  const auto params = w.module_params();
  const auto regs = std::find_if(params.begin(), params.end(), [](const std::string& p) { return p.starts_with("ptr_regs="); });
  ASSERT_NE(regs, params.end());
  EXPECT_NE(regs->find("ax,"), std::string::npos) << *regs;
  EXPECT_NE(regs->find("-"), std::string::npos) << *regs;
  EXPECT_NE(w.describe().find("and " + std::to_string(w.offsets.size() - 1) + " copies"), std::string::npos) << w.describe();
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
