#include "vm/accel_probe.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/error.h"
#include "vm/kvm_check.h"

namespace numasoak::vm {

std::string kvm_device_problem() {
  const KvmCheck c = check_kvm();
  spdlog::debug("KVM check: {} ({:.3f}s)", c.works() ? "works" : c.problem, c.seconds);
  return c.problem;
}

namespace {

// Lines that show the kernel got through early boot to running userspace.
constexpr const char* kReachedUserspace[] = {"Run /init as init process", "Freeing unused kernel", "numasoak: workload started"};

/// One probe boot in flight: its guest, timeout and rolling console window.
struct ProbeState {
  std::unique_ptr<Guest> guest;
  boost::asio::steady_timer timer;
  std::string tail;  // bounded rolling window of console text
  bool decided = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::function<void(AccelDecision)> done;
  explicit ProbeState(boost::asio::io_context& io) : timer(io) {}
};

}  // namespace

void probe_boot(boost::asio::io_context& io, StartGuest start, bool required, const ProbeTarget& target,
                const std::filesystem::path& kernel, const std::filesystem::path& initrd, std::chrono::milliseconds timeout,
                std::function<void(AccelDecision)> done) {
  auto st = std::make_shared<ProbeState>(io);
  st->done = std::move(done);
  auto decide = [st, required, where = target.where, fallback = target.fallback](bool ok, const std::string& why) {
    if (st->decided) return;
    st->decided = true;
    st->timer.cancel();
    AccelDecision d;
    d.probe_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->started).count();
    if (ok) {
      d.accel = Accel::kKvm;
    } else if (required) {
      d.error = fmt::format("KVM does not work {}: {}", where, why);
    } else {
      d.warning = fmt::format("KVM does not work {} ({}); {}", where, why, fallback);
    }
    if (st->guest) st->guest->stop(std::chrono::milliseconds(500));
    auto cb = std::move(st->done);
    cb(d);
  };

  GuestSpec spec;
  spec.name = target.guest_name;
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
    st->guest = start(spec, std::move(h));
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

void probe_accel(boost::asio::io_context& io, Backend& backend, Accel request, const std::filesystem::path& kernel,
                 const std::filesystem::path& initrd, std::chrono::milliseconds timeout,
                 std::function<void(AccelDecision)> done) {
  if (request == Accel::kTcg) {
    boost::asio::post(io, [done] { done(AccelDecision{Accel::kTcg, "", "", 0}); });
    return;
  }
  // Ask the kernel first: a broken KVM is known in about a second, not
  // after a whole test boot's timeout.
  if (const KvmCheck check = check_kvm(); !check.works()) {
    AccelDecision d;
    d.probe_s = check.seconds;
    if (request == Accel::kKvm) d.error = check.problem;
    else d.warning = check.problem + "; using TCG (software emulation, much slower)";
    boost::asio::post(io, [done, d] { done(d); });
    return;
  }
  ProbeTarget target;
  target.guest_name = fmt::format("numasoak-kvm-probe-{}", ::getpid());
  probe_boot(
      io, [&backend](const GuestSpec& s, GuestHandlers h) { return backend.start(s, std::move(h)); },
      request == Accel::kKvm, target, kernel, initrd, timeout, std::move(done));
}

}  // namespace numasoak::vm
