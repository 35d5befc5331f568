// The window locator: where, in a kernel binary, the change_pmd_range() race
// window is, so the outside amplifier (images/kmod/numasoak_widen/) can put
// its delay there without any patch to the kernel's source.
//
// It reads the binary the way a developer would with `objdump -d` and
// `addr2line -i`: every instruction of the function that holds
// change_pmd_range() (inlined into change_protection() in numasoak's 6.1
// builds, `change_pmd_range.isra.0` in others), with the chain of inlined
// functions and source lines it came from. Two shapes are known:
//
//   reread (unfixed 6.1.y): `is_swap_pmd(*pmd)`/`pmd_devmap(*pmd)` read the
//     pmd, then pmd_none_or_clear_bad_unless_trans_huge() reads it again
//     (pmd_read_atomic()) and clears a value it takes for bad. The delay goes
//     right before that re-read: the pointer is in the load's base register.
//   single (the backport, 6.12): change_pmd_range() reads the pmd once
//     (pmd_read_atomic() / pmdp_get_lockless()) and decides on that value. The
//     delay goes right after the read: the value is in the load's destination.
//
// gcc copies one source-level read into several paths (the backport's
// `goto again` paths each re-read the pmd and jump back into the shared
// code; DWARF attributes some copies to later lines). Every copy is a probe
// point: a copy left out is a path the delay never covers.
//
// A binary without DWARF line and inline information, or whose code has
// neither shape, is refused with one line naming what is missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::kernel {

/// The located window: what the widen module is loaded with.
struct WindowPoint {
  /// The code shape around the read: reread (unfixed 6.1.y reads the pmd again) or single (backport, 6.12).
  enum class Shape { kReread, kSingle };
  Shape shape = Shape::kReread;
  std::string symbol;                  // the function the offsets are in: "change_protection"
  std::vector<std::uint64_t> offsets;  // every copy of the read, the one DWARF names first (the module probes each)
  std::string ptr_reg;                 // pt_regs name ("ax") holding the pmd pointer at the point, or ""
  std::string val_reg;                 // pt_regs name holding the pmd value read, or ""
  std::vector<std::string> ptr_regs;   // single: per offset, the register still holding the pmd pointer after
                                       // the load ("" when the load overwrote it): for the landed counter
  std::string source;                  // "include/linux/pgtable.h:1402 (pmd_read_atomic in pmd_none_or_clear_bad_unless_trans_huge)"
  int copies = 0;                      // copies of the read found (offsets holds at most 16)

  /// "change_protection+0x3e6".
  std::string where() const;
  /// "outside: kprobe at change_protection+0x3e6 and 2 copies (include/linux/pgtable.h:1402), before the re-read".
  std::string describe() const;
  /// The module's parameters: {"symbol=...", "offsets=0x..,0x..", "ptr_reg=ax", ...}.
  std::vector<std::string> module_params() const;
};
const char* to_string(WindowPoint::Shape s);

/// One instruction as objdump printed it, with addr2line's inline chain
/// (innermost first: {"pmd_read_atomic", "include/linux/pgtable.h:1402"}, ...).
struct Instruction {
  std::uint64_t address = 0;
  std::string mnemonic;  // "mov"
  std::string operands;  // "(%rax),%rax"
  /// One function of the inline chain and its source line.
  struct Frame {
    std::string function;
    std::string line;  // "mm/mprotect.c:312", discriminators dropped
  };
  std::vector<Frame> inlines;
};

/// Pure: `objdump -d --no-show-raw-insn` text of one function -> instructions
/// (without their inline chains).
std::vector<Instruction> parse_objdump(std::string_view text);
/// Pure: attaches `addr2line -a -f -i` output (in the order of `insns`) to them.
void attach_inlines(std::vector<Instruction>& insns, std::string_view addr2line_text);

/// Pure: finds the window in `insns` (with inline chains) of `symbol`, which
/// starts at `start`. Throws a one-line usage Error naming `kernel` when no
/// known shape is there.
WindowPoint find_window(const std::vector<Instruction>& insns, const std::string& symbol, std::uint64_t start,
                        const std::string& kernel);

/// Runs nm, objdump and addr2line on `vmlinux` (argv vectors) and finds the
/// window. Throws a one-line Error when the file, its symbols or its DWARF are
/// missing, naming what would provide them.
WindowPoint locate_window(const std::filesystem::path& vmlinux, const std::string& kernel);

}  // namespace numasoak::kernel
