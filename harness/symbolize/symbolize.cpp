#include "symbolize/symbolize.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <map>
#include <set>
#include <stdexcept>

#include "common/error.h"
#include "kernel/tool.h"  // Boost.Asio, here only

namespace numasoak::symbolize {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSymbolName = 256;
constexpr std::size_t kMaxInlineDepth = 64;  // addr2line pairs kept per address

bool symbol_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$';
}

std::optional<std::uint64_t> hex(std::string_view s) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Parses "sym+0xOFF/0xSIZE" at the start of `s`; the rest goes to `rest`.
std::optional<FrameRef> parse_at(std::string_view s, std::string_view& rest) {
  std::size_t i = 0;
  while (i < s.size() && i <= kMaxSymbolName && symbol_char(s[i])) ++i;
  if (i == 0 || i > kMaxSymbolName || i + 3 >= s.size() || s[i] != '+') return std::nullopt;
  FrameRef f;
  f.function = std::string(s.substr(0, i));
  const std::size_t slash = s.find('/', i);
  if (slash == std::string_view::npos) return std::nullopt;
  std::size_t end = slash + 1;
  while (end < s.size() && std::isxdigit(static_cast<unsigned char>(s[end])) != 0) ++end;
  if (end < s.size() && s[end] == 'x' && end == slash + 2) {  // "0x"
    ++end;
    while (end < s.size() && std::isxdigit(static_cast<unsigned char>(s[end])) != 0) ++end;
  }
  const auto off = hex(s.substr(i + 1, slash - i - 1));
  const auto size = hex(s.substr(slash + 1, end - slash - 1));
  if (!off || !size || *size == 0) return std::nullopt;
  f.offset = *off;
  f.size = *size;
  rest = s.substr(end);
  return f;
}

}  // namespace

std::string FrameRef::text() const {
  return fmt::format("{}+0x{:x}/0x{:x}{}", function, offset, size, module.empty() ? "" : " [" + module + "]");
}

std::optional<FrameRef> parse_frame(std::string_view line) {
  // Past the printk prefixes "[    2.258102][   T57]".
  while (true) {
    line = trim(line);
    if (!line.starts_with('[')) break;
    const auto close = line.find(']');
    if (close == std::string_view::npos || close > 40) break;
    line.remove_prefix(close + 1);
  }
  bool reliable = true;
  if (line.starts_with("RIP: ")) {
    line.remove_prefix(5);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon <= 4) line.remove_prefix(colon + 1);
  } else if (line.starts_with("? ")) {
    reliable = false;
    line.remove_prefix(2);
  }
  std::string_view rest;
  auto f = parse_at(line, rest);
  if (!f) return std::nullopt;
  f->reliable = reliable;
  rest = trim(rest);
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view mod = rest.substr(1, close - 1);
    if (mod.empty() || mod.size() > 64 || !std::all_of(mod.begin(), mod.end(), symbol_char)) return std::nullopt;
    f->module = std::string(mod);
    rest = trim(rest.substr(close + 1));
  }
  if (!rest.empty()) return std::nullopt;  // "fn+0x1/0x2 and more text" is not a frame line
  return f;
}

std::vector<FrameRef> frames_of_report(std::string_view report, std::size_t max_frames) {
  std::vector<FrameRef> out;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start < report.size() && out.size() < max_frames) {
    std::size_t end = report.find('\n', start);
    if (end == std::string_view::npos) end = report.size();
    if (auto f = parse_frame(report.substr(start, end - start))) {
      const std::string key = (f->reliable ? "" : "? ") + f->text();
      if (seen.insert(key).second) out.push_back(std::move(*f));
    }
    start = end + 1;
  }
  return out;
}

std::vector<AddressLines> parse_addr2line(std::string_view output, const std::string& source_root) {
  std::vector<AddressLines> out;
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < output.size();) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    lines.push_back(trim(output.substr(start, end - start)));
    start = end + 1;
  }
  std::size_t i = 0;
  while (i < lines.size()) {
    if (lines[i].empty()) {
      ++i;
      continue;
    }
    const auto addr = lines[i].starts_with("0x") ? hex(lines[i]) : std::nullopt;
    if (!addr) throw std::invalid_argument(fmt::format("addr2line output line {}: expected an address (0x...), got '{}'", i + 1, lines[i].substr(0, 80)));
    AddressLines a;
    a.address = *addr;
    ++i;
    while (i < lines.size() && !lines[i].starts_with("0x")) {
      if (i + 1 >= lines.size()) throw std::invalid_argument(fmt::format("addr2line output line {}: a function without its file:line", i + 1));
      SourceLine s;
      s.function = std::string(lines[i]);
      std::string_view loc = lines[i + 1];
      if (const auto d = loc.find(" (discriminator"); d != std::string_view::npos) loc = loc.substr(0, d);
      const auto colon = loc.rfind(':');
      if (colon == std::string_view::npos) throw std::invalid_argument(fmt::format("addr2line output line {}: '{}' is not file:line", i + 2, loc.substr(0, 80)));
      s.file = std::string(loc.substr(0, colon));
      int n = 0;
      const std::string_view num = loc.substr(colon + 1);
      const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
      s.line = (ec == std::errc() && p == num.data() + num.size()) ? n : 0;
      if (!source_root.empty() && s.file.starts_with(source_root + "/")) s.file = s.file.substr(source_root.size() + 1);
      if (a.lines.size() < kMaxInlineDepth) a.lines.push_back(std::move(s));
      i += 2;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::optional<Symbol> parse_nm_line(std::string_view line) {
  line = trim(line);
  const auto s1 = line.find(' ');
  if (s1 == std::string_view::npos) return std::nullopt;
  const auto s2 = line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos) return std::nullopt;
  const auto s3 = line.find(' ', s2 + 1);
  if (s3 == std::string_view::npos || s3 != s2 + 2) return std::nullopt;
  const auto addr = hex(line.substr(0, s1));
  const auto size = hex(line.substr(s1 + 1, s2 - s1 - 1));
  if (!addr || !size) return std::nullopt;
  Symbol s;
  s.address = *addr;
  s.size = *size;
  s.type = line[s2 + 1];
  s.name = std::string(line.substr(s3 + 1));
  if (s.name.empty() || s.name.size() > kMaxSymbolName) return std::nullopt;
  return s;
}

Symbolizer::Symbolizer(boost::asio::io_context& io, fs::path vmlinux, fs::path source_root) : io_(io), vmlinux_(std::move(vmlinux)) {
  std::error_code ec;
  if (source_root.empty()) {
    const fs::path guess = vmlinux_.parent_path().parent_path() / "tree";
    if (fs::is_directory(guess, ec)) source_root = guess;
  }
  if (!source_root.empty()) source_root_ = fs::weakly_canonical(source_root, ec).string();
}

std::vector<Decoded> Symbolizer::decode(const std::vector<FrameRef>& frames) {
  std::error_code ec;
  if (!fs::is_regular_file(vmlinux_, ec)) throw usage_error(fmt::format("vmlinux {} is not a file", vmlinux_.string()));
  std::vector<Decoded> out;
  std::set<std::string> wanted;
  for (const auto& f : frames) {
    out.push_back({f, 0, {}, ""});
    if (f.module.empty()) wanted.insert(f.function);
  }
  // 1. Symbol addresses and sizes: nm, keeping only the names asked for
  // (bounded by the frames, whatever the size of the symbol table).
  std::multimap<std::string, Symbol> symbols;
  std::string nm_err;
  kernel::ToolRun nm{{"nm", "-S", "--defined-only", vmlinux_.string()}, {}, {}, [&](std::string_view line, bool err) {
                       if (err) {
                         if (nm_err.size() < 400) nm_err += std::string(line.substr(0, 200)) + " ";
                         return;
                       }
                       auto s = parse_nm_line(line);
                       if (s && wanted.count(s->name) != 0 && symbols.count(s->name) < 16) symbols.emplace(s->name, *s);
                     }};
  const auto nm_result = kernel::run_tool(io_, nm);
  if (nm_result.exit_code != 0) {
    throw usage_error(fmt::format("nm cannot read {}: {}", vmlinux_.string(), nm_err.empty() ? "exit " + std::to_string(nm_result.exit_code) : nm_err),
                      "give the vmlinux of the kernel that printed the report");
  }
  std::vector<std::string> args = {"addr2line", "-a", "-f", "-i", "-e", vmlinux_.string()};
  for (auto& d : out) {
    if (!d.frame.module.empty()) {
      d.note = "in module " + d.frame.module + ", not in vmlinux";
      continue;
    }
    const auto [lo, hi] = symbols.equal_range(d.frame.function);
    if (lo == hi) {
      d.note = "not in vmlinux";
      continue;
    }
    // Several local symbols can share a name (static functions): the one
    // whose size matches, as faddr2line does.
    const Symbol* match = nullptr;
    for (auto it = lo; it != hi; ++it) {
      if (it->second.size == d.frame.size) match = &it->second;
    }
    if (!match) {
      d.note = fmt::format("size differs: vmlinux has 0x{:x} (another build?)", lo->second.size);
      continue;
    }
    d.address = match->address + d.frame.offset;
    args.push_back(fmt::format("0x{:x}", d.address));
  }
  if (args.size() == 6) return out;
  // 2. Lines: one addr2line for every address, its output bounded.
  std::string text;
  std::size_t text_lines = 0;
  const std::size_t max_lines = (args.size() - 6) * (1 + 2 * kMaxInlineDepth);
  bool cut = false;
  kernel::ToolRun a2l{args, {}, {}, [&](std::string_view line, bool err) {
                        if (err) return;
                        if (++text_lines > max_lines) {
                          cut = true;
                          return;
                        }
                        text.append(line.substr(0, 4096));
                        text.push_back('\n');
                      }};
  const auto r = kernel::run_tool(io_, a2l);
  if (r.exit_code != 0) throw infra_error(fmt::format("addr2line failed on {} (exit {})", vmlinux_.string(), r.exit_code));
  std::vector<AddressLines> decoded;
  try {
    decoded = parse_addr2line(text, source_root_);
  } catch (const std::invalid_argument& e) {
    if (!cut) throw infra_error(std::string("unexpected addr2line output: ") + e.what());
  }
  std::map<std::uint64_t, const AddressLines*> by_address;
  for (const auto& a : decoded) by_address.emplace(a.address, &a);
  for (auto& d : out) {
    if (d.address == 0) continue;
    const auto it = by_address.find(d.address);
    if (it == by_address.end()) {
      d.note = "addr2line gave nothing";
      continue;
    }
    d.lines = it->second->lines;
    if (std::none_of(d.lines.begin(), d.lines.end(), [](const SourceLine& s) { return s.known(); })) {
      d.lines.clear();
      d.note = "no debug info in vmlinux (CONFIG_DEBUG_INFO is off)";
    }
  }
  return out;
}

std::string format_decoded(const Decoded& d) {
  const std::string head = (d.frame.reliable ? "" : "? ") + d.frame.text();
  if (d.lines.empty()) return d.note.empty() ? head : head + " (" + d.note + ")";
  auto loc = [](const SourceLine& s) { return fmt::format("{}:{}", s.file, s.line); };
  std::string s = head + " (" + loc(d.lines.front());
  if (d.lines.size() > 1) {
    s += " " + d.lines.front().function;
    for (std::size_t i = 1; i < d.lines.size(); ++i) {
      s += fmt::format(", {} {} {}", i + 1 == d.lines.size() ? "in" : "inlined in", d.lines[i].function, loc(d.lines[i]));
    }
  }
  return s + ")";
}

fs::path vmlinux_of_artifact(const fs::path& artifact_dir) {
  std::error_code ec;
  const fs::path v = artifact_dir / "vmlinux";
  return fs::is_regular_file(v, ec) ? v : fs::path();
}

}  // namespace numasoak::symbolize
