// QmpClient: the QEMU Machine Protocol over a connected Unix socket.
//
// Sends qmp_capabilities after the greeting (QMP refuses everything else
// before it), reports asynchronous events (GUEST_PANICKED, SHUTDOWN) by
// name, and sends commands without waiting for their replies: numasoak only
// needs `quit`, and the process exit is the real answer to that.
//
// Owned by shared_ptr: its pending reads and writes keep it alive, so the
// guest that owns it may go first (and must hand it only a weak reference
// to itself in `on_event`, or the two keep each other alive forever).
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace numasoak::vm {

/// A QMP connection: sends commands, hands asynchronous events to a callback.
class QmpClient : public std::enable_shared_from_this<QmpClient> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;

  QmpClient(Socket socket, std::function<void(const std::string& event)> on_event);
  void start();
  void execute(const std::string& command);  // {"execute": command}
  bool ready() const { return ready_; }
  void close();

 private:
  void read();
  void handle_line(const std::string& line);
  void flush();

  Socket socket_;
  std::function<void(const std::string&)> on_event_;
  std::string buffer_;
  char chunk_[4096];
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool ready_ = false;
  std::deque<std::string> pending_;  // commands asked before capabilities were negotiated
};

}  // namespace numasoak::vm
