#include "vm/libvirt/libvirt_pool.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vm/libvirt/placement.h"

namespace numasoak::vm {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

/// One host of the pool: its spec, backend, counters and retry state.
struct LibvirtPool::Host {
  LibvirtHostSpec spec;
  std::unique_ptr<LibvirtBackend> backend;
  LibvirtHostCounters c;
  std::map<std::string, int> started_by_kernel;
  int failures = 0;  // reconnect attempts that failed since it went down
  std::unique_ptr<asio::steady_timer> retry_timer;
  std::optional<Clock::time_point> retry_at;
};

/// The pool's state, shared with its guests' callbacks.
struct LibvirtPool::State {
  asio::io_context* io = nullptr;
  std::vector<Host> hosts;
  std::map<std::string, std::string> placed;  // guest name -> URI
  std::function<void()> on_capacity;
  bool capacity_posted = false;

  void notify() {
    if (!on_capacity || capacity_posted) return;
    capacity_posted = true;
    asio::post(*io, [weak = std::weak_ptr<State>(self)] {
      auto s = weak.lock();
      if (!s) return;
      s->capacity_posted = false;
      if (s->on_capacity) s->on_capacity();
    });
  }
  std::weak_ptr<State> self;
};

namespace {

/// One guest's share of a host: given back exactly once, on its exit or when
/// its handle goes (a detached guest reports no exit).
struct Slot {
  std::weak_ptr<void> state;
  std::function<void(bool lost)> give_back;
  bool released = false;
  void release(bool lost) {
    if (released) return;
    released = true;
    if (!state.expired() && give_back) give_back(lost);
  }
};

/// A guest placed by the pool: the host's Guest plus the pool's bookkeeping.
class PoolGuest : public Guest {
 public:
  PoolGuest(std::unique_ptr<Guest> inner, std::shared_ptr<Slot> slot) : inner_(std::move(inner)), slot_(std::move(slot)) {}
  ~PoolGuest() override {
    inner_.reset();
    slot_->release(false);
  }
  void stop(std::chrono::milliseconds grace) override { inner_->stop(grace); }
  std::string command() const override { return inner_->command(); }

 private:
  std::unique_ptr<Guest> inner_;
  std::shared_ptr<Slot> slot_;
};
}  // namespace

LibvirtPool::LibvirtPool(asio::io_context& io, std::vector<LibvirtHostSpec> hosts, LibvirtPoolOptions options)
    : io_(io), options_(std::move(options)), state_(std::make_shared<State>()) {
  state_->io = &io;
  state_->self = state_;
  for (auto& spec : hosts) {
    Host h;
    h.spec = spec;
    h.c.uri = spec.uri;
    h.c.labels = spec.labels;
    h.backend = std::make_unique<LibvirtBackend>(io, spec.uri, options_.host);
    h.retry_timer = std::make_unique<asio::steady_timer>(io);
    state_->hosts.push_back(std::move(h));
  }
  for (size_t i = 0; i < state_->hosts.size(); ++i) {
    auto& b = *state_->hosts[i].backend;
    b.on_connection_lost([this, i](const std::string& why) { host_lost(i, why); });
  }
}

LibvirtPool::~LibvirtPool() {
  for (auto& h : state_->hosts) {
    h.retry_timer->cancel();
    h.backend->on_connection_lost(nullptr);
  }
  state_->on_capacity = nullptr;
  state_->hosts.clear();  // closes the connections; their domains are destroyed
}

void LibvirtPool::connect() {
  std::optional<Error> first;
  int up = 0;
  for (size_t i = 0; i < state_->hosts.size(); ++i) {
    auto& h = state_->hosts[i];
    try {
      h.backend->connect();
      host_up(i);
      ++up;
    } catch (const Error& e) {
      spdlog::warn("{} (will retry)", e.what());
      h.c.last_error = e.what();
      if (!first) first = e;
      schedule_retry(i);
    }
  }
  if (up == 0) {
    if (first) throw *first;
    throw usage_error("the libvirt backend has no hosts", "add [[backend.hosts]] entries with a uri");
  }
}

std::string LibvirtPool::name() const {
  std::string out = "libvirt:";
  for (const auto& h : state_->hosts) out += " " + h.spec.uri;
  return out;
}

void LibvirtPool::host_up(size_t i) {
  auto& h = state_->hosts[i];
  h.c.up = true;
  h.failures = 0;
  h.retry_at.reset();
  h.c.last_error.clear();
  h.c.capacity = h.spec.capacity > 0 ? h.spec.capacity : h.backend->info().cpus;
  notify_capacity();
}

void LibvirtPool::host_lost(size_t i, const std::string& why) {
  auto& h = state_->hosts[i];
  h.c.up = false;
  ++h.c.disconnects;
  h.c.last_error = fmt::format("libvirt host {} went away ({})", h.spec.uri, why);
  h.failures = 0;
  schedule_retry(i);
}

void LibvirtPool::schedule_retry(size_t i) {
  auto& h = state_->hosts[i];
  auto delay = options_.backoff_initial;
  for (int k = 0; k < h.failures && delay < options_.backoff_max; ++k) delay *= 2;
  delay = std::min(delay, options_.backoff_max);
  h.retry_at = Clock::now() + delay;
  spdlog::info("libvirt host {}: next connection attempt in {:.1f}s", h.spec.uri, std::chrono::duration<double>(delay).count());
  h.retry_timer->expires_after(delay);
  h.retry_timer->async_wait([this, i, weak = std::weak_ptr<State>(state_)](const boost::system::error_code& ec) {
    if (ec || weak.expired()) return;
    retry(i);
  });
}

void LibvirtPool::retry(size_t i) {
  auto& h = state_->hosts[i];
  h.retry_at.reset();
  h.backend->connect_async([this, i, weak = std::weak_ptr<State>(state_)](std::optional<Error> problem) {
    if (weak.expired()) return;
    auto& host = state_->hosts[i];
    if (!problem) {
      spdlog::info("libvirt host {} is back", host.spec.uri);
      ++host.c.reconnects;
      host_up(i);
      return;
    }
    host.c.last_error = problem->what();
    ++host.failures;
    spdlog::debug("{}", problem->what());
    schedule_retry(i);
  });
}

void LibvirtPool::notify_capacity() { state_->notify(); }

void LibvirtPool::on_capacity(std::function<void()> cb) { state_->on_capacity = std::move(cb); }

std::vector<libvirt::HostLoad> LibvirtPool::loads() const {
  std::vector<libvirt::HostLoad> out;
  for (const auto& h : state_->hosts) out.push_back({h.c.up, h.c.capacity, h.c.busy, h.started_by_kernel});
  return out;
}

bool LibvirtPool::can_start(const Topology& t) const { return libvirt::free_slots(loads(), t.total_cpus()) > 0; }

int LibvirtPool::slots(const Topology& t) const { return libvirt::total_slots(loads(), t.total_cpus()); }

std::unique_ptr<Guest> LibvirtPool::start(const GuestSpec& spec, GuestHandlers handlers) {
  const int vcpus = spec.topology.total_cpus();
  const std::string kernel = spec.kernel.string();
  const int idx = libvirt::choose_host(loads(), vcpus, kernel);
  if (idx < 0) {
    throw infra_error(fmt::format("no libvirt host has room for a guest of {} vCPUs now ({})", vcpus, describe()),
                      "wait for a guest to end or a host to come back");
  }
  const size_t i = static_cast<size_t>(idx);
  auto slot = std::make_shared<Slot>();
  slot->state = state_;
  slot->give_back = [weak = std::weak_ptr<State>(state_), i, vcpus](bool lost) {
    auto s = weak.lock();
    if (!s || i >= s->hosts.size()) return;
    auto& c = s->hosts[i].c;
    c.busy -= vcpus;
    --c.running;
    if (lost) ++c.lost;
    else ++c.finished;
    s->notify();
  };
  GuestHandlers wrapped = std::move(handlers);
  wrapped.on_exit = [slot, on_exit = std::move(wrapped.on_exit)](const ExitInfo& info) {
    slot->release(info.cause == ExitCause::kHostGone);
    if (on_exit) on_exit(info);
  };
  auto& h = state_->hosts[i];
  auto guest = h.backend->start(spec, std::move(wrapped));  // throws: nothing was counted
  h.c.busy += vcpus;
  ++h.c.running;
  ++h.c.started;
  ++h.started_by_kernel[kernel];
  state_->placed[spec.name] = h.spec.uri;
  spdlog::debug("placed {} on {}", spec.name, h.spec.uri);
  return std::make_unique<PoolGuest>(std::move(guest), std::move(slot));
}

Placement LibvirtPool::place(const Topology& t, const std::filesystem::path& kernel, Accel requested) const {
  // Each libvirt host decided KVM or TCG for itself: what this guest gets
  // there, not what the campaign asked for.
  Placement p;
  p.host = next_host(t, kernel);
  p.accel = accel_on(*p.host, requested);
  return p;
}

std::string LibvirtPool::next_host(const Topology& t, const std::filesystem::path& kernel) const {
  const int idx = libvirt::choose_host(loads(), t.total_cpus(), kernel.string());
  return idx < 0 ? "" : state_->hosts[static_cast<size_t>(idx)].spec.uri;
}

Accel LibvirtPool::accel_on(const std::string& uri, Accel requested) const {
  for (const auto& h : state_->hosts) {
    if (h.spec.uri == uri) return h.backend->accel_for(requested);
  }
  return requested;
}

std::string LibvirtPool::host_of(const std::string& guest_name) const {
  auto it = state_->placed.find(guest_name);
  return it == state_->placed.end() ? "" : it->second;
}

std::vector<LibvirtHostCounters> LibvirtPool::counters() const {
  std::vector<LibvirtHostCounters> out;
  const auto now = Clock::now();
  for (const auto& h : state_->hosts) {
    LibvirtHostCounters c = h.c;
    if (!c.up && h.retry_at) {
      c.retry_in = std::chrono::duration_cast<std::chrono::milliseconds>(std::max(Clock::duration(0), *h.retry_at - now));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string LibvirtPool::describe() const {
  std::string out;
  for (const auto& c : counters()) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {}", c.uri, c.up ? "up" : "down");
    if (c.up) out += fmt::format(", {}/{} vCPUs busy", c.busy, c.capacity);
    out += fmt::format(", started {}, finished {}, lost {}", c.started, c.finished, c.lost);
    if (!c.up && c.retry_in) out += fmt::format(", retry in {:.0f}s", std::chrono::duration<double>(*c.retry_in).count());
  }
  return out;
}

LibvirtBackend* LibvirtPool::host(const std::string& uri) {
  for (auto& h : state_->hosts) {
    if (h.spec.uri == uri) return h.backend.get();
  }
  return nullptr;
}

void LibvirtPool::prepare(const std::vector<std::pair<std::filesystem::path, std::string>>& files,
                          std::function<void(std::vector<std::string>)> done) {
  /// Uploads to every host in flight, and their errors.
  struct Gather {
    int pending = 0;
    std::vector<std::string> errors;
    std::function<void(std::vector<std::string>)> done;
  };
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  for (auto& h : state_->hosts) {
    if (!h.c.up) continue;
    for (const auto& [file, role] : files) {
      ++g->pending;
      h.backend->prepare(file, role, [g, uri = h.spec.uri, file = file](const std::string& error) {
        if (!error.empty()) g->errors.push_back(fmt::format("libvirt host {}: {}: {}", uri, file.string(), error));
        if (--g->pending == 0) g->done(g->errors);
      });
    }
  }
  if (g->pending == 0) asio::post(io_, [g] { g->done({}); });
}

void LibvirtPool::probe_kvm(const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                            std::chrono::milliseconds timeout,
                            std::function<void(std::map<std::string, AccelDecision>)> done) {
  /// Probes of every host in flight, and their decisions.
  struct Gather {
    int pending = 0;
    std::map<std::string, AccelDecision> decisions;
    std::function<void(std::map<std::string, AccelDecision>)> done;
  };
  auto g = std::make_shared<Gather>();
  g->done = std::move(done);
  for (auto& h : state_->hosts) {
    if (!h.c.up) continue;
    ++g->pending;
    h.backend->probe_kvm(kernel, initrd, timeout, [g, uri = h.spec.uri](AccelDecision d) {
      g->decisions[uri] = std::move(d);
      if (--g->pending == 0) g->done(g->decisions);
    });
  }
  if (g->pending == 0) asio::post(io_, [g] { g->done({}); });
}

}  // namespace numasoak::vm
