#include "cli_fixture.h"

#include <boost/asio/read_until.hpp>
#include <fstream>
#include <unistd.h>

namespace numasoak::testing {

namespace bp = boost::process;
namespace fs = std::filesystem;

fs::path write_campaign(const std::string& name, int runs, const std::string& duration, const std::string& extra_top,
                        const fs::path& output) {
  const fs::path dir = fs::temp_directory_path() / ("numasoak-campaign-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "c.toml") << "name = \"" << name << "\"\n"
                                << "kernels = [\"6.1\", \"6.1+backport\"]\n"
                                << "runs_per_kernel = " << runs << "\n"
                                << "duration = \"" << duration << "\"\n"
                                << "accel = \"tcg\"\n"
                                << "output = \"" << (output.empty() ? dir / "out" : output).string() << "\"\n"
                                << extra_top << "[workload]\nprofile = \"quiet\"\n";
  return dir;
}

Compare::Compare(const fs::path& file) : Compare(std::vector<std::string>{"-v", "compare", file.string()}) {}

Compare::Compare(const std::vector<std::string>& args)
    : child(bp::exe = NUMASOAK_CLI, bp::args = args, bp::std_out > bp::null, bp::std_err > err, io) {}

bool Compare::wait_for(const std::string& want, std::chrono::seconds limit) {
  bool found = false, done = false;
  std::function<void()> read = [&] {
    boost::asio::async_read_until(err, buf, '\n', [&](const boost::system::error_code& ec, size_t n) {
      if (ec) {
        done = true;
        return;
      }
      std::string line(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      log += line;
      if (line.find(want) != std::string::npos) {
        found = true;
        return;
      }
      read();
    });
  };
  read();
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!found && !done && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  if (!found && !done) {
    // Out of time: end the pending read before its handler's captures go.
    err.cancel();
    while (!found && !done && io.run_one() > 0) {
    }
  }
  return found;
}

int Compare::finish(std::chrono::seconds limit) {
  wait_for("\x01never\x01", limit);  // drain stderr to EOF
  std::error_code ec;
  child.wait(ec);
  return child.exit_code();
}

}  // namespace numasoak::testing
