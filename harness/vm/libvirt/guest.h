// GuestImpl: one transient domain and its two console streams (internal to
// vm/libvirt).
//
// Lifecycle: (volumes) -> created paused -> serial0/serial1 streams open ->
// resumed -> STOPPED event -> drain the streams (EOF or options.drain) ->
// on_exit, exactly once. A lost host ends it at once with a host-gone exit.
// Shared with the libvirt callbacks; the Guest handle detaching clears the
// handlers, after which nothing reaches the caller.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vm/backend.h"
#include "vm/libvirt/connection.h"

typedef struct _virStream* virStreamPtr;

namespace numasoak::vm::libvirt {

/// One transient domain: its volumes, console streams, events and exit.
class GuestImpl : public std::enable_shared_from_this<GuestImpl> {
 public:
  GuestImpl(std::shared_ptr<Connection> conn, std::string name, std::string xml, GuestHandlers handlers);
  ~GuestImpl();

  // Creates and starts the domain now; throws a one-line Error.
  void launch();
  // Starts it once the volumes are on the host; failures end the guest.
  void launch_when_ready(std::vector<std::pair<std::filesystem::path, std::string>> volumes);

  void on_lifecycle(int event, int detail);
  void on_reboot();
  void host_gone(const std::string& reason);
  void stop(std::chrono::milliseconds grace);
  void detach();

  const std::string& name() const { return name_; }
  const std::string& xml() const { return xml_; }

 private:
  struct StreamCtx;
  static void stream_cb(virStreamPtr st, int events, void* opaque);
  void open_console(int index);
  void on_stream(int index, int events);
  void close_stream(int index, bool eof);
  void emit(GuestEvent e);
  void stopped(int detail);
  // How the domain's stop event ended the guest.
  ExitInfo stopped_exit() const;
  void maybe_finish();
  void finish(const ExitInfo& info);
  // Stops reading both console streams (their callbacks, then the streams).
  void abort_streams();
  void destroy_domain();

  std::shared_ptr<Connection> conn_;
  std::string name_;
  std::string xml_;
  GuestHandlers handlers_;
  virDomainPtr dom_ = nullptr;
  std::array<virStreamPtr, 2> streams_{nullptr, nullptr};
  std::array<bool, 2> stream_done_{false, false};
  boost::asio::steady_timer drain_timer_, stop_timer_;
  int pending_volumes_ = 0;
  std::string volume_error_;
  std::string exit_reason_;
  bool clean_ = false;
  bool emulator_died_ = false;  // VIR_DOMAIN_EVENT_STOPPED_FAILED
  bool launched_ = false, exited_ = false, finished_ = false, stop_requested_ = false;
  bool panicked_ = false, shutdown_seen_ = false;
};

/// The Guest handle a LibvirtBackend returns, over its GuestImpl.
class LibvirtGuest : public Guest {
 public:
  explicit LibvirtGuest(std::shared_ptr<GuestImpl> impl) : impl_(std::move(impl)) {}
  ~LibvirtGuest() override { impl_->detach(); }
  void stop(std::chrono::milliseconds grace) override { impl_->stop(grace); }
  std::string command() const override { return impl_->xml(); }

 private:
  std::shared_ptr<GuestImpl> impl_;
};

}  // namespace numasoak::vm::libvirt
