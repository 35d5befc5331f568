#include "vm/libvirt/libvirt_backend.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "vm/guest_cmdline.h"
#include "vm/libvirt/connection.h"
#include "vm/libvirt/domain_xml.h"
#include "vm/libvirt/guest.h"
#include "vm/libvirt/owner.h"

namespace numasoak::vm {

namespace asio = boost::asio;
using libvirt::Connection;

LibvirtBackend::LibvirtBackend(asio::io_context& io, std::string uri, LibvirtOptions options)
    : io_(io), conn_(std::make_shared<Connection>(io, std::move(uri), std::move(options))) {}

LibvirtBackend::~LibvirtBackend() {
  conn_->on_lost = nullptr;
  conn_->on_guest_ended = nullptr;
  conn_->shutdown();
}

void LibvirtBackend::connect() { conn_->open(); }

void LibvirtBackend::connect_async(std::function<void(std::optional<Error>)> done) {
  Connection::check_reachable(io_, conn_->uri(), conn_->options().connect_check_timeout,
                              [weak = std::weak_ptr<Connection>(conn_), done](std::optional<Error> problem) {
                                auto c = weak.lock();
                                if (!c) return;
                                if (problem) return done(std::move(problem));
                                try {
                                  c->open();
                                } catch (const Error& e) {
                                  return done(e);
                                }
                                done(std::nullopt);
                              });
}

bool LibvirtBackend::connected() const { return conn_->is_open(); }
const LibvirtHostInfo& LibvirtBackend::info() const { return conn_->info(); }
const std::string& LibvirtBackend::uri() const { return conn_->uri(); }
std::string LibvirtBackend::name() const { return conn_->uri(); }
int LibvirtBackend::running() const { return conn_->running(); }
Accel LibvirtBackend::accel_for(Accel requested) const { return conn_->use_kvm(requested) ? Accel::kKvm : Accel::kTcg; }
int LibvirtBackend::uploads() const { return conn_->volumes().uploads_done(); }
int LibvirtBackend::reuses() const { return conn_->volumes().reused(); }

void LibvirtBackend::on_connection_lost(std::function<void(const std::string&)> cb) { conn_->on_lost = std::move(cb); }
void LibvirtBackend::on_guest_ended(std::function<void()> cb) { conn_->on_guest_ended = std::move(cb); }

std::string LibvirtBackend::volume_path(const std::filesystem::path& file, const std::string& role) {
  return conn_->volumes().path_of(conn_->volumes().volume_name(file, role));
}

void LibvirtBackend::prepare(const std::filesystem::path& file, const std::string& role,
                             std::function<void(const std::string&)> done) {
  if (!conn_->is_open()) {
    asio::post(io_, [done, uri = conn_->uri()] { done("libvirt host " + uri + " is not connected"); });
    return;
  }
  conn_->volumes().ensure(file, conn_->volumes().volume_name(file, role), std::move(done));
}

namespace {

std::unique_ptr<Guest> start_guest(const std::shared_ptr<Connection>& conn, const GuestSpec& spec, GuestHandlers handlers,
                                   bool force_kvm) {
  if (!conn->is_open()) {
    throw infra_error(fmt::format("libvirt host {} is not connected", conn->uri()), "wait for it to come back or leave it out");
  }
  for (const auto& [what, p] : {std::pair{"kernel", spec.kernel}, std::pair{"initramfs", spec.initrd}}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      throw usage_error(fmt::format("{} {} does not exist or is not a file", what, p.string()));
    }
  }
  auto& vols = conn->volumes();
  const std::string kernel_vol = vols.volume_name(spec.kernel, "bzImage");
  const std::string initrd_vol = vols.volume_name(spec.initrd, "initramfs");

  libvirt::DomainXmlParams p;
  p.name = spec.name;
  p.topology = spec.topology;
  p.kvm = force_kvm || conn->use_kvm(spec.accel);
  p.kernel = vols.path_of(kernel_vol);
  p.initrd = vols.path_of(initrd_vol);
  p.cmdline = backend_cmdline(spec.cmdline);
  p.machine = conn->options().machine;
  p.owner = conn->owner();
  auto impl = std::make_shared<libvirt::GuestImpl>(conn, spec.name, libvirt::render_domain_xml(p), std::move(handlers));
  if (vols.present(kernel_vol, spec.kernel) && vols.present(initrd_vol, spec.initrd)) {
    vols.count_reuse();
    vols.count_reuse();
    impl->launch();  // errors reach the caller as Errors
  } else {
    // First use of these files on this host: the uploads run on the loop
    // and the domain starts when they are done (failures end the guest).
    impl->launch_when_ready({{spec.kernel, kernel_vol}, {spec.initrd, initrd_vol}});
  }
  return std::make_unique<libvirt::LibvirtGuest>(std::move(impl));
}

}  // namespace

std::unique_ptr<Guest> LibvirtBackend::start(const GuestSpec& spec, GuestHandlers handlers) {
  return start_guest(conn_, spec, std::move(handlers), false);
}

void LibvirtBackend::probe_kvm(const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                               std::chrono::milliseconds timeout, std::function<void(AccelDecision)> done) {
  auto& info = conn_->info();
  if (conn_->options().accel == Accel::kTcg || !info.kvm) {
    AccelDecision d;
    if (conn_->options().accel != Accel::kTcg) d.warning = fmt::format("libvirt host {} lists no KVM; using TCG", uri());
    asio::post(io_, [done, d] { done(d); });
    return;
  }
  ProbeTarget target;
  target.guest_name = fmt::format("numasoak-kvm-probe-{}-{}", ::getpid(), libvirt::new_instance_id());
  target.where = "on libvirt host " + uri();
  target.fallback = "using TCG there (much slower)";
  std::weak_ptr<Connection> weak = conn_;
  probe_boot(
      io_,
      [weak](const GuestSpec& s, GuestHandlers h) -> std::unique_ptr<Guest> {
        auto c = weak.lock();
        if (!c) throw infra_error("the libvirt connection went away");
        return start_guest(c, s, std::move(h), true);
      },
      conn_->options().accel == Accel::kKvm, target, kernel, initrd, timeout,
      [weak, done](AccelDecision d) {
        // The host's own record: start() asks it for every later guest.
        if (auto c = weak.lock()) c->info().kvm_works = d.accel == Accel::kKvm;
        done(d);
      });
}

}  // namespace numasoak::vm
