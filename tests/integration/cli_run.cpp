#include "cli_run.h"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <array>
#include <functional>
#include <sstream>
#include <sys/wait.h>
#include "common/child_env.h"

namespace numasoak::testing {

namespace bp = boost::process;
namespace asio = boost::asio;

std::vector<std::string> CliResult::err_lines() const {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  return lines;
}

namespace {

// Reads `pipe` to its end into `sink`, then calls `done`.
void drain(bp::async_pipe& pipe, std::string& sink, std::array<char, 4096>& buf, const std::function<void()>& done) {
  pipe.async_read_some(asio::buffer(buf), [&pipe, &sink, &buf, done](const boost::system::error_code& ec, size_t n) {
    sink.append(buf.data(), n);
    if (ec) {
      done();
    } else {
      drain(pipe, sink, buf, done);
    }
  });
}

}  // namespace

CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options) {
  asio::io_context io;
  bp::async_pipe out(io), err(io);
  bp::pipe closed;  // for stdout_closed: the read end goes now
  if (options.stdout_closed) {
    ::close(closed.native_source());
    closed.assign_source(-1);
  }
  CliResult r;
  asio::steady_timer limit(io);
  bool timed_out = false;
  // The child's exit and the end of each pipe it writes: when all have
  // happened, the limit is no longer needed and io.run() returns.
  int pending = options.stdout_closed ? 2 : 3;
  const auto one_done = [&] {
    if (--pending == 0) limit.cancel();
  };
  auto on_exit = bp::on_exit([&](int, const std::error_code&) { one_done(); });
  const bp::environment env = child_environment(options.env);
  const std::string cwd = (options.cwd.empty() ? std::filesystem::current_path() : options.cwd).string();
  bp::child child = options.stdout_closed
                        ? bp::child(bp::exe = NUMASOAK_CLI, bp::args = args, bp::start_dir = cwd, env, bp::std_in < bp::null,
                                    bp::std_out > closed, bp::std_err > err, on_exit, io)
                        : bp::child(bp::exe = NUMASOAK_CLI, bp::args = args, bp::start_dir = cwd, env, bp::std_in < bp::null,
                                    bp::std_out > out, bp::std_err > err, on_exit, io);
  closed.close();
  std::array<char, 4096> out_buf{}, err_buf{};
  if (!options.stdout_closed) drain(out, r.out, out_buf, one_done);
  drain(err, r.err, err_buf, one_done);
  limit.expires_after(options.limit);
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    std::error_code ignored;
    child.terminate(ignored);
  });
  io.run();
  const int status = child.native_exit_code();
  if (!timed_out) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace numasoak::testing
