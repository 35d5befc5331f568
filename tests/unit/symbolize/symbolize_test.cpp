// The frame parser, the nm and addr2line output parsers (on a real captured
// addr2line run over numasoak's 6.1.192 build with DWARF), and the symbolizer
// on a real vmlinux when this machine has one with debug info.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "kernel/tool.h"
#include "symbolize/symbolize.h"
#include <fmt/format.h>

namespace numasoak::symbolize {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ParseFrame, KernelFramesWithPrefixesModulesAndUnreliableMarks) {
  auto f = parse_frame("[    2.258102][   T57]  change_pmd_range.isra.0+0x34d/0x3a7");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->function, "change_pmd_range.isra.0");
  EXPECT_EQ(f->offset, 0x34du);
  EXPECT_EQ(f->size, 0x3a7u);
  EXPECT_TRUE(f->reliable);
  EXPECT_EQ(f->text(), "change_pmd_range.isra.0+0x34d/0x3a7");

  f = parse_frame("[   58.172645][   T56]  ? change_protection+0x675/0x1850");
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->reliable);
  EXPECT_EQ(f->function, "change_protection");

  f = parse_frame("[   12.1] RIP: 0010:change_protection+0x2b1/0x1850");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, 0x2b1u);

  f = parse_frame(" nfs_file_write+0x10/0x200 [nfs]");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->module, "nfs");
}

TEST(ParseFrame, LinesThatAreNotFramesAreRejected) {
  for (const char* line : {"", "mm/pgtable-generic.c:51: bad pmd (____ptrval____)(e7fffffff7dbfe04)", "Call Trace:",
                           "<TASK>", "fn+0x1", "fn+0x1/0x0", "fn+zz/0x10", "fn+0x1/0x10 and some text",
                           "f\x1b[2Jn+0x1/0x10", "fn+0x1/0x10 [bad module!]"}) {
    EXPECT_FALSE(parse_frame(line)) << line;
  }
  EXPECT_FALSE(parse_frame(std::string(300, 'a') + "+0x1/0x10"));  // symbol names are bounded
}

TEST(ParseFrame, ReportFramesInOrderWithoutRepeats) {
  const std::string report =
      "[ 58.1] Call Trace:\n[ 58.1]  <TASK>\n[ 58.1]  dump_stack_lvl+0x4c/0x5f\n[ 58.1]  ? __lock_acquire+0xc0/0x32a0\n"
      "[ 58.1]  ? __lock_acquire+0xc0/0x32a0\n[ 58.1]  __lock_acquire+0xc0/0x32a0\n[ 58.1]  change_protection+0x675/0x1850\n";
  const auto frames = frames_of_report(report);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].function, "dump_stack_lvl");
  EXPECT_FALSE(frames[1].reliable);
  EXPECT_TRUE(frames[2].reliable);
  EXPECT_EQ(frames[3].function, "change_protection");
  EXPECT_EQ(frames_of_report(report, 2).size(), 2u);
}

TEST(ParseAddr2line, RealOutputWithInlinedFramesInnermostFirst) {
  // addr2line -a -f -i -e vmlinux 0xffffffff8111a60d 0xffffffff8111a2c0 on
  // numasoak's 6.1.192 build with DWARF (change_protection+0x34d, +0).
  const std::string out = slurp(fs::path(NUMASOAK_FIXTURES) / "symbolize" / "addr2line-6.1.192-change_protection.txt");
  ASSERT_FALSE(out.empty());
  const auto a = parse_addr2line(out, "/root/.cache/numasoak/src/linux-source-6.1_6.1.192-3-outside/tree");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].address, 0xffffffff8111a60du);
  ASSERT_EQ(a[0].lines.size(), 6u);
  EXPECT_EQ(a[0].lines[0].function, "uffd_wp_protect_file");
  EXPECT_EQ(a[0].lines[0].file, "mm/mprotect.c");
  EXPECT_EQ(a[0].lines[0].line, 320);
  EXPECT_EQ(a[0].lines[1].function, "change_pmd_range");
  EXPECT_EQ(a[0].lines[1].line, 367);
  EXPECT_EQ(a[0].lines[5].function, "change_protection");
  EXPECT_EQ(a[0].lines[5].line, 514);
  EXPECT_EQ(a[1].address, 0xffffffff8111a2c0u);
  ASSERT_EQ(a[1].lines.size(), 1u);
  EXPECT_EQ(a[1].lines[0].line, 505);

  Decoded d{{"change_protection", 0x34d, 0x113b, "", true}, a[0].address, a[0].lines, ""};
  const std::string text = format_decoded(d);
  EXPECT_EQ(text.rfind("change_protection+0x34d/0x113b (mm/mprotect.c:320 uffd_wp_protect_file, inlined in change_pmd_range mm/mprotect.c:367", 0), 0u) << text;
  EXPECT_NE(text.find(", in change_protection mm/mprotect.c:514)"), std::string::npos) << text;
}

TEST(ParseAddr2line, DiscriminatorsUnknownLinesAndBrokenOutput) {
  const auto a = parse_addr2line("0x10\nf\n/src/mm/a.c:12 (discriminator 3)\n0x20\n??\n??:0\n", "/src");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].lines[0].file, "mm/a.c");
  EXPECT_EQ(a[0].lines[0].line, 12);
  EXPECT_TRUE(a[0].lines[0].known());
  EXPECT_FALSE(a[1].lines[0].known());
  EXPECT_THROW(parse_addr2line("0x10\nf\n"), std::invalid_argument);           // a function without its line
  EXPECT_THROW(parse_addr2line("f\n/src/a.c:1\n"), std::invalid_argument);     // no address first
  EXPECT_THROW(parse_addr2line("0x10\nf\nno-colon\n"), std::invalid_argument);
}

TEST(ParseNm, SymbolsWithSizes) {
  auto s = parse_nm_line("ffffffff8111a2c0 000000000000113b T change_protection");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->address, 0xffffffff8111a2c0u);
  EXPECT_EQ(s->size, 0x113bu);
  EXPECT_EQ(s->type, 'T');
  EXPECT_EQ(s->name, "change_protection");
  EXPECT_FALSE(parse_nm_line("ffffffff82a00000 A __end_rodata"));  // no size
  EXPECT_FALSE(parse_nm_line("garbage"));
}

// A vmlinux with DWARF that numasoak built here (the kernels with the
// numasoak-outside fragment keep one), or NUMASOAK_TEST_VMLINUX.
fs::path dwarf_vmlinux() {
  if (const char* e = std::getenv("NUMASOAK_TEST_VMLINUX"); e && *e) return e;
  const char* home = std::getenv("HOME");
  if (!home) return {};
  const fs::path v = fs::path(home) / ".cache/numasoak/src/linux-source-6.1_6.1.192-3-outside/obj/vmlinux";
  // A work tree whose build has not linked vmlinux yet (or is linking it now).
  std::error_code ec;
  if (!fs::is_regular_file(v, ec) || fs::file_size(v, ec) == 0) return {};
  std::ifstream cfg(v.parent_path() / ".config");
  for (std::string l; std::getline(cfg, l);) {
    if (l == "CONFIG_DEBUG_INFO=y") return v;
  }
  return {};
}

TEST(Symbolizer, RealVmlinuxDecodesChangeProtectionToMprotectLines) {
  const fs::path v = dwarf_vmlinux();
  if (v.empty()) GTEST_SKIP() << "no 6.1 vmlinux with DWARF here (build a numasoak-outside kernel or set NUMASOAK_TEST_VMLINUX)";
  boost::asio::io_context io;
  Symbolizer s(io, v);
  // The size is the vmlinux's own, from nm (the work tree's vmlinux is the
  // last build of that tree: 0x113b, 0x10ef, ...); a frame with another size
  // is refused below.
  std::string size;
  for (std::istringstream nm(kernel::tool_output({"nm", "-S", "--defined-only", v.string()})); std::getline(nm, size);) {
    if (auto sym = parse_nm_line(size); sym && sym->name == "change_protection") {
      size = fmt::format("{:x}", sym->size);
      break;
    }
    size.clear();
  }
  ASSERT_FALSE(size.empty()) << "no change_protection in " << v;
  std::vector<FrameRef> frames = {*parse_frame("change_protection+0x34d/0x" + size), *parse_frame("no_such_function_here+0x1/0x10"),
                                  *parse_frame("change_protection+0x34d/0x99"), *parse_frame("nfs_write+0x1/0x10 [nfs]")};
  const auto d = s.decode(frames);
  ASSERT_EQ(d.size(), 4u);
  if (d[0].lines.empty()) GTEST_FAIL() << d[0].note;
  bool mprotect = false, pmd_range = false;
  for (const auto& l : d[0].lines) {
    mprotect = mprotect || (l.file == "mm/mprotect.c" && l.line > 0);
    pmd_range = pmd_range || l.function == "change_pmd_range";
  }
  EXPECT_TRUE(mprotect) << format_decoded(d[0]);
  EXPECT_TRUE(pmd_range) << format_decoded(d[0]);
  EXPECT_EQ(d[0].lines.back().function, "change_protection");
  EXPECT_EQ(d[1].note, "not in vmlinux");
  EXPECT_NE(d[2].note.find("size differs"), std::string::npos) << d[2].note;
  EXPECT_NE(d[3].note.find("module"), std::string::npos);
}

TEST(Symbolizer, NotAVmlinuxIsAOneLineUsageError) {
  boost::asio::io_context io;
  const fs::path f = fs::temp_directory_path() / ("numasoak-not-vmlinux-" + std::to_string(::getpid()));
  std::ofstream(f) << "not an ELF\n";
  Symbolizer s(io, f);
  try {
    s.decode({*parse_frame("change_protection+0x1/0x10")});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find(f.string()), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
  fs::remove(f);
  EXPECT_THROW(s.decode({}), Error);  // the file is gone
}

}  // namespace
}  // namespace numasoak::symbolize
