#include "vm/libvirt/connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <regex>
#include <spdlog/spdlog.h>

#include "vm/accel_probe.h"
#include "vm/libvirt/errors.h"
#include "vm/libvirt/guest.h"
#include "vm/libvirt/owner.h"
#include "vm/libvirt/uri.h"

namespace numasoak::vm::libvirt {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using WeakConn = std::weak_ptr<Connection>;
void delete_weak(void* p) { delete static_cast<WeakConn*>(p); }

const char* close_reason(int reason) {
  switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR: return "connection error";
    case VIR_CONNECT_CLOSE_REASON_EOF: return "connection closed by the other end";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "keepalive timeout";
    case VIR_CONNECT_CLOSE_REASON_CLIENT: return "closed by numasoak";
    default: return "connection lost";
  }
}

// No interactive credentials: a campaign runs unattended.
int no_credentials(virConnectCredentialPtr, unsigned int, void*) { return -1; }

}  // namespace

Connection::Connection(asio::io_context& io, std::string uri, LibvirtOptions options)
    : io_(io),
      binding_(io),
      uri_(std::move(uri)),
      options_(std::move(options)),
      instance_(new_instance_id()),
      volumes_(io, uri_) {
  register_instance(instance_);
}

Connection::~Connection() {
  shutdown();
  unregister_instance(instance_);
}

OwnerTag Connection::owner() const { return self_owner(uri_, instance_); }

bool Connection::use_kvm(Accel requested) const {
  switch (options_.accel) {
    case Accel::kTcg: return false;
    case Accel::kKvm: return true;
    case Accel::kAuto: break;
  }
  return requested == Accel::kKvm && info_.kvm && info_.kvm_works.value_or(true);
}

void Connection::check_reachable(asio::io_context& io, const std::string& uri, std::chrono::milliseconds timeout,
                                 std::function<void(std::optional<Error>)> done) {
  const auto endpoint = tcp_endpoint(uri);
  if (!endpoint) {
    asio::post(io, [done] { done(std::nullopt); });
    return;
  }
  /// The TCP reachability check in flight: resolver, socket and deadline.
  struct State {
    tcp::resolver resolver;
    tcp::socket socket;
    asio::steady_timer timer;
    bool decided = false;
    std::function<void(std::optional<Error>)> done;
    explicit State(asio::io_context& c) : resolver(c), socket(c), timer(c) {}
  };
  auto st = std::make_shared<State>(io);
  st->done = std::move(done);
  const auto [host, port] = *endpoint;
  auto decide = [st, uri, host = host, port = port](const std::string& problem) {
    if (st->decided) return;
    st->decided = true;
    st->timer.cancel();
    st->resolver.cancel();
    boost::system::error_code ignored;
    st->socket.close(ignored);
    if (problem.empty()) return st->done(std::nullopt);
    st->done(infra_error(fmt::format("libvirt host {}: cannot connect: {}:{} is not reachable ({})", uri, host, port, problem),
                         "check that the host is up and reachable, and the port in the URI (ssh: sshd listening)"));
  };
  st->timer.expires_after(timeout);
  st->timer.async_wait([decide, timeout](const boost::system::error_code& ec) {
    if (!ec) decide(fmt::format("no answer within {} ms", timeout.count()));
  });
  st->resolver.async_resolve(host, std::to_string(port), [st, decide](const boost::system::error_code& ec,
                                                                      tcp::resolver::results_type results) {
    if (st->decided) return;
    // A name only ssh knows (an alias in ssh_config) is for ssh to resolve.
    if (ec) return decide("");
    asio::async_connect(st->socket, results, [decide](const boost::system::error_code& cec, const tcp::endpoint&) {
      decide(cec ? cec.message() : "");
    });
  });
}

void Connection::open() {
  if (conn_) return;
  const auto t0 = std::chrono::steady_clock::now();
  // Bounded TCP check first: ssh would block this thread for minutes on a
  // black-holed address.
  {
    asio::io_context check_io;
    std::optional<Error> problem;
    check_reachable(check_io, uri_, options_.connect_check_timeout, [&](std::optional<Error> e) { problem = std::move(e); });
    check_io.run();
    if (problem) throw *problem;
  }
  virConnectAuth auth{nullptr, 0, &no_credentials, nullptr};
  const std::string open_uri = unattended_uri(uri_);
  virConnectPtr c = virConnectOpenAuth(open_uri.c_str(), &auth, 0);
  if (!c) throw connect_error(uri_, last_error());
  conn_ = c;
  try {
    if (virConnectSetKeepAlive(conn_, static_cast<int>(options_.keepalive_interval.count()),
                               static_cast<unsigned>(options_.keepalive_count)) < 0) {
      spdlog::warn("libvirt host {}: keepalive is not available ({}); a silent host is noticed late", uri_,
                   last_error().message);
    }
    auto* weak = new WeakConn(weak_from_this());
    if (virConnectRegisterCloseCallback(conn_, &Connection::close_cb, weak, &delete_weak) == 0) {
      close_registered_ = true;
    } else {
      delete weak;
      spdlog::warn("libvirt host {}: cannot watch the connection ({})", uri_, last_error().message);
    }
    lifecycle_id_ = virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                     VIR_DOMAIN_EVENT_CALLBACK(&Connection::lifecycle_cb),
                                                     new WeakConn(weak_from_this()), &delete_weak);
    if (lifecycle_id_ < 0) throw infra_error(fmt::format("libvirt host {}: cannot subscribe to domain events: {}", uri_, last_error().message));
    reboot_id_ = virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_REBOOT,
                                                  VIR_DOMAIN_EVENT_CALLBACK(&Connection::reboot_cb),
                                                  new WeakConn(weak_from_this()), &delete_weak);
    virResetLastError();
    read_capabilities();
    volumes_.open(conn_, options_.pool_name, options_.pool_dir);
    if (options_.cleanup_orphans) remove_orphans();
  } catch (...) {
    teardown();
    throw;
  }
  spdlog::debug("libvirt host {}: connected in {:.2f}s ({} CPUs, {}, libvirt {})", uri_,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), info_.cpus,
                info_.kvm ? "KVM listed" : "no KVM", info_.libvirt_version);
}

void Connection::read_capabilities() {
  char* caps = virConnectGetCapabilities(conn_);
  if (!caps) throw infra_error(fmt::format("libvirt host {}: cannot read capabilities: {}", uri_, last_error().message));
  const std::string xml(caps);
  free(caps);
  // The x86_64 hvm guest: its emulator and the domain types it offers.
  bool found = false;
  size_t pos = 0;
  while ((pos = xml.find("<guest>", pos)) != std::string::npos) {
    const size_t end = xml.find("</guest>", pos);
    const std::string g = xml.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? xml.size() : end;
    if (g.find("<os_type>hvm</os_type>") == std::string::npos || g.find("<arch name='x86_64'>") == std::string::npos) continue;
    found = true;
    std::smatch m;
    static const std::regex kEmu(R"(<emulator>([^<]*)</emulator>)");
    if (std::regex_search(g, m, kEmu)) info_.emulator = m[1].str();
    info_.kvm = g.find("<domain type='kvm'") != std::string::npos;
  }
  // On this machine, /dev/kvm must at least open; elsewhere only a boot
  // (probe_kvm) can tell.
  if (info_.kvm && !tcp_endpoint(uri_) && parse_uri(uri_) && parse_uri(uri_)->host.empty()) {
    if (const std::string problem = kvm_device_problem(); !problem.empty()) {
      spdlog::debug("libvirt host {} lists KVM but {}", uri_, problem);
      info_.kvm = false;
    }
  }
  if (!found) {
    throw usage_error(fmt::format("libvirt host {} offers no x86_64 emulator", uri_),
                      "install qemu-system-x86 and libvirt-daemon-driver-qemu there, then restart libvirtd");
  }
  if (options_.accel == Accel::kKvm && !info_.kvm) {
    throw usage_error(fmt::format("libvirt host {} lists no KVM, and accel = kvm requires it", uri_),
                      "enable KVM on that host (kvm module, /dev/kvm) or set accel = auto");
  }
  virNodeInfo node{};
  if (virNodeGetInfo(conn_, &node) == 0) info_.cpus = static_cast<int>(node.cpus);
  if (char* h = virConnectGetHostname(conn_)) {
    info_.hostname = h;
    free(h);
  }
  unsigned long version = 0;
  if (virConnectGetLibVersion(conn_, &version) == 0) info_.libvirt_version = version;
  virResetLastError();
}

void Connection::remove_orphans() {
  info_.orphans_removed = 0;
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(conn_, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  const OwnerTag me = owner();
  for (int i = 0; i < n; ++i) {
    virDomainPtr d = doms[i];
    const char* raw_name = virDomainGetName(d);
    const std::string name = raw_name ? raw_name : "";
    if (name.rfind("numasoak-", 0) == 0) {
      char* meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, kOwnerNamespace, VIR_DOMAIN_AFFECT_LIVE);
      std::optional<OwnerTag> tag;
      if (meta) {
        tag = parse_owner_xml(meta);
        free(meta);
      }
      virResetLastError();
      if (tag) {
        OwnerFacts facts;
        facts.owner_process_alive = process_alive(tag->pid, tag->start);
        facts.instance_live = instance_live(tag->instance);
        facts.tracked_here = guests_.count(name) > 0;
        if (auto why = orphan_reason(*tag, me, facts)) {
          if (virDomainDestroy(d) == 0) {
            ++info_.orphans_removed;
            spdlog::info("libvirt host {}: destroyed orphan domain {}: {}", uri_, name, *why);
          } else {
            spdlog::warn("libvirt host {}: cannot destroy orphan domain {}: {}", uri_, name, last_error().message);
          }
        }
      }
    }
    virDomainFree(d);
  }
  free(doms);
  virResetLastError();
}

void Connection::teardown() {
  volumes_.close("the connection to " + uri_ + " closed");
  if (!conn_) return;
  if (lifecycle_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, lifecycle_id_);
  if (reboot_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, reboot_id_);
  if (close_registered_) virConnectUnregisterCloseCallback(conn_, &Connection::close_cb);
  lifecycle_id_ = reboot_id_ = -1;
  close_registered_ = false;
  virConnectClose(conn_);
  conn_ = nullptr;
  virResetLastError();
}

void Connection::shutdown() {
  auto guests = guests_;
  for (auto& [name, weak] : guests) {
    if (auto g = weak.lock()) g->detach();
  }
  guests_.clear();
  teardown();
}

void Connection::track(const std::string& name, const std::shared_ptr<GuestImpl>& g) { guests_[name] = g; }

void Connection::forget(const std::string& name) { guests_.erase(name); }

void Connection::guest_ended() {
  if (!on_guest_ended) return;
  asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock(); self && self->on_guest_ended) self->on_guest_ended();
  });
}

std::shared_ptr<GuestImpl> Connection::guest_of(virDomainPtr dom) {
  const char* name = virDomainGetName(dom);
  if (!name) return nullptr;
  auto it = guests_.find(name);
  return it == guests_.end() ? nullptr : it->second.lock();
}

int Connection::lifecycle_cb(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto self = static_cast<WeakConn*>(opaque)->lock();
  if (!self) return 0;
  if (auto g = self->guest_of(dom)) g->on_lifecycle(event, detail);
  return 0;
}

int Connection::reboot_cb(virConnectPtr, virDomainPtr dom, void* opaque) {
  auto self = static_cast<WeakConn*>(opaque)->lock();
  if (!self) return 0;
  if (auto g = self->guest_of(dom)) g->on_reboot();
  return 0;
}

void Connection::close_cb(virConnectPtr, int reason, void* opaque) {
  if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT) return;
  auto weak = *static_cast<WeakConn*>(opaque);
  const std::string why = close_reason(reason);
  // Not from inside libvirt's callback: closing the connection there deadlocks.
  if (auto self = weak.lock()) {
    asio::post(self->io_, [weak, why] {
      if (auto s = weak.lock()) s->lost(why);
    });
  }
}

void Connection::lost(const std::string& why) {
  if (!conn_) return;
  spdlog::warn("libvirt host {} went away ({}); its guests end as lost", uri_, why);
  const std::string reason = fmt::format("{}libvirt host {} went away ({})", kHostGonePrefix, uri_, why);
  auto guests = guests_;
  guests_.clear();
  for (auto& [name, weak] : guests) {
    if (auto g = weak.lock()) g->host_gone(reason);
  }
  teardown();
  if (on_lost) on_lost(why);
}

}  // namespace numasoak::vm::libvirt
