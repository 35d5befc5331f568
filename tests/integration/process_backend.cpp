#include "process_backend.h"

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace numasoak::testing {

namespace bp = boost::process;
namespace asio = boost::asio;

namespace {

class ProcessGuestImpl : public std::enable_shared_from_this<ProcessGuestImpl> {
 public:
  ProcessGuestImpl(asio::io_context& io, vm::GuestHandlers h, std::vector<std::string> argv)
      : io_(io), handlers_(std::move(h)), argv_(std::move(argv)), out_(io), kill_timer_(io) {}

  void start() {
    auto self = shared_from_this();
    std::vector<std::string> args(argv_.begin() + 1, argv_.end());
    child_ = bp::child(bp::exe = argv_[0], bp::args = args, bp::std_in.close(), bp::std_out > out_,
                       bp::std_err > bp::null, io_,
                       bp::on_exit([self](int status, const std::error_code&) {
                         self->status_ = status;
                         self->exited_ = true;
                         self->maybe_finish();
                       }));
    read();
  }

  void stop(std::chrono::milliseconds grace) {
    if (exited_) return;
    ::kill(child_.id(), SIGTERM);
    auto self = shared_from_this();
    kill_timer_.expires_after(grace);
    kill_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec && !self->exited_) ::kill(self->child_.id(), SIGKILL);
    });
  }

  void detach() {
    handlers_ = {};
    if (!exited_) ::kill(child_.id(), SIGKILL);
  }

  std::string command() const { return nlohmann::json(argv_).dump(); }

 private:
  void read() {
    auto self = shared_from_this();
    out_.async_read_some(asio::buffer(chunk_), [self](const boost::system::error_code& ec, size_t n) {
      if (n > 0 && self->handlers_.on_console) self->handlers_.on_console(std::string_view(self->chunk_.data(), n));
      if (ec) {
        self->eof_ = true;
        self->maybe_finish();
        return;
      }
      self->read();
    });
  }

  void maybe_finish() {
    if (!exited_ || !eof_ || finished_) return;
    finished_ = true;
    kill_timer_.cancel();
    vm::ExitInfo info;
    info.cause = status_ == 0 ? vm::ExitCause::kClean : vm::ExitCause::kCrashed;
    info.reason = "exit status " + std::to_string(status_);
    auto on_exit = std::move(handlers_.on_exit);
    handlers_ = {};
    if (on_exit) on_exit(info);
  }

  asio::io_context& io_;
  vm::GuestHandlers handlers_;
  std::vector<std::string> argv_;
  bp::async_pipe out_;
  bp::child child_;
  asio::steady_timer kill_timer_;
  std::array<char, 16384> chunk_{};
  int status_ = 0;
  bool exited_ = false, eof_ = false, finished_ = false;
};

class ProcessGuest : public vm::Guest {
 public:
  explicit ProcessGuest(std::shared_ptr<ProcessGuestImpl> impl) : impl_(std::move(impl)) {}
  ~ProcessGuest() override { impl_->detach(); }
  void stop(std::chrono::milliseconds grace) override { impl_->stop(grace); }
  std::string command() const override { return impl_->command(); }

 private:
  std::shared_ptr<ProcessGuestImpl> impl_;
};

}  // namespace

std::unique_ptr<vm::Guest> ProcessBackend::start(const vm::GuestSpec&, vm::GuestHandlers handlers) {
  auto impl = std::make_shared<ProcessGuestImpl>(io_, std::move(handlers), argv_);
  impl->start();
  return std::make_unique<ProcessGuest>(std::move(impl));
}

}  // namespace numasoak::testing
