#include "vm/libvirt/event_loop.h"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"

namespace numasoak::vm::libvirt {

namespace {

namespace asio = boost::asio;

/// One libvirt fd watch. Several may share an fd (libvirt allows that for
/// disjoint event sets), so the Asio descriptor lives in FdWatch.
struct Handle {
  int fd = -1;
  int events = 0;
  virEventHandleCallback cb = nullptr;
  void* opaque = nullptr;
  virFreeCallback ff = nullptr;
};

/// One file descriptor libvirt watches, and the handles watching it.
struct FdWatch {
  int fd = -1;
  std::unique_ptr<asio::posix::stream_descriptor> sd;
  std::vector<int> handles;
  bool read_pending = false, write_pending = false;
  bool dead = false;
};

/// One libvirt timeout, as an Asio steady_timer.
struct Timer {
  int id = 0;
  int timeout = -1;  // ms; -1 disabled, 0 = every loop iteration
  virEventTimeoutCallback cb = nullptr;
  void* opaque = nullptr;
  virFreeCallback ff = nullptr;
  std::unique_ptr<asio::steady_timer> timer;
  unsigned generation = 0;
  bool removed = false;
};

using Frees = std::vector<std::pair<virFreeCallback, void*>>;

/// libvirt's event loop implementation over the bound io_context (one per process).
class Loop {
 public:
  static Loop& instance() {
    static Loop* loop = new Loop();  // never destroyed: libvirt may call late
    return *loop;
  }

  void bind(asio::io_context& io) {
    std::lock_guard lock(mu_);
    if (io_ && io_ != &io) {
      throw infra_error("libvirt is already bound to another event loop in this process",
                        "use one io_context for every libvirt host");
    }
    io_ = &io;
    ++refs_;
  }

  void unbind() {
    Frees frees;
    {
      std::lock_guard lock(mu_);
      if (--refs_ > 0) return;
      for (auto& [fd, w] : fds_) drop_watch(*w);
      fds_.clear();
      for (auto& [id, t] : timers_) {
        t->removed = true;
        if (t->timer) t->timer->cancel();
        t->timer.reset();
      }
      // Handles and timers libvirt still thinks it has stay in the tables
      // without I/O; remove calls for them still find them.
      frees.swap(frees_);
      io_ = nullptr;
    }
    run_frees(frees);
  }

  EventLoopCounts counts() {
    std::lock_guard lock(mu_);
    int t = 0;
    for (auto& [id, tm] : timers_) t += tm->removed ? 0 : 1;
    return {static_cast<int>(handles_.size()), t};
  }

  // --- the functions libvirt calls ---

  int add_handle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
    std::lock_guard lock(mu_);
    if (!io_) return -1;
    auto& w = fds_[fd];
    if (!w) {
      w = std::make_shared<FdWatch>();
      w->fd = fd;
      w->sd = std::make_unique<asio::posix::stream_descriptor>(*io_);
      boost::system::error_code ec;
      w->sd->assign(fd, ec);
      if (ec) {
        w->sd.reset();
        fds_.erase(fd);
        return -1;
      }
    }
    const int id = next_handle_++;
    handles_[id] = Handle{fd, events, cb, opaque, ff};
    w->handles.push_back(id);
    arm(w);
    return id;
  }

  void update_handle(int id, int events) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(id);
    if (it == handles_.end()) return;
    it->second.events = events;
    auto w = fds_.find(it->second.fd);
    if (w != fds_.end()) arm(w->second);
  }

  int remove_handle(int id) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(id);
    if (it == handles_.end()) return -1;
    const Handle h = it->second;
    handles_.erase(it);
    auto w = fds_.find(h.fd);
    if (w != fds_.end()) {
      auto& ids = w->second->handles;
      std::erase(ids, id);
      if (ids.empty()) {
        // Deregister now, not later: libvirt closes the fd after this call
        // and the number may be reused at once.
        drop_watch(*w->second);
        fds_.erase(w);
      }
    }
    queue_free(h.ff, h.opaque);
    return 0;
  }

  int add_timeout(int timeout, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
    std::lock_guard lock(mu_);
    if (!io_) return -1;
    auto t = std::make_shared<Timer>();
    t->id = next_timer_++;
    t->cb = cb;
    t->opaque = opaque;
    t->ff = ff;
    t->timer = std::make_unique<asio::steady_timer>(*io_);
    timers_[t->id] = t;
    set_timer(t, timeout);
    return t->id;
  }

  void update_timeout(int id, int timeout) {
    std::lock_guard lock(mu_);
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second->removed) return;
    set_timer(it->second, timeout);
  }

  int remove_timeout(int id) {
    std::lock_guard lock(mu_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return -1;
    auto t = it->second;
    timers_.erase(it);
    t->removed = true;
    if (t->timer) t->timer->cancel();
    t->timer.reset();
    queue_free(t->ff, t->opaque);
    return 0;
  }

 private:
  Loop() = default;

  // Called with mu_ held.
  void drop_watch(FdWatch& w) {
    w.dead = true;
    if (w.sd) {
      boost::system::error_code ec;
      w.sd->cancel(ec);
      w.sd->release();  // the fd belongs to libvirt: never close it
      w.sd.reset();
    }
  }

  // Starts the waits the fd's handles want (mu_ held).
  void arm(const std::shared_ptr<FdWatch>& w) {
    if (w->dead || !w->sd) return;
    int want = 0;
    for (int id : w->handles) {
      auto it = handles_.find(id);
      if (it != handles_.end()) want |= it->second.events;
    }
    if ((want & VIR_EVENT_HANDLE_READABLE) && !w->read_pending) {
      w->read_pending = true;
      w->sd->async_wait(asio::posix::stream_descriptor::wait_read,
                        [this, w](const boost::system::error_code& ec) { on_ready(w, VIR_EVENT_HANDLE_READABLE, ec); });
    }
    if ((want & VIR_EVENT_HANDLE_WRITABLE) && !w->write_pending) {
      w->write_pending = true;
      w->sd->async_wait(asio::posix::stream_descriptor::wait_write,
                        [this, w](const boost::system::error_code& ec) { on_ready(w, VIR_EVENT_HANDLE_WRITABLE, ec); });
    }
  }

  void on_ready(const std::shared_ptr<FdWatch>& w, int kind, const boost::system::error_code& ec) {
    std::vector<int> ids;
    {
      std::lock_guard lock(mu_);
      (kind == VIR_EVENT_HANDLE_READABLE ? w->read_pending : w->write_pending) = false;
      if (w->dead) return;
      if (ec == asio::error::operation_aborted) {
        arm(w);
        return;
      }
      ids = w->handles;
    }
    const int events = kind | (ec ? VIR_EVENT_HANDLE_ERROR : 0);
    for (int id : ids) {
      Handle h;
      {
        std::lock_guard lock(mu_);
        auto it = handles_.find(id);
        if (it == handles_.end() || !(it->second.events & kind)) continue;  // removed by an earlier callback
        h = it->second;
      }
      h.cb(id, h.fd, events, h.opaque);  // never with mu_ held: it calls back in
    }
    std::lock_guard lock(mu_);
    if (!w->dead) arm(w);
  }

  void set_timer(const std::shared_ptr<Timer>& t, int timeout) {
    t->timeout = timeout;
    ++t->generation;
    if (!t->timer) return;
    t->timer->cancel();
    if (timeout < 0) return;
    t->timer->expires_after(std::chrono::milliseconds(timeout));
    const unsigned gen = t->generation;
    t->timer->async_wait([this, t, gen](const boost::system::error_code& ec) { on_timer(t, gen, ec); });
  }

  void on_timer(const std::shared_ptr<Timer>& t, unsigned gen, const boost::system::error_code& ec) {
    virEventTimeoutCallback cb;
    void* opaque;
    {
      std::lock_guard lock(mu_);
      if (ec || t->removed || gen != t->generation) return;
      cb = t->cb;
      opaque = t->opaque;
    }
    cb(t->id, opaque);
    std::lock_guard lock(mu_);
    // Periodic until changed: re-arm unless the callback updated or removed it.
    if (!t->removed && gen == t->generation && t->timeout >= 0) set_timer(t, t->timeout);
  }

  // libvirt's free callbacks must run from a clean stack, never inside remove.
  void queue_free(virFreeCallback ff, void* opaque) {
    if (!ff) return;
    frees_.emplace_back(ff, opaque);
    if (io_ && !drain_posted_) {
      drain_posted_ = true;
      asio::post(*io_, [this] {
        Frees frees;
        {
          std::lock_guard lock(mu_);
          drain_posted_ = false;
          frees.swap(frees_);
        }
        run_frees(frees);
      });
    }
  }

  static void run_frees(Frees& frees) {
    for (auto& [ff, opaque] : frees) ff(opaque);
  }

  std::mutex mu_;
  asio::io_context* io_ = nullptr;
  int refs_ = 0;
  int next_handle_ = 1, next_timer_ = 1;
  std::map<int, Handle> handles_;
  std::map<int, std::shared_ptr<FdWatch>> fds_;
  std::map<int, std::shared_ptr<Timer>> timers_;
  Frees frees_;
  bool drain_posted_ = false;
};

void register_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (virInitialize() < 0) throw infra_error("cannot initialise the libvirt client library");
    // Errors are read with virGetLastError where they happen; libvirt's
    // default handler would also print them to stderr.
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
    virEventRegisterImpl(
        [](int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
          return Loop::instance().add_handle(fd, events, cb, opaque, ff);
        },
        [](int id, int events) { Loop::instance().update_handle(id, events); },
        [](int id) { return Loop::instance().remove_handle(id); },
        [](int timeout, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
          return Loop::instance().add_timeout(timeout, cb, opaque, ff);
        },
        [](int id, int timeout) { Loop::instance().update_timeout(id, timeout); },
        [](int id) { return Loop::instance().remove_timeout(id); });
  });
}

}  // namespace

EventLoopBinding::EventLoopBinding(asio::io_context& io) {
  register_once();
  Loop::instance().bind(io);
}

EventLoopBinding::~EventLoopBinding() { Loop::instance().unbind(); }

EventLoopCounts event_loop_counts() { return Loop::instance().counts(); }

}  // namespace numasoak::vm::libvirt
