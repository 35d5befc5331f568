// LibvirtPool: the campaign's libvirt hosts behind one Backend.
//
// The campaign runner keeps one vm::Backend&; with kind = "libvirt" that is
// a LibvirtPool. start() places each guest on a host (placement.h: a host
// that is up with free vCPU capacity, keeping kernels interleaved per host)
// through that host's LibvirtBackend. A host whose connection closes or
// misses keepalives ends its running guests (on_exit with ExitCause::kHostGone:
// the run is interrupted, not a kernel result), is
// marked down and reconnected with exponential backoff while the other
// hosts go on. Per-host counters (started / finished / lost) feed the report.
//
// The runner must ask before starting (Backend::can_start / capacity) and
// schedule again when on_capacity fires: start() throws when no host has
// room. Made by vm/backends.h's make_backend() for kind = "libvirt".
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/accel_probe.h"
#include "vm/backends.h"
#include "vm/libvirt/libvirt_backend.h"
#include "vm/libvirt/placement.h"

namespace numasoak::vm {

/// How the pool connects its hosts and retries the ones that went down.
struct LibvirtPoolOptions {
  LibvirtOptions host;
  std::chrono::milliseconds backoff_initial{2000};  // first retry after a host went down
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};
};

/// One host's state and counters, for the report and the status line.
struct LibvirtHostCounters {
  std::string uri;
  std::vector<std::string> labels;
  bool up = false;
  int capacity = 0;   // vCPUs (0 until the host was reached once)
  int busy = 0;       // vCPUs of running guests
  int running = 0;
  int started = 0;    // guests started there
  int finished = 0;   // ended normally (any verdict)
  int lost = 0;       // ended because the host went away
  int disconnects = 0;
  int reconnects = 0;
  std::string last_error;                          // why it is down, one line
  std::optional<std::chrono::milliseconds> retry_in;  // next reconnect attempt
};

/// The campaign's libvirt hosts as one Backend (see above).
class LibvirtPool : public Backend, public PerHostAccel {
 public:
  LibvirtPool(boost::asio::io_context& io, std::vector<LibvirtHostSpec> hosts, LibvirtPoolOptions options = {});
  ~LibvirtPool() override;
  LibvirtPool(const LibvirtPool&) = delete;
  LibvirtPool& operator=(const LibvirtPool&) = delete;

  // Connects every host, one after another (blocking). A host that fails is
  // logged, marked down and retried with backoff; throws the first host's
  // Error when none connects.
  void connect();

  std::string name() const override;  // "libvirt: uri1, uri2"
  // Places the guest and starts it there; throws when no host that is up
  // has room (ask can_start first) or that host's start() throws.
  std::unique_ptr<Guest> start(const GuestSpec& spec, GuestHandlers handlers) override;

  // Room for one more guest of this topology right now.
  bool can_start(const Topology& t) const override;
  // Guests of this topology the hosts that are up hold when idle (the
  // runner's max_parallel).
  int slots(const Topology& t) const;
  std::optional<int> capacity(const Topology& t) const override { return slots(t); }
  // Called (from the io_context) when room may have appeared: a guest
  // ended or a host came back.
  void on_capacity(std::function<void()> cb) override;
  // next_host() and accel_on() of that host.
  Placement place(const Topology& t, const std::filesystem::path& kernel, Accel requested) const override;

  // The host start() would pick for this guest right now ("" = none has
  // room): set RunPlan::host from it just before Run::start().
  std::string next_host(const Topology& t, const std::filesystem::path& kernel) const;
  // The accelerator a guest asking for `requested` gets on host `uri` (set
  // RunPlan::accel from it with RunPlan::host); `requested` for an unknown URI.
  Accel accel_on(const std::string& uri, Accel requested) const override;
  // Where a guest was placed ("" if unknown): RunPlan::host / RunResult::host.
  std::string host_of(const std::string& guest_name) const;
  std::vector<LibvirtHostCounters> counters() const;
  // One line per host for the report / status.
  std::string describe() const override;

  // Uploads `files` (path, role) to every host that is up; done(errors),
  // one line per failure.
  void prepare(const std::vector<std::pair<std::filesystem::path, std::string>>& files,
               std::function<void(std::vector<std::string>)> done);
  // probe_kvm on every host that is up; done(decision per URI).
  void probe_kvm(const std::filesystem::path& kernel, const std::filesystem::path& initrd, std::chrono::milliseconds timeout,
                 std::function<void(std::map<std::string, AccelDecision>)> done);
  void probe_hosts(const std::filesystem::path& kernel, const std::filesystem::path& initrd, std::chrono::milliseconds timeout,
                   std::function<void(std::map<std::string, AccelDecision>)> done) override {
    probe_kvm(kernel, initrd, timeout, std::move(done));
  }

  // The host's backend (tests, diagnostics); nullptr for an unknown URI.
  LibvirtBackend* host(const std::string& uri);

 private:
  struct Host;
  struct State;
  void host_lost(size_t i, const std::string& why);
  void schedule_retry(size_t i);
  void retry(size_t i);
  void host_up(size_t i);
  void notify_capacity();
  std::vector<libvirt::HostLoad> loads() const;

  boost::asio::io_context& io_;
  LibvirtPoolOptions options_;
  std::shared_ptr<State> state_;
};

}  // namespace numasoak::vm
