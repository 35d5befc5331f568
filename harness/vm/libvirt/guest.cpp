#include "vm/libvirt/guest.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <spdlog/spdlog.h>

#include "vm/libvirt/errors.h"

namespace numasoak::vm::libvirt {

namespace asio = boost::asio;

namespace {

constexpr size_t kRecvChunk = 64 * 1024;
constexpr int kChunksPerTurn = 16;  // then back to the loop
const char* const kConsoleDevices[2] = {"serial0", "serial1"};  // ttyS0 console, ttyS1 agent

const char* stopped_detail(int detail) {
  switch (detail) {
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return "destroyed";
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED: return "crashed";
    case VIR_DOMAIN_EVENT_STOPPED_MIGRATED: return "migrated";
    case VIR_DOMAIN_EVENT_STOPPED_SAVED: return "saved";
    case VIR_DOMAIN_EVENT_STOPPED_FAILED: return "failed: the emulator exited unexpectedly";
    case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: return "snapshot loaded";
    default: return "stopped";
  }
}

}  // namespace

/// What a console stream callback needs: its guest and which port.
struct GuestImpl::StreamCtx {
  std::weak_ptr<GuestImpl> guest;
  int index;
};

GuestImpl::GuestImpl(std::shared_ptr<Connection> conn, std::string name, std::string xml, GuestHandlers handlers)
    : conn_(std::move(conn)),
      name_(std::move(name)),
      xml_(std::move(xml)),
      handlers_(std::move(handlers)),
      drain_timer_(conn_->io()),
      stop_timer_(conn_->io()) {}

GuestImpl::~GuestImpl() {
  for (auto& st : streams_) {
    if (st) virStreamFree(st);
  }
  if (dom_) virDomainFree(dom_);
}

void GuestImpl::launch_when_ready(std::vector<std::pair<std::filesystem::path, std::string>> volumes) {
  conn_->track(name_, shared_from_this());
  pending_volumes_ = static_cast<int>(volumes.size());
  for (const auto& [file, volume] : volumes) {
    conn_->volumes().ensure(file, volume, [weak = weak_from_this()](const std::string& error) {
      auto self = weak.lock();
      if (!self || self->finished_) return;
      if (!error.empty() && self->volume_error_.empty()) self->volume_error_ = error;
      if (--self->pending_volumes_ > 0) return;
      if (!self->volume_error_.empty()) {
        self->finish(ExitInfo{ExitCause::kCrashed, fmt::format("libvirt host {}: {}", self->conn_->uri(), self->volume_error_), ""});
        return;
      }
      if (self->stop_requested_) {
        self->finish(ExitInfo{ExitCause::kClean, "stopped before the domain started", ""});
        return;
      }
      try {
        self->launch();
      } catch (const Error& e) {
        self->finish(ExitInfo{ExitCause::kCrashed, e.what(), ""});
      }
    });
  }
}

void GuestImpl::launch() {
  auto self = shared_from_this();
  if (!conn_->is_open()) throw infra_error(fmt::format("libvirt host {} is not connected", conn_->uri()));
  conn_->track(name_, self);
  // Paused first: a pty serial drops what is written while nobody reads,
  // and the kernel's first lines matter.
  dom_ = virDomainCreateXML(conn_->raw(), xml_.c_str(), VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);
  if (!dom_) {
    const auto e = last_error();
    conn_->forget(name_);
    const Failure why = classify_create(e);
    if (why == Failure::kConnectionLost) {
      // Nothing about this guest or its kernel: the host went away under
      // the call. The run ends as host-gone (re-queued) and the pool
      // reconnects, as when the host goes away while the guest runs.
      const std::string reason =
          fmt::format("libvirt host {}: connection lost while starting domain {}: {}", conn_->uri(), name_, e.message);
      asio::post(conn_->io(), [self, reason] { self->host_gone(reason); });
      return;
    }
    if (why == Failure::kEmulatorDied) {
      // Nothing about the kernel either (it never ran): the run is lost and
      // re-queued, as when QEMU dies under a running guest.
      ExitInfo died{ExitCause::kCrashed,
                    fmt::format("libvirt host {}: QEMU died while domain {} started: {}", conn_->uri(), name_, e.message), ""};
      died.emulator_died = true;
      asio::post(conn_->io(), [self, died] { self->finish(died); });
      return;
    }
    throw create_error(conn_->uri(), name_, e);
  }
  launched_ = true;
  try {
    open_console(0);
    open_console(1);
    if (virDomainResume(dom_) < 0) {
      throw infra_error(fmt::format("libvirt host {}: cannot resume domain {}: {}", conn_->uri(), name_, last_error().message));
    }
  } catch (...) {
    destroy_domain();
    for (int i = 0; i < 2; ++i) {
      if (streams_[i] && !stream_done_[i]) {
        virStreamEventRemoveCallback(streams_[i]);
        virStreamAbort(streams_[i]);
        stream_done_[i] = true;
      }
    }
    virDomainFree(dom_);
    dom_ = nullptr;
    conn_->forget(name_);
    finished_ = true;
    handlers_ = {};
    throw;
  }
  spdlog::debug("libvirt host {}: started domain {}", conn_->uri(), name_);
}

void GuestImpl::open_console(int index) {
  virStreamPtr st = virStreamNew(conn_->raw(), VIR_STREAM_NONBLOCK);
  if (!st) throw infra_error(fmt::format("libvirt host {}: cannot create a stream: {}", conn_->uri(), last_error().message));
  streams_[index] = st;
  if (virDomainOpenConsole(dom_, kConsoleDevices[index], st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
    throw infra_error(fmt::format("libvirt host {}: cannot open {} of domain {}: {}", conn_->uri(), kConsoleDevices[index],
                                  name_, last_error().message));
  }
  auto* ctx = new StreamCtx{weak_from_this(), index};
  if (virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP,
                                &GuestImpl::stream_cb, ctx, [](void* p) { delete static_cast<StreamCtx*>(p); }) < 0) {
    delete ctx;
    throw infra_error(fmt::format("libvirt host {}: cannot watch {} of domain {}: {}", conn_->uri(), kConsoleDevices[index],
                                  name_, last_error().message));
  }
}

void GuestImpl::stream_cb(virStreamPtr, int events, void* opaque) {
  auto* ctx = static_cast<StreamCtx*>(opaque);
  if (auto g = ctx->guest.lock()) g->on_stream(ctx->index, events);
}

void GuestImpl::on_stream(int index, int events) {
  auto self = shared_from_this();
  if (stream_done_[index] || !streams_[index]) return;
  std::array<char, kRecvChunk> buf;
  for (int i = 0; i < kChunksPerTurn; ++i) {
    const int n = virStreamRecv(streams_[index], buf.data(), buf.size());
    if (n > 0) {
      const std::string_view bytes(buf.data(), static_cast<size_t>(n));
      auto& sink = index == 0 ? handlers_.on_console : handlers_.on_agent;
      if (sink) sink(bytes);
      if (stream_done_[index] || finished_) return;  // the handler stopped us
      continue;
    }
    if (n == -2) {
      if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) break;
      return;  // nothing more now
    }
    if (n < 0) virResetLastError();
    close_stream(index, n == 0);
    return;
  }
  if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) close_stream(index, false);
}

void GuestImpl::close_stream(int index, bool eof) {
  if (stream_done_[index] || !streams_[index]) return;
  stream_done_[index] = true;
  virStreamEventRemoveCallback(streams_[index]);
  if (eof) virStreamFinish(streams_[index]);
  else virStreamAbort(streams_[index]);
  virResetLastError();
  // The stream is freed with the guest, never inside its own callback.
  maybe_finish();
}

void GuestImpl::emit(GuestEvent e) {
  if (handlers_.on_event) handlers_.on_event(e);
}

void GuestImpl::on_lifecycle(int event, int detail) {
  auto self = shared_from_this();
  if (finished_) return;
  switch (event) {
    case VIR_DOMAIN_EVENT_CRASHED:
      if (!panicked_) {
        panicked_ = true;
        emit(GuestEvent::kPanicked);
      }
      break;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
      if (!shutdown_seen_) {
        shutdown_seen_ = true;
        emit(GuestEvent::kShutdown);
      }
      break;
    case VIR_DOMAIN_EVENT_STOPPED:
      if (detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED && !panicked_) {
        panicked_ = true;
        emit(GuestEvent::kPanicked);
      }
      if (detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN && !shutdown_seen_) {
        shutdown_seen_ = true;
        emit(GuestEvent::kShutdown);
      }
      stopped(detail);
      break;
    default:
      break;
  }
}

void GuestImpl::on_reboot() {
  auto self = shared_from_this();
  if (finished_ || shutdown_seen_) return;
  shutdown_seen_ = true;  // a reset with on_reboot=destroy: QEMU's RESET
  emit(GuestEvent::kShutdown);
}

void GuestImpl::stopped(int detail) {
  if (exited_ || finished_) return;
  exited_ = true;
  clean_ = detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN || (stop_requested_ && detail == VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
  emulator_died_ = detail == VIR_DOMAIN_EVENT_STOPPED_FAILED;
  exit_reason_ = fmt::format("domain stopped ({})", stopped_detail(detail));
  stop_timer_.cancel();
  // The console may still hold the last lines: wait for both streams to
  // end, at most `drain`.
  drain_timer_.expires_after(conn_->options().drain);
  drain_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    for (int i = 0; i < 2; ++i) self->close_stream(i, false);
    self->finish(self->stopped_exit());
  });
  maybe_finish();
}

void GuestImpl::maybe_finish() {
  if (!exited_ || finished_) return;
  for (int i = 0; i < 2; ++i) {
    if (streams_[i] && !stream_done_[i]) return;
  }
  finish(stopped_exit());
}

ExitInfo GuestImpl::stopped_exit() const {
  ExitInfo info{clean_ ? ExitCause::kClean : ExitCause::kCrashed, exit_reason_, ""};
  info.emulator_died = emulator_died_;
  return info;
}

void GuestImpl::abort_streams() {
  for (int i = 0; i < 2; ++i) {
    if (streams_[i] && !stream_done_[i]) {
      stream_done_[i] = true;
      virStreamEventRemoveCallback(streams_[i]);
      virStreamAbort(streams_[i]);
    }
  }
  virResetLastError();
}

void GuestImpl::host_gone(const std::string& reason) {
  auto self = shared_from_this();
  if (finished_) return;
  exited_ = true;
  abort_streams();
  finish(ExitInfo{ExitCause::kHostGone, reason, ""});
}

void GuestImpl::destroy_domain() {
  if (!dom_ || !conn_->is_open()) return;
  if (virDomainDestroy(dom_) < 0) {
    const auto e = last_error();
    if (e.code != VIR_ERR_OPERATION_INVALID && e.code != VIR_ERR_NO_DOMAIN) {
      spdlog::warn("libvirt host {}: cannot destroy domain {}: {}", conn_->uri(), name_, e.message);
    }
  }
}

void GuestImpl::stop(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  if (finished_ || stop_requested_) return;
  stop_requested_ = true;
  if (!launched_) {
    // Still waiting for its volumes: nothing runs yet.
    asio::post(conn_->io(), [self] { self->finish(ExitInfo{ExitCause::kClean, "stopped before the domain started", ""}); });
    return;
  }
  if (exited_) return;
  destroy_domain();  // libvirt: SIGTERM, then SIGKILL; STOPPED/DESTROYED follows
  stop_timer_.expires_after(grace + conn_->options().drain + std::chrono::seconds(5));
  stop_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (ec || !s || s->finished_) return;
    s->finish(ExitInfo{ExitCause::kCrashed, "the domain did not report that it stopped", ""});
  });
}

void GuestImpl::detach() {
  auto self = shared_from_this();
  handlers_ = {};
  finish(ExitInfo{});  // destroys the domain if it still runs
}

void GuestImpl::finish(const ExitInfo& info) {
  auto self = shared_from_this();
  if (finished_) return;
  finished_ = true;
  drain_timer_.cancel();
  stop_timer_.cancel();
  abort_streams();
  if (launched_ && !exited_) destroy_domain();
  conn_->forget(name_);
  conn_->guest_ended();
  auto on_exit = std::move(handlers_.on_exit);
  handlers_ = {};
  // Streams and the domain handle are freed with this object, later, from
  // a clean stack.
  asio::post(conn_->io(), [self] {});
  if (on_exit) on_exit(info);
}

}  // namespace numasoak::vm::libvirt
