// libvirt's event loop on Asio, without a daemon: virEventAddHandle /
// virEventAddTimeout go through the implementation numasoak registers, so
// pipes and timers prove the contract libvirt relies on: level-triggered fd
// callbacks for the events asked for, periodic timeouts (0 = every loop
// turn), updates and removal from inside callbacks, and free callbacks run
// later from a clean stack, never inside remove.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <libvirt/libvirt.h>
#include <unistd.h>

#include "common/error.h"
#include "vm/libvirt/event_loop.h"

using namespace numasoak::vm::libvirt;

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

struct Seen {
  int calls = 0;
  int last_events = 0;
  int freed = 0;
  bool in_remove = false;
  int watch = -1;
  int remove_after = 0;  // remove the watch on this call (0 = never)
};

void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

}  // namespace

TEST(LibvirtEventLoop, FdWatchIsLevelTriggeredAndRemovable) {
  boost::asio::io_context io;
  EventLoopBinding binding(io);
  Pipe p;
  Seen seen;
  const char byte = 'x';
  ASSERT_EQ(::write(p.fds[1], &byte, 1), 1);
  seen.remove_after = 3;
  seen.watch = virEventAddHandle(
      p.fds[0], VIR_EVENT_HANDLE_READABLE,
      [](int watch, int, int events, void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        ++s->calls;
        s->last_events = events;
        // Not reading the byte: level-triggered means we are called again.
        if (s->calls == s->remove_after) {
          s->in_remove = true;
          virEventRemoveHandle(watch);
          s->in_remove = false;
        }
      },
      &seen,
      [](void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        EXPECT_FALSE(s->in_remove) << "free callbacks must not run inside remove";
        ++s->freed;
      });
  ASSERT_GE(seen.watch, 0);
  EXPECT_EQ(event_loop_counts().handles, 1);
  run_for(io, std::chrono::milliseconds(200));
  EXPECT_EQ(seen.calls, 3);
  EXPECT_EQ(seen.last_events & VIR_EVENT_HANDLE_READABLE, VIR_EVENT_HANDLE_READABLE);
  EXPECT_EQ(seen.freed, 1);
  EXPECT_EQ(event_loop_counts().handles, 0);
}

TEST(LibvirtEventLoop, UpdateToNoEventsPausesAWatch) {
  boost::asio::io_context io;
  EventLoopBinding binding(io);
  Pipe p;
  Seen seen;
  seen.watch = virEventAddHandle(
      p.fds[0], VIR_EVENT_HANDLE_READABLE,
      [](int watch, int fd, int, void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        ++s->calls;
        char c;
        EXPECT_EQ(::read(fd, &c, 1), 1);
        virEventUpdateHandle(watch, 0);  // as libvirt does around a blocking call
      },
      &seen, nullptr);
  const char byte = 'x';
  ASSERT_EQ(::write(p.fds[1], &byte, 1), 1);
  run_for(io, std::chrono::milliseconds(100));
  EXPECT_EQ(seen.calls, 1);
  ASSERT_EQ(::write(p.fds[1], &byte, 1), 1);
  run_for(io, std::chrono::milliseconds(100));
  EXPECT_EQ(seen.calls, 1) << "no events asked for: no callback";
  virEventUpdateHandle(seen.watch, VIR_EVENT_HANDLE_READABLE);
  run_for(io, std::chrono::milliseconds(100));
  EXPECT_EQ(seen.calls, 2) << "data that arrived while paused is seen once resumed";
  virEventRemoveHandle(seen.watch);
}

TEST(LibvirtEventLoop, WritableAndReadableOnOneFd) {
  boost::asio::io_context io;
  EventLoopBinding binding(io);
  Pipe p;
  Seen reads, writes;
  const int w = virEventAddHandle(
      p.fds[1], VIR_EVENT_HANDLE_WRITABLE,
      [](int watch, int fd, int events, void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        ++s->calls;
        s->last_events = events;
        const char byte = 'y';
        EXPECT_EQ(::write(fd, &byte, 1), 1);
        virEventRemoveHandle(watch);
      },
      &writes, nullptr);
  const int r = virEventAddHandle(
      p.fds[0], VIR_EVENT_HANDLE_READABLE,
      [](int watch, int fd, int, void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        ++s->calls;
        char c;
        EXPECT_EQ(::read(fd, &c, 1), 1);
        virEventRemoveHandle(watch);
      },
      &reads, nullptr);
  ASSERT_GE(w, 0);
  ASSERT_GE(r, 0);
  run_for(io, std::chrono::milliseconds(200));
  EXPECT_EQ(writes.calls, 1);
  EXPECT_EQ(writes.last_events & VIR_EVENT_HANDLE_WRITABLE, VIR_EVENT_HANDLE_WRITABLE);
  EXPECT_EQ(reads.calls, 1);
}

TEST(LibvirtEventLoop, TimeoutsArePeriodicUntilChanged) {
  boost::asio::io_context io;
  EventLoopBinding binding(io);
  Seen periodic, immediate;
  const int t = virEventAddTimeout(
      20, [](int, void* opaque) { ++static_cast<Seen*>(opaque)->calls; }, &periodic,
      [](void* opaque) { ++static_cast<Seen*>(opaque)->freed; });
  // 0 = every loop iteration, until the callback turns it off.
  virEventAddTimeout(
      0,
      [](int timer, void* opaque) {
        auto* s = static_cast<Seen*>(opaque);
        if (++s->calls == 5) virEventUpdateTimeout(timer, -1);
      },
      &immediate, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  run_for(io, std::chrono::milliseconds(210));
  EXPECT_GE(periodic.calls, 5);
  EXPECT_LE(periodic.calls, 11);
  EXPECT_EQ(immediate.calls, 5);
  virEventUpdateTimeout(t, -1);
  const int frozen = periodic.calls;
  run_for(io, std::chrono::milliseconds(60));
  EXPECT_EQ(periodic.calls, frozen) << "disabled";
  EXPECT_EQ(virEventRemoveTimeout(t), 0);
  run_for(io, std::chrono::milliseconds(10));
  EXPECT_EQ(periodic.freed, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(LibvirtEventLoop, OneIoContextAtATime) {
  boost::asio::io_context a, b;
  {
    EventLoopBinding first(a);
    EventLoopBinding again(a);  // the same context: fine
    EXPECT_THROW(EventLoopBinding other(b), numasoak::Error);
  }
  EventLoopBinding later(b);  // after the last binding went: any context
}
