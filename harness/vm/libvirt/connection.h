// Connection: one libvirt host as numasoak holds it (internal to vm/libvirt).
//
// Owns the virConnectPtr with keepalive, the close callback (a lost host
// ends its guests with a host-gone exit), the lifecycle/reboot event
// subscriptions (dispatched to guests by domain name), the host's
// capabilities, its VolumeStore, and the orphan clean-up at open.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "vm/libvirt/domain_xml.h"
#include "vm/libvirt/event_loop.h"
#include "vm/libvirt/libvirt_backend.h"
#include "vm/libvirt/volumes.h"

typedef struct _virConnect* virConnectPtr;
typedef struct _virDomain* virDomainPtr;

namespace numasoak::vm::libvirt {

class GuestImpl;

/// One libvirt connection: capabilities, volumes, guests and keepalive of one host.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::io_context& io, std::string uri, LibvirtOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Blocking open (see LibvirtBackend::connect); throws one-line Errors.
  void open();
  // TCP check of a remote URI's endpoint on `io`; done(nullopt) when fine
  // or not applicable.
  static void check_reachable(boost::asio::io_context& io, const std::string& uri, std::chrono::milliseconds timeout,
                              std::function<void(std::optional<Error>)> done);
  // Our own close: destroys the domains still running, then disconnects.
  void shutdown();

  bool is_open() const { return conn_ != nullptr; }
  virConnectPtr raw() const { return conn_; }
  boost::asio::io_context& io() { return io_; }
  const std::string& uri() const { return uri_; }
  const LibvirtOptions& options() const { return options_; }
  LibvirtHostInfo& info() { return info_; }
  VolumeStore& volumes() { return volumes_; }
  OwnerTag owner() const;

  // KVM or TCG for a guest that asks for `requested`.
  bool use_kvm(Accel requested) const;

  void track(const std::string& name, const std::shared_ptr<GuestImpl>& g);
  void forget(const std::string& name);
  int running() const { return static_cast<int>(guests_.size()); }

  std::function<void(const std::string&)> on_lost;
  std::function<void()> on_guest_ended;
  void guest_ended();

 private:
  static int lifecycle_cb(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque);
  static int reboot_cb(virConnectPtr, virDomainPtr dom, void* opaque);
  static void close_cb(virConnectPtr, int reason, void* opaque);
  std::shared_ptr<GuestImpl> guest_of(virDomainPtr dom);
  void lost(const std::string& why);
  void teardown();
  void read_capabilities();
  void remove_orphans();

  boost::asio::io_context& io_;
  EventLoopBinding binding_;
  std::string uri_;
  LibvirtOptions options_;
  std::string instance_;
  virConnectPtr conn_ = nullptr;
  int lifecycle_id_ = -1, reboot_id_ = -1;
  bool close_registered_ = false;
  LibvirtHostInfo info_;
  VolumeStore volumes_;
  std::map<std::string, std::weak_ptr<GuestImpl>> guests_;
};

}  // namespace numasoak::vm::libvirt
