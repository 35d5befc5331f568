#include "vm/qemu/qmp.h"

#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace numasoak::vm {

namespace {
constexpr size_t kMaxQmpLine = 1 << 20;  // QEMU's own replies are small; bound them anyway
}

QmpClient::QmpClient(Socket socket, std::function<void(const std::string&)> on_event)
    : socket_(std::move(socket)), on_event_(std::move(on_event)) {}

void QmpClient::start() { read(); }

void QmpClient::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

void QmpClient::execute(const std::string& command) {
  const std::string msg = nlohmann::json{{"execute", command}}.dump() + "\n";
  if (!ready_) {
    pending_.push_back(msg);
    return;
  }
  outbox_.push_back(msg);
  flush();
}

void QmpClient::flush() {
  if (writing_ || outbox_.empty() || !socket_.is_open()) return;
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(outbox_.front()),
                           [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                             self->writing_ = false;
                             if (ec) return;
                             self->outbox_.pop_front();
                             self->flush();
                           });
}

void QmpClient::read() {
  socket_.async_read_some(boost::asio::buffer(chunk_), [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
    if (ec) return;  // QEMU closed the monitor: it is exiting
    self->buffer_.append(self->chunk_, n);
    size_t pos;
    while ((pos = self->buffer_.find('\n')) != std::string::npos) {
      std::string line = self->buffer_.substr(0, pos);
      self->buffer_.erase(0, pos + 1);
      self->handle_line(line);
    }
    if (self->buffer_.size() > kMaxQmpLine) self->buffer_.clear();
    self->read();
  });
}

void QmpClient::handle_line(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  if (j.contains("QMP")) {
    outbox_.push_back(nlohmann::json{{"execute", "qmp_capabilities"}}.dump() + "\n");
    flush();
    return;
  }
  if (j.contains("return") && !ready_) {
    ready_ = true;
    while (!pending_.empty()) {
      outbox_.push_back(pending_.front());
      pending_.pop_front();
    }
    flush();
    return;
  }
  if (j.contains("event") && j["event"].is_string()) {
    spdlog::debug("qmp event {}", j["event"].get<std::string>());
    on_event_(j["event"].get<std::string>());
  }
}

}  // namespace numasoak::vm
