// Libvirt's client library on the caller's Asio io_context.
//
// libvirt needs an event loop for connection I/O, keepalive, console streams
// and domain events; it must be registered (virEventRegisterImpl) before the
// first connection. This one is built on Asio: fd watches are
// posix::stream_descriptor async_wait(wait_read / wait_write), timeouts are
// steady_timers, so libvirt shares the one loop that runs everything else.
//
// The registration is process-wide (libvirt keeps one set of functions), so
// the io_context is bound by reference count: every object that talks to
// libvirt holds an EventLoopBinding; all of them must use the same
// io_context at a time. When the last binding goes, the remaining watches
// and timers are dropped and pending free callbacks run.
#pragma once

#include <boost/asio/io_context.hpp>

namespace numasoak::vm::libvirt {

/// Binds libvirt's event loop to one io_context while it lives.
class EventLoopBinding {
 public:
  // Registers the implementation (once per process) and binds `io`; throws
  // an infrastructure Error when another io_context is bound right now.
  explicit EventLoopBinding(boost::asio::io_context& io);
  ~EventLoopBinding();
  EventLoopBinding(const EventLoopBinding&) = delete;
  EventLoopBinding& operator=(const EventLoopBinding&) = delete;
};

/// Watches and timers libvirt holds right now (tests use it to see leaks).
struct EventLoopCounts {
  int handles = 0;
  int timeouts = 0;
};
EventLoopCounts event_loop_counts();

}  // namespace numasoak::vm::libvirt
