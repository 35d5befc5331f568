#include "vm/accel_probe.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"

namespace numasoak::vm {

std::string kvm_device_problem() {
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return fmt::format("cannot open /dev/kvm: {}", std::strerror(errno));
  ::close(fd);
  return "";
}

namespace {

// Lines that show the kernel got through early boot to running userspace.
constexpr const char* kReachedUserspace[] = {"Run /init as init process", "Freeing unused kernel", "numasoak: workload started"};

struct ProbeState {
  std::unique_ptr<Guest> guest;
  boost::asio::steady_timer timer;
  std::string tail;  // bounded rolling window of console text
  bool reached = false, decided = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::function<void(AccelDecision)> done;
  AccelRequest request;
  explicit ProbeState(boost::asio::io_context& io) : timer(io) {}
};

}  // namespace

void probe_accel(boost::asio::io_context& io, Backend& backend, AccelRequest request, const std::filesystem::path& kernel,
                 const std::filesystem::path& initrd, std::chrono::milliseconds timeout,
                 std::function<void(AccelDecision)> done) {
  if (request == AccelRequest::kTcg) {
    boost::asio::post(io, [done] { done(AccelDecision{Accel::kTcg, "", "", 0}); });
    return;
  }
  if (auto problem = kvm_device_problem(); !problem.empty()) {
    AccelDecision d;
    if (request == AccelRequest::kKvm) d.error = problem;
    else d.warning = problem + "; using TCG (software emulation, much slower)";
    boost::asio::post(io, [done, d] { done(d); });
    return;
  }

  auto st = std::make_shared<ProbeState>(io);
  st->done = std::move(done);
  st->request = request;
  auto decide = [st](bool ok, const std::string& why) {
    if (st->decided) return;
    st->decided = true;
    st->timer.cancel();
    AccelDecision d;
    d.probe_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->started).count();
    if (ok) {
      d.accel = Accel::kKvm;
    } else if (st->request == AccelRequest::kKvm) {
      d.error = "KVM does not work here: " + why;
    } else {
      d.warning = "KVM does not work here (" + why + "); using TCG (software emulation, much slower)";
    }
    if (st->guest) st->guest->stop(std::chrono::milliseconds(500));
    auto cb = std::move(st->done);
    cb(d);
  };

  GuestSpec spec;
  spec.name = fmt::format("numasoak-kvm-probe-{}", ::getpid());
  spec.kernel = kernel;
  spec.initrd = initrd;
  spec.cmdline = "nsw.probe=1";
  spec.topology.nodes = {NumaNode{1, MiB(256)}};
  spec.accel = Accel::kKvm;
  GuestHandlers h;
  h.on_console = [st, decide](std::string_view b) {
    st->tail.append(b);
    for (const char* marker : kReachedUserspace) {
      if (st->tail.find(marker) != std::string::npos) {
        decide(true, "");
        return;
      }
    }
    if (st->tail.size() > 8192) st->tail.erase(0, st->tail.size() - 256);
  };
  h.on_exit = [st, decide](const ExitInfo& info) {
    std::string why = "the probe guest exited (" + info.reason + ")";
    if (!info.last_stderr.empty()) {
      std::string err = info.last_stderr;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      why += ": " + err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
    }
    decide(false, why);
    // Keep the guest handle alive until its exit was reported.
    boost::asio::post(st->timer.get_executor(), [st] { st->guest.reset(); });
  };
  try {
    st->guest = backend.start(spec, std::move(h));
  } catch (const Error& e) {
    const std::string why = e.what();
    boost::asio::post(io, [decide, why] { decide(false, why); });
    return;
  }
  st->timer.expires_after(timeout);
  st->timer.async_wait([decide, timeout](const boost::system::error_code& ec) {
    if (ec) return;
    decide(false, fmt::format("a test boot showed no sign of life within {} ms", timeout.count()));
  });
}

}  // namespace numasoak::vm
