// numasoak scan LOG...: run the console detector over saved console logs.
//
// Any source works: a numasoak run's console.log, a serial capture from
// another machine or arch, /var/log/kern.log (syslog prefixes), dmesg output,
// with or without printk timestamps or caller ids, CRLF or not. Each file is
// streamed through the same LineAssembler + Detector a live run uses.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/verb.h"
#include "common/duration.h"
#include "console/scan.h"

namespace numasoak::cli {
namespace {

using console::Failure;

struct FileResult {
  std::string file;  // neutralised for printing
  std::optional<std::string> error;
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  std::vector<Failure> failures;
};

constexpr const char* kHelp =
    "Scan saved console logs for kernel failures, with the detector a live run uses.\n"
    "Output: one line per failure, 'FILE:LINE: KIND: TITLE [uptime S]', or 'FILE: no failure';\n"
    "with --json, one JSON array on stdout with an object per file:\n"
    "  {\"file\":..., \"lines\":N, \"bytes\":N, \"failures\":[{\"kind\",\"title\",\"line\",\"uptime_s\" (null when\n"
    "   the log has no timestamps),\"severity\",\"guilty_frame\",\"source\",\"caller\"}]}\n"
    "  or {\"file\":..., \"error\":...} for a file that cannot be read.\n"
    "Reports end after --window of guest time (from printk timestamps), --max-lines lines, the next\n"
    "marker from the same printer, or the end of the file.\n"
    "A test fixture's '# numasoak-fixture' header is skipped (line numbers stay those of the file).\n"
    "Exit: 0 no failure in any file, 1 a failure in some file, 2 some file could not be read\n"
    "(the others are still scanned; 2 wins over 1).";

// tests/fixtures/consoles/*.log start with a "# numasoak-fixture" header
// ending in a "#" line; the header names the expected failure, so it must not
// be scanned. Returns the header's size in bytes (0 when there is none, or it
// does not end within the first chunk) and counts its lines.
size_t fixture_header_size(std::string_view chunk, std::uint64_t& lines) {
  constexpr std::string_view kMagic = "# numasoak-fixture\n";
  if (chunk.substr(0, kMagic.size()) != kMagic) return 0;
  const size_t end = chunk.find("\n#\n");
  if (end == std::string_view::npos) return 0;
  const std::string_view header = chunk.substr(0, end + 3);
  lines = static_cast<std::uint64_t>(std::count(header.begin(), header.end(), '\n'));
  return header.size();
}

// Streams one file (or stdin for "-") through a LogScanner.
FileResult scan_file(const std::string& path, const console::DetectorOptions& options) {
  FileResult r;
  r.file = path == "-" ? std::string("(stdin)") : console::neutralize(path, 1024);
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      r.error = std::strerror(errno);
      return r;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      r.error = "is a directory";
      return r;
    }
  }
  console::LogScanner scanner(options);
  std::uint64_t header_lines = 0;  // of a test fixture: skipped, but line numbers stay file lines
  auto take = [&r, &scanner, &header_lines] {
    for (auto& f : scanner.take_completed()) {
      f.line += header_lines;
      r.failures.push_back(std::move(f));
    }
  };
  std::vector<char> buf(1 << 20);
  bool first = true;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = std::strerror(errno);
      break;
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    r.bytes += chunk.size();
    if (first) {
      first = false;
      chunk.remove_prefix(fixture_header_size(chunk, header_lines));
    }
    scanner.feed(chunk);
    take();
  }
  if (fd != 0) ::close(fd);
  scanner.finish();
  take();
  r.lines = scanner.assembler().lines_out() + header_lines;
  // Reports complete in any order (interleaved printers): list them as the log does.
  std::stable_sort(r.failures.begin(), r.failures.end(),
                   [](const Failure& x, const Failure& y) { return x.line < y.line; });
  return r;
}

nlohmann::json to_json(const FileResult& r) {
  nlohmann::json j;
  j["file"] = r.file;
  if (r.error) {
    j["error"] = *r.error;
    return j;
  }
  j["lines"] = r.lines;
  j["bytes"] = r.bytes;
  j["failures"] = nlohmann::json::array();
  for (const auto& f : r.failures) {
    j["failures"].push_back({{"kind", f.kind},
                             {"title", f.title},
                             {"line", f.line},
                             {"uptime_s", f.uptime_s ? nlohmann::json(*f.uptime_s) : nlohmann::json(nullptr)},
                             {"severity", std::string(console::to_string(f.severity))},
                             {"guilty_frame", f.guilty_frame},
                             {"source", f.source},
                             {"caller", f.caller}});
  }
  return j;
}

void print_human(const FileResult& r, bool with_report) {
  if (r.failures.empty()) {
    fmt::print("{}: no failure ({} lines)\n", r.file, r.lines);
    return;
  }
  for (const auto& f : r.failures) {
    std::string extra;
    if (f.uptime_s) extra = fmt::format(" [uptime {:.6f}s]", *f.uptime_s);
    fmt::print("{}:{}: {}: {}{}\n", r.file, f.line, f.kind, f.title, extra);
    if (with_report) {
      // Report lines were neutralised by the LineAssembler/Detector.
      size_t at = 0;
      while (at < f.report.size()) {
        const size_t nl = f.report.find('\n', at);
        const size_t end = nl == std::string::npos ? f.report.size() : nl;
        fmt::print("    {}\n", std::string_view(f.report).substr(at, end - at));
        at = end + 1;
      }
    }
  }
}

const VerbRegistration reg(60, [](Command& app, const Globals&) -> VerbAction {
  Command cmd = app.subcommand("scan", "Scan saved console logs for kernel failures (bad pmd, panic, oops, ...)");
  cmd.footer(kHelp);
  struct Args {
    std::vector<std::string> files;
    bool json = false;
    bool report = false;
    std::string window = "5s";
    size_t max_lines = 200;
  };
  auto a = std::make_shared<Args>();
  cmd.option("log", a->files, "Console log files ('-' for standard input)").required();
  cmd.flag("--json", a->json, "Print one JSON array with an object per file");
  cmd.flag("--report", a->report, "Also print each failure's report (human output only)");
  cmd.option("--window", a->window, "How long a report collects lines after its marker").show_default();
  cmd.option("--max-lines", a->max_lines, "Most lines in one report").show_default().range(1, 100000);
  return [a]() -> ExitCode {
    console::DetectorOptions options;
    const auto window = parse_duration(a->window);
    if (!window) throw usage_error(fmt::format("--window: '{}' is not a duration", a->window), "e.g. --window 5s");
    options.report_window = *window;
    options.report_max_lines = a->max_lines;

    bool unreadable = false, failed = false;
    nlohmann::json all = nlohmann::json::array();
    for (const auto& path : a->files) {
      FileResult r = scan_file(path, options);
      if (r.error) {
        unreadable = true;
        std::fflush(stdout);
        std::cerr << fmt::format("numasoak: error: cannot read {}: {}\n", r.file, *r.error);
      }
      failed |= !r.failures.empty();
      if (a->json) {
        all.push_back(to_json(r));
      } else if (!r.error) {
        print_human(r, a->report);
      }
    }
    if (a->json) {
      std::cout << all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    }
    std::fflush(stdout);
    if (!std::cout || std::ferror(stdout)) throw infra_error("cannot write to standard output");
    if (unreadable) return ExitCode::kUsage;
    return failed ? ExitCode::kKernelFailure : ExitCode::kOk;
  };
});

}  // namespace
}  // namespace numasoak::cli
