// Stack frames with source lines: `change_pmd_range.isra.0+0x34d/0x3a7`
// decoded to `mm/mprotect.c:367` with its inlined callers, the way the
// kernel's scripts/faddr2line and decode_stacktrace.sh do it, from the
// build's vmlinux and binutils (`nm -S`, `addr2line -a -f -i`): no DWARF is
// parsed here. The tools run as argv vectors through kernel/tool's
// Boost.Asio process helper; their output is read line by line and bounded.
//
// Frame text comes from the guest console: untrusted. parse_frame accepts
// only `[? ]symbol+0xOFF/0xSIZE[ [module]]` with a bounded symbol name made
// of [A-Za-z0-9_.$]; anything else is not a frame.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;  // only a reference here: no Boost.Asio in every includer
}

namespace numasoak::symbolize {

/// One frame as the kernel prints it.
struct FrameRef {
  std::string function;      // "change_pmd_range.isra.0"
  std::uint64_t offset = 0;  // 0x34d
  std::uint64_t size = 0;    // 0x3a7
  std::string module;        // "[nfs]" -> "nfs"; empty for vmlinux
  bool reliable = true;      // false for "? fn+..." (a stale stack word)
  std::string text() const;  // "change_pmd_range.isra.0+0x34d/0x3a7"
};

// The frame in a console line ("[ 2.25][ T57]  ? change_protection+0x675/0x1850"),
// or nullopt when the line holds none. "RIP: 0010:fn+0x1/0x2" counts too.
std::optional<FrameRef> parse_frame(std::string_view line);

// Every frame of a report, in order, without repeats of the same text.
std::vector<FrameRef> frames_of_report(std::string_view report, std::size_t max_frames = 64);

/// One source location: the function whose code it is, and where.
struct SourceLine {
  std::string function;  // "change_pmd_range"
  std::string file;      // "mm/mprotect.c" (relative to the source root when known); "??" unknown
  int line = 0;          // 0 unknown
  bool known() const { return file != "??" && !file.empty() && line > 0; }
};

// `addr2line -a -f -i` output: for each address line "0x...", the
// function/file:line pairs, innermost (the inlined code) first, the function
// that contains them last. " (discriminator N)" is dropped; paths starting
// with `source_root` are made relative to it. Throws std::invalid_argument on
// output that does not have that shape (a line pair cut short).
/// addr2line's answer for one address: its source lines, innermost first.
struct AddressLines {
  std::uint64_t address = 0;
  std::vector<SourceLine> lines;
};
std::vector<AddressLines> parse_addr2line(std::string_view output, const std::string& source_root = {});

// One `nm -S` line: "ffffffff8111a2c0 000000000000113b T change_protection".
// nullopt for lines without a size (absolute symbols) or of another shape.
/// One symbol as `nm -S` lists it: name, address, size and type letter.
struct Symbol {
  std::string name;
  std::uint64_t address = 0;
  std::uint64_t size = 0;
  char type = '?';
};
std::optional<Symbol> parse_nm_line(std::string_view line);

/// A frame with what it decoded to.
struct Decoded {
  FrameRef frame;
  std::uint64_t address = 0;       // symbol + offset in vmlinux; 0 when not found
  std::vector<SourceLine> lines;   // innermost first; empty when not decoded
  std::string note;                // why not decoded ("not in vmlinux", "size differs: ...", "no debug info")
};

/// Decodes a report's frames to source lines against one build's vmlinux, with nm and addr2line.
class Symbolizer {
 public:
  // `source_root`: the tree vmlinux was built from, stripped from file names
  // (default: <vmlinux dir>/../tree, numasoak's work-tree layout, when it exists).
  Symbolizer(boost::asio::io_context& io, std::filesystem::path vmlinux, std::filesystem::path source_root = {});

  // Decodes frames of vmlinux (module frames get a note): one `nm` and one
  // `addr2line` for all of them. Throws an infrastructure Error when the
  // tools cannot run, a usage Error when vmlinux is not a readable ELF.
  std::vector<Decoded> decode(const std::vector<FrameRef>& frames);

 private:
  boost::asio::io_context& io_;
  std::filesystem::path vmlinux_;
  std::string source_root_;
};

// "change_pmd_range.isra.0+0x34d/0x3a7 (mm/mprotect.c:367 change_pmd_range, inlined in
// change_protection mm/mprotect.c:514)"; the note when not decoded.
std::string format_decoded(const Decoded& d);

// The vmlinux numasoak kept for a kernel artifact folder
// (~/.cache/numasoak/kernels/<key>/): its `vmlinux` if it has one, else
// empty. Callers may also take a user's --vmlinux.
std::filesystem::path vmlinux_of_artifact(const std::filesystem::path& artifact_dir);

}  // namespace numasoak::symbolize
