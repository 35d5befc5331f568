#include "kernel/tool.h"

#include <map>
#include <array>
#include <boost/asio/read.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async.hpp>
#include <boost/process/async_pipe.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>
#include <boost/process/start_dir.hpp>
#include <fmt/format.h>
#include <memory>

#include "common/error.h"
#include "common/child_env.h"

namespace numasoak::kernel {

namespace bp = boost::process;
namespace asio = boost::asio;

std::string argv_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

namespace {

// Reads one pipe to EOF, splitting lines; keeps the whole text when asked.
struct PipeReader : std::enable_shared_from_this<PipeReader> {
  PipeReader(asio::io_context& io, bool is_err, const ToolRun& r, std::string* whole)
      : pipe(io), err(is_err), run(r), capture(whole) {}

  void start() {
    auto self = shared_from_this();
    pipe.async_read_some(asio::buffer(buf), [self](const boost::system::error_code& ec, std::size_t n) {
      if (n > 0) self->consume(std::string_view(self->buf.data(), n));
      if (ec) {
        self->flush();
        return;
      }
      self->start();
    });
  }

  void consume(std::string_view chunk) {
    if (capture) capture->append(chunk);
    for (char c : chunk) {
      if (c == '\n') {
        emit();
      } else if (partial.size() < kMaxLine) {
        partial += c;
      }
    }
  }
  void flush() {
    if (!partial.empty()) emit();
  }
  void emit() {
    if (!partial.empty() && partial.back() == '\r') partial.pop_back();
    if (run.on_line) run.on_line(partial, err);
    partial.clear();
  }

  static constexpr size_t kMaxLine = 64 * 1024;
  bp::async_pipe pipe;
  bool err;
  const ToolRun& run;
  std::string* capture;
  std::array<char, 16384> buf{};
  std::string partial;
};

}  // namespace

ToolResult run_tool(asio::io_context& io, const ToolRun& run, bool capture) {
  if (run.argv.empty()) throw infra_error("run_tool: empty command");
  boost::filesystem::path exe;
  if (run.argv[0].find('/') != std::string::npos) {
    exe = run.argv[0];
  } else {
    exe = bp::search_path(run.argv[0]);
    if (exe.empty()) {
      throw infra_error(fmt::format("{} is not installed (not found in PATH)", run.argv[0]),
                        "run scripts/install-deps");
    }
  }
  std::vector<std::string> args(run.argv.begin() + 1, run.argv.end());
  std::map<std::string, std::string> overrides{{"LC_ALL", "C"}};  // tool output is parsed: keep it in English
  for (const auto& [k, v] : run.env) overrides[k] = v;
  const bp::environment env = child_environment(overrides);

  ToolResult result;
  auto out = std::make_shared<PipeReader>(io, false, run, capture ? &result.out : nullptr);
  auto err = std::make_shared<PipeReader>(io, true, run, nullptr);
  int code = -1;
  std::error_code spawn_ec;
  bp::child child;
  try {
    if (run.cwd.empty()) {
      child = bp::child(bp::exe = exe, bp::args = args, bp::env = env, bp::std_in < bp::null,
                        bp::std_out > out->pipe, bp::std_err > err->pipe, io,
                        bp::on_exit = [&code](int c, const std::error_code&) { code = c; }, spawn_ec);
    } else {
      child = bp::child(bp::exe = exe, bp::args = args, bp::env = env, bp::start_dir = run.cwd.string(),
                        bp::std_in < bp::null, bp::std_out > out->pipe, bp::std_err > err->pipe, io,
                        bp::on_exit = [&code](int c, const std::error_code&) { code = c; }, spawn_ec);
    }
  } catch (const std::exception& e) {
    throw infra_error(fmt::format("cannot run {}: {}", argv_text(run.argv), e.what()));
  }
  if (spawn_ec) throw infra_error(fmt::format("cannot run {}: {}", argv_text(run.argv), spawn_ec.message()));
  out->start();
  err->start();
  io.restart();
  io.run();
  // on_exit has fired and both pipes reached EOF.
  result.exit_code = code;
  return result;
}

std::string tool_output(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  asio::io_context io;
  std::string errors;
  ToolRun run{argv, cwd, {}, [&errors](std::string_view line, bool is_err) {
                if (is_err && errors.size() < 2000) errors += std::string(line) + " ";
              }};
  auto r = run_tool(io, run, true);
  if (r.exit_code != 0) {
    throw infra_error(fmt::format("{} failed (exit {}){}{}", argv_text(argv), r.exit_code, errors.empty() ? "" : ": ",
                                  errors.empty() ? "" : errors.substr(0, errors.size() - 1)));
  }
  return r.out;
}

}  // namespace numasoak::kernel
