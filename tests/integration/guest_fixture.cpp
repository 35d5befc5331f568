#include "guest_fixture.h"

#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <mutex>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/paths.h"
#include "vm/qemu/qemu_backend.h"

namespace numasoak::testing {

namespace fs = std::filesystem;

namespace {
const KernelArtifact& kernel_named(const std::string& name) {
  static std::map<std::string, KernelArtifact> built;
  auto it = built.find(name);
  if (it != built.end()) return it->second;
  const auto lib = load_kernel_library();
  return built.emplace(name, build_kernel(lib.at(name))).first->second;
}
}  // namespace

const KernelArtifact& kernel_61() { return kernel_named("6.1"); }
const KernelArtifact& kernel_called(const std::string& name) { return kernel_named(name); }
const KernelArtifact& kernel_61_backport() { return kernel_named("6.1+backport"); }

const image::ImageArtifact& image_with_init(const std::string& name) {
  static std::map<std::string, image::ImageArtifact> images;
  auto it = images.find(name);
  if (it != images.end()) return it->second;
  image::ImageInputs in = image::ImageInputs::defaults();
  in.init = fs::path(NUMASOAK_INITS) / name;
  return images.emplace(name, image::build_image(in)).first->second;
}

const image::ImageArtifact& real_image() {
  static image::ImageArtifact img = image::build_image(image::ImageInputs::defaults());
  return img;
}

RunPlan small_plan(const KernelArtifact& k, const image::ImageArtifact& img, const std::string& id) {
  RunPlan p;
  p.run_id = id;
  p.guest_name = "numasoak-test-" + id + "-" + std::to_string(::getpid());
  p.kernel = k.name;
  p.kernel_release = k.release;
  p.kernel_image = k.bzimage;
  p.initrd = img.path;
  p.topology.nodes = {NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}};
  p.watchdog.boot = std::chrono::seconds(60);
  p.watchdog.silence = std::chrono::seconds(60);
  p.duration = std::chrono::seconds(20);
  p.accel = vm::Accel::kTcg;
  p.out_dir = fs::temp_directory_path() / ("numasoak-it-" + std::to_string(::getpid())) / id;
  return p;
}

RunResult run_to_end(const RunPlan& plan, std::chrono::seconds limit,
                     std::function<void(boost::asio::io_context&, Run&)> on_started) {
  boost::asio::io_context io;
  vm::QemuBackend backend(io);
  std::optional<RunResult> result;
  Run run(io, backend, plan, [&](const RunResult& r) { result = r; });
  boost::asio::steady_timer limit_timer(io);
  bool timed_out = false;
  limit_timer.expires_after(limit);
  limit_timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      timed_out = true;
      run.interrupt("test time limit");
    }
  });
  if (on_started) run.on_workload_started([&] { on_started(io, run); });
  run.start();
  while (!result && io.run_one() > 0) {
  }
  limit_timer.cancel();
  io.poll();
  EXPECT_FALSE(timed_out) << "the run did not end within " << limit.count() << " s";
  return result.value_or(RunResult{});
}

std::vector<int> pids_with_cmdline(const std::string& needle) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

bool all_exit_within(const std::vector<int>& pids, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int pid : pids) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) continue;  // ESRCH: already gone
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int n = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    ::close(fd);
    if (n <= 0) return false;  // readable = exited
  }
  return true;
}

}  // namespace numasoak::testing
