#include "kernel/window.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <optional>
#include <regex>

#include "common/error.h"
#include "kernel/tool.h"

namespace fs = std::filesystem;

namespace numasoak::kernel {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "%rax" -> "ax", "%r12" -> "r12"; "" for what pt_regs cannot name here.
std::string pt_regs_name(std::string_view reg) {
  static const char* const kLegacy[][2] = {{"rax", "ax"}, {"rbx", "bx"}, {"rcx", "cx"}, {"rdx", "dx"},
                                           {"rsi", "si"}, {"rdi", "di"}, {"rbp", "bp"}};
  for (const auto& m : kLegacy)
    if (reg == m[0]) return m[1];
  static const std::regex r("r(8|9|1[0-5])");
  if (std::regex_match(reg.begin(), reg.end(), r)) return std::string(reg);
  return "";
}

// A source path relative to the kernel tree: ".../tree/mm/mprotect.c:312" -> "mm/mprotect.c:312".
std::string tree_relative(std::string_view path) {
  if (auto d = path.find(" (discriminator"); d != std::string_view::npos) path = path.substr(0, d);
  static const char* const kTop[] = {"/include/", "/mm/", "/arch/", "/kernel/", "/lib/", "/fs/", "/drivers/"};
  std::size_t best = std::string_view::npos;
  for (const char* t : kTop) {
    auto p = path.rfind(t);
    if (p != std::string_view::npos && (best == std::string_view::npos || p < best)) best = p;
  }
  return std::string(best == std::string_view::npos ? path : path.substr(best + 1));
}

bool is_pmd_read_helper(const std::string& fn) {
  return fn == "pmd_read_atomic" || fn == "pmdp_get_lockless" || fn == "pmdp_get" || fn == "native_pmd_val" ||
         fn == "pmd_val";
}

// "(%rax),%rdx" or "0x0(%rax),%rdx": {base, dest} as AT&T names without '%'.
std::optional<std::pair<std::string, std::string>> plain_load(const Instruction& i) {
  if (i.mnemonic != "mov") return std::nullopt;
  static const std::regex r(R"(^(?:0x0)?\(%(\w+)\),%(r\w+)$)");
  std::smatch m;
  if (!std::regex_match(i.operands, m, r)) return std::nullopt;
  return std::make_pair(m[1].str(), m[2].str());
}

// The first frame outside the pmd-read helpers, the helper's caller.
const Instruction::Frame* caller_of_read(const Instruction& i) {
  for (std::size_t k = 0; k < i.inlines.size(); ++k) {
    if (!is_pmd_read_helper(i.inlines[k].function)) return k == 0 ? nullptr : &i.inlines[k];
  }
  return nullptr;
}

// In change_pmd_range()'s own code, not in the pte-level walk it calls.
// Inner frames may name a helper the load does not belong to (DWARF puts
// copies of the backport's read in uffd_wp_protect_file()); continuation()
// is what tells a copy apart.
bool inside_change_pmd_range(const Instruction& i) {
  for (const auto& f : i.inlines) {
    if (f.function == "change_pmd_range") return true;
    if (f.function == "change_pte_range") return false;
  }
  return false;
}

// What the code does with a load's value next: the first `n` instructions
// after insns[at], following unconditional jumps (gcc's copies of one read
// jump back into the shared path). Two loads with the same continuation
// are copies of one source-level read.
std::vector<std::string> continuation(const std::vector<Instruction>& insns, std::size_t at, std::size_t n) {
  std::vector<std::string> out;
  std::size_t k = at + 1;
  for (int hops = 0; k < insns.size() && out.size() < n && hops < 4;) {
    const auto& i = insns[k];
    if (i.mnemonic == "jmp") {
      auto target = parse_hex(i.operands);
      auto it = target ? std::find_if(insns.begin(), insns.end(), [&](const Instruction& x) { return x.address == *target; })
                       : insns.end();
      if (it == insns.end()) break;
      k = static_cast<std::size_t>(it - insns.begin());
      ++hops;
      continue;
    }
    out.push_back(i.mnemonic + " " + i.operands);
    ++k;
  }
  return out;
}

// "include/linux/pgtable.h:326 (pmdp_get in pmdp_get_lockless in change_pmd_range)":
// the innermost line, then the read helpers out to their caller.
std::string frame_text(const Instruction& i) {
  if (i.inlines.empty()) return "";
  std::string s = i.inlines.front().line + " (" + i.inlines.front().function;
  for (std::size_t k = 1; k < i.inlines.size(); ++k) {
    s += " in " + i.inlines[k].function;
    if (!is_pmd_read_helper(i.inlines[k].function)) break;
  }
  return s + ")";
}

}  // namespace

const char* to_string(WindowPoint::Shape s) { return s == WindowPoint::Shape::kReread ? "reread" : "single"; }

std::string WindowPoint::where() const {
  return fmt::format("{}+0x{:x}", symbol, offsets.empty() ? 0 : offsets.front());
}

std::string WindowPoint::describe() const {
  const std::string more = offsets.size() > 1 ? fmt::format(" and {} copies", offsets.size() - 1) : "";
  return fmt::format("outside: kprobe at {}{} ({}), {}", where(), more, source,
                     shape == Shape::kReread ? "before the re-read" : "after the single read");
}

std::vector<std::string> WindowPoint::module_params() const {
  std::string offs;
  for (auto o : offsets) offs += fmt::format("{}0x{:x}", offs.empty() ? "" : ",", o);
  std::vector<std::string> p{"symbol=" + symbol, "offsets=" + offs};
  if (!ptr_reg.empty()) p.push_back("ptr_reg=" + ptr_reg);
  if (!val_reg.empty()) p.push_back("val_reg=" + val_reg);
  if (std::any_of(ptr_regs.begin(), ptr_regs.end(), [](const std::string& r) { return !r.empty(); })) {
    std::string regs;
    for (const auto& r : ptr_regs) regs += (regs.empty() ? "" : ",") + (r.empty() ? std::string("-") : r);
    p.push_back("ptr_regs=" + regs);
  }
  return p;
}

std::vector<Instruction> parse_objdump(std::string_view text) {
  // "ffffffff8110e377:\tmov    (%rax),%rax"
  std::vector<Instruction> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto colon = line.find(":\t");
    if (colon == std::string_view::npos) continue;
    auto addr = parse_hex(trim(line.substr(0, colon)));
    if (!addr) continue;
    std::string_view rest = trim(line.substr(colon + 2));
    if (auto c = rest.find('#'); c != std::string_view::npos) rest = trim(rest.substr(0, c));
    if (auto c = rest.find(" <"); c != std::string_view::npos) rest = trim(rest.substr(0, c));
    Instruction i;
    i.address = *addr;
    auto sp = rest.find_first_of(" \t");
    i.mnemonic = std::string(rest.substr(0, sp));
    if (sp != std::string_view::npos) i.operands = std::string(trim(rest.substr(sp)));
    if (i.mnemonic.empty()) continue;
    out.push_back(std::move(i));
  }
  return out;
}

void attach_inlines(std::vector<Instruction>& insns, std::string_view text) {
  // addr2line -a -f -i: "0x<addr>" then (function, file:line) pairs, innermost first.
  std::size_t idx = 0;
  bool have = false;
  std::string pending_fn;
  bool want_line = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.starts_with("0x")) {
      auto a = parse_hex(line);
      have = false;
      while (a && idx < insns.size() && insns[idx].address < *a) ++idx;
      if (a && idx < insns.size() && insns[idx].address == *a) {
        have = true;
        insns[idx].inlines.clear();
      }
      want_line = false;
      continue;
    }
    if (!have) continue;
    if (!want_line) {
      pending_fn = std::string(line);
      want_line = true;
    } else {
      if (pending_fn != "??") insns[idx].inlines.push_back({pending_fn, tree_relative(line)});
      want_line = false;
    }
  }
}

WindowPoint find_window(const std::vector<Instruction>& insns, const std::string& symbol, std::uint64_t start,
                        const std::string& kernel) {
  const bool any_lines = std::any_of(insns.begin(), insns.end(), [](const Instruction& i) { return !i.inlines.empty(); });
  if (!any_lines) {
    throw usage_error(fmt::format("kernel {}: {} has no DWARF line information to locate the race window", kernel, symbol),
                      "build it with CONFIG_DEBUG_INFO_DWARF5 (images/kernel/numasoak-outside.config), or give "
                      "Debian's linux-image-<version>-dbg vmlinux");
  }
  WindowPoint w;
  w.symbol = symbol;
  // reread: pmd_read_atomic() inlined into pmd_none_or_clear_bad_unless_trans_huge().
  std::string base;
  for (const auto& i : insns) {
    auto load = plain_load(i);
    const auto* caller = caller_of_read(i);
    if (!load || !caller || caller->function != "pmd_none_or_clear_bad_unless_trans_huge") continue;
    const std::string reg = pt_regs_name(load->first);
    if (reg.empty()) continue;
    ++w.copies;
    if (w.offsets.empty()) {
      base = reg;
      w.ptr_reg = reg;
      w.source = frame_text(i);
    }
    if (reg == base && w.offsets.size() < 16) w.offsets.push_back(i.address - start);
  }
  if (!w.offsets.empty()) {
    w.shape = WindowPoint::Shape::kReread;
    return w;
  }
  // single: one read of the pmd whose caller is change_pmd_range() itself
  // (the anchor, named by DWARF), and every copy gcc made of it: a load into
  // the same register, in change_pmd_range(), that the code continues from
  // the same way (the backport's `goto again` paths each re-read the pmd and
  // jump back; DWARF may attribute those copies to a later source line).
  for (std::size_t n = 0; n < insns.size() && w.offsets.empty(); ++n) {
    const auto& i = insns[n];
    auto load = plain_load(i);
    const auto* caller = caller_of_read(i);
    if (!load || !caller || caller->function != "change_pmd_range") continue;
    // Not the reload of the pmd pointer from a stack slot: the pmd itself.
    const std::string val = pt_regs_name(load->second);
    if (val.empty() || pt_regs_name(load->first).empty()) continue;
    w.shape = WindowPoint::Shape::kSingle;
    w.val_reg = val;
    w.source = frame_text(i);
    const auto next = continuation(insns, n, 2);
    for (std::size_t k = 0; k < insns.size(); ++k) {
      auto copy = plain_load(insns[k]);
      if (!copy || copy->second != load->second || pt_regs_name(copy->first).empty()) continue;
      if (k != n && (!inside_change_pmd_range(insns[k]) || next.size() < 2 || continuation(insns, k, 2) != next)) continue;
      ++w.copies;
      if (w.offsets.size() >= 16) continue;
      w.offsets.push_back(insns[k].address - start);
      w.ptr_regs.push_back(copy->first == copy->second ? "" : pt_regs_name(copy->first));
    }
    // The anchor first: it is the read the source line names.
    auto anchor = std::find(w.offsets.begin(), w.offsets.end(), i.address - start);
    if (anchor != w.offsets.end()) {
      const auto at = anchor - w.offsets.begin();
      std::rotate(w.offsets.begin(), anchor, anchor + 1);
      std::rotate(w.ptr_regs.begin(), w.ptr_regs.begin() + at, w.ptr_regs.begin() + at + 1);
    }
  }
  if (!w.offsets.empty()) return w;
  throw usage_error(fmt::format("kernel {}: no known race-window shape in {} (no pmd read inlined from "
                                "pmd_none_or_clear_bad_unless_trans_huge() or change_pmd_range())",
                                kernel, symbol),
                    "numasoak knows 6.1.y's re-read and the single-read fix; use a source amplifier (amplifier = true)");
}

WindowPoint locate_window(const fs::path& vmlinux, const std::string& kernel) {
  std::error_code ec;
  if (!fs::is_regular_file(vmlinux, ec)) {
    throw usage_error(fmt::format("kernel {}: no vmlinux to locate the race window in ({} is missing)", kernel,
                                  vmlinux.string()),
                      "numasoak builds keep it; for Debian's kernel install linux-image-<version>-dbg");
  }
  // The function holding change_pmd_range(), most specific first.
  struct Sym {
    std::string name;
    std::uint64_t start = 0, size = 0;
  };
  std::vector<Sym> syms;
  {
    const std::string nm = tool_output({"nm", "-S", "--defined-only", vmlinux.string()});
    static const std::regex r(R"(^([0-9a-f]+) ([0-9a-f]+) [tT] (\S+)$)");
    std::size_t pos = 0;
    while (pos < nm.size()) {
      auto nl = nm.find('\n', pos);
      std::string line = nm.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? nm.size() : nl + 1;
      std::smatch m;
      if (!std::regex_match(line, m, r)) continue;
      const std::string name = m[3].str();
      if (name.starts_with("change_pmd_range") || name.starts_with("change_pud_range") ||
          name.starts_with("change_p4d_range") || name.starts_with("change_protection_range") ||
          name == "change_protection") {
        syms.push_back({name, *parse_hex(m[1].str()), *parse_hex(m[2].str())});
      }
    }
  }
  if (syms.empty()) {
    throw usage_error(fmt::format("kernel {}: {} has no symbol for change_protection() or change_pmd_range()", kernel,
                                  vmlinux.string()),
                      "give an unstripped vmlinux (numasoak builds keep one; Debian: linux-image-<version>-dbg)");
  }
  auto rank = [](const std::string& n) {
    for (int k = 0; const char* p : {"change_pmd_range", "change_pud_range", "change_p4d_range", "change_protection_range"}) {
      if (n.starts_with(p)) return k;
      ++k;
    }
    return 9;
  };
  std::stable_sort(syms.begin(), syms.end(), [&](const Sym& a, const Sym& b) { return rank(a.name) < rank(b.name); });
  std::optional<Error> last;
  for (const auto& s : syms) {
    const std::string dis = tool_output({"objdump", "-d", "--no-show-raw-insn", fmt::format("--start-address=0x{:x}", s.start),
                                         fmt::format("--stop-address=0x{:x}", s.start + s.size), vmlinux.string()});
    auto insns = parse_objdump(dis);
    if (insns.empty()) continue;
    std::vector<std::string> argv{"addr2line", "-a", "-f", "-i", "-e", vmlinux.string()};
    for (const auto& i : insns) argv.push_back(fmt::format("0x{:x}", i.address));
    attach_inlines(insns, tool_output(argv));
    try {
      return find_window(insns, s.name, s.start, kernel);
    } catch (const Error& e) {
      last = e;
    }
  }
  if (last) throw *last;
  throw usage_error(fmt::format("kernel {}: objdump found no instructions in change_protection()", kernel));
}

}  // namespace numasoak::kernel
