#include "vm/qemu/qemu_backend.h"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <csignal>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/error.h"
#include "common/paths.h"
#include "vm/qemu/qmp.h"
#include "vm/run_queue_wait.h"

namespace numasoak::vm {

namespace asio = boost::asio;
namespace bp = boost::process;
using local = asio::local::stream_protocol;

std::filesystem::path QemuBackend::find_binary(const std::string& binary) {
  if (binary.find('/') != std::string::npos) {
    if (!std::filesystem::exists(binary)) throw usage_error(fmt::format("QEMU binary {} does not exist", binary));
    return binary;
  }
  auto p = bp::search_path(binary);
  if (p.empty()) throw usage_error(fmt::format("{} not found in PATH", binary), "apt-get install qemu-system-x86");
  return p.string();
}

std::vector<std::string> QemuBackend::build_argv(const GuestSpec& spec, const std::filesystem::path& runtime_dir,
                                                 const std::string& binary) {
  std::vector<std::string> a = {binary, "-name", spec.name, "-machine", "pc", "-nodefaults", "-no-user-config",
                                "-display", "none", "-vga", "none", "-nic", "none", "-no-reboot"};
  if (spec.accel == Accel::kKvm) {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    a.insert(a.end(), {"-accel", "tcg,thread=multi"});
  }
  for (auto& s : spec.topology.qemu_args()) a.push_back(s);
  a.insert(a.end(), {"-kernel", spec.kernel.string(), "-initrd", spec.initrd.string(), "-append", backend_cmdline(spec.cmdline)});
  const auto sock = [&](const char* n) { return (runtime_dir / n).string(); };
  a.insert(a.end(), {"-chardev", "socket,id=console,path=" + sock("console.sock"), "-serial", "chardev:console",
                     "-chardev", "socket,id=agent,path=" + sock("agent.sock"), "-serial", "chardev:agent",
                     "-chardev", "socket,id=qmp,path=" + sock("qmp.sock"), "-mon", "chardev=qmp,mode=control",
                     "-device", "pvpanic", "-action", "panic=shutdown"});
  return a;
}

namespace {

/// Everything one QEMU child needs; shared with the callbacks so it outlives
/// them. The Guest handle clears `handlers` when it goes away, after which no
/// callback reaches the caller.
class QemuGuestImpl : public std::enable_shared_from_this<QemuGuestImpl> {
 public:
  QemuGuestImpl(asio::io_context& io, GuestHandlers h, std::chrono::milliseconds drain)
      : io_(io), handlers_(std::move(h)), drain_(drain), exit_timer_(io), kill_timer_(io), err_pipe_(io) {}

  void start(const GuestSpec& spec, const std::filesystem::path& binary) {
    dir_ = std::make_unique<ScopedDir>(make_private_dir("numasoak-" + sanitize_filename(spec.name, 40)));
    console_ = listen("console.sock");
    agent_ = listen("agent.sock");
    qmp_acceptor_ = listen("qmp.sock");
    argv_ = QemuBackend::build_argv(spec, dir_->path(), binary.string());
    vcpus_ = std::max(1, spec.topology.total_cpus());

    auto self = shared_from_this();
    accept_stream(*console_, [self](std::string_view b) { if (self->handlers_.on_console) self->handlers_.on_console(b); }, console_eof_);
    accept_stream(*agent_, [self](std::string_view b) { if (self->handlers_.on_agent) self->handlers_.on_agent(b); }, agent_eof_);
    qmp_acceptor_->async_accept([self](const boost::system::error_code& ec, local::socket s) {
      if (ec) return;
      const std::weak_ptr<QemuGuestImpl> weak = self;  // the client must not keep its guest alive
      self->qmp_ = std::make_shared<QmpClient>(std::move(s), [weak](const std::string& ev) {
        if (auto guest = weak.lock()) guest->on_qmp_event(ev);
      });
      self->qmp_->start();
      if (self->quit_requested_) self->qmp_->execute("quit");
    });

    std::vector<std::string> args(argv_.begin() + 1, argv_.end());
    std::error_code ec;
    child_ = std::make_unique<bp::child>(
        bp::exe = argv_[0], bp::args = args, bp::std_in.close(), bp::std_out > bp::null, bp::std_err > err_pipe_, io_,
        bp::on_exit([self](int, const std::error_code&) { self->on_process_exit(); }),
        bp::extend::on_exec_setup = [](auto&) {
          // The guest must not outlive the harness: a SIGKILL'd numasoak
          // leaves no orphan QEMU behind.
          ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        },
        ec);
    if (ec) throw infra_error(fmt::format("cannot start {}: {}", argv_[0], ec.message()));
    pid_ = child_->id();
    spdlog::debug("started qemu pid {} for {}", pid_, spec.name);
    read_stderr();
  }

  void stop(std::chrono::milliseconds grace) {
    if (exited_) return;
    quit_requested_ = true;
    if (qmp_) qmp_->execute("quit");
    auto self = shared_from_this();
    kill_timer_.expires_after(grace);
    kill_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->kill();
    });
  }

  void kill() {
    if (exited_ || pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
  }

  void detach_handlers() {
    handlers_ = {};
    kill();
  }

  const std::vector<std::string>& argv() const { return argv_; }

  std::optional<std::chrono::milliseconds> starved() const {
    if (exited_ || pid_ <= 0) return std::nullopt;
    // QEMU's threads together (vCPUs, main loop, I/O) per vCPU: close
    // enough to "how long each vCPU could not run".
    const auto w = run_queue_wait(pid_);
    if (!w) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*w / vcpus_);
  }

 private:
  std::unique_ptr<local::acceptor> listen(const char* name) {
    const auto path = (dir_->path() / name).string();
    auto acc = std::make_unique<local::acceptor>(io_, local::endpoint(path));
    ::chmod(path.c_str(), 0600);
    return acc;
  }

  void accept_stream(local::acceptor& acc, std::function<void(std::string_view)> sink, bool& eof_flag) {
    auto self = shared_from_this();
    acc.async_accept([self, sink, &eof_flag](const boost::system::error_code& ec, local::socket s) {
      if (ec) {
        eof_flag = true;
        self->maybe_finish();
        return;
      }
      auto sock = std::make_shared<local::socket>(std::move(s));
      self->sockets_.push_back(sock);
      self->read_stream(sock, sink, eof_flag);
    });
  }

  void read_stream(std::shared_ptr<local::socket> sock, std::function<void(std::string_view)> sink, bool& eof_flag) {
    auto buf = std::make_shared<std::array<char, 16384>>();
    auto self = shared_from_this();
    sock->async_read_some(asio::buffer(*buf), [self, sock, buf, sink, &eof_flag](const boost::system::error_code& ec, size_t n) {
      if (n > 0) sink(std::string_view(buf->data(), n));
      if (ec) {
        eof_flag = true;
        self->maybe_finish();
        return;
      }
      self->read_stream(sock, sink, eof_flag);
    });
  }

  void read_stderr() {
    auto self = shared_from_this();
    err_pipe_.async_read_some(asio::buffer(err_chunk_), [self](const boost::system::error_code& ec, size_t n) {
      if (n > 0) {
        self->stderr_tail_.append(self->err_chunk_.data(), n);
        if (self->stderr_tail_.size() > 4096) self->stderr_tail_.erase(0, self->stderr_tail_.size() - 4096);
      }
      if (ec) {
        self->stderr_eof_ = true;
        self->maybe_finish();
        return;
      }
      self->read_stderr();
    });
  }

  void on_qmp_event(const std::string& ev) {
    if (!handlers_.on_event) return;
    if (ev == "GUEST_PANICKED") handlers_.on_event(GuestEvent::kPanicked);
    else if (ev == "SHUTDOWN" || ev == "RESET") handlers_.on_event(GuestEvent::kShutdown);
  }

  void on_process_exit() {
    exited_ = true;
    if (child_) {
      const int status = child_->native_exit_code();
      if (WIFSIGNALED(status)) {
        exit_signal_ = WTERMSIG(status);
        exit_reason_ = fmt::format("killed by signal {}", exit_signal_);
      }
      else if (WIFEXITED(status)) exit_reason_ = fmt::format("exit status {}", WEXITSTATUS(status));
      clean_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    kill_timer_.cancel();
    // Sockets QEMU never connected to will never see EOF: stop accepting.
    boost::system::error_code ignored;
    console_->close(ignored);
    agent_->close(ignored);
    qmp_acceptor_->close(ignored);
    auto self = shared_from_this();
    exit_timer_.expires_after(drain_);
    exit_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->finish();
    });
    maybe_finish();
  }

  void maybe_finish() {
    if (exited_ && console_eof_ && agent_eof_ && stderr_eof_) finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    exit_timer_.cancel();
    for (auto& s : sockets_) {
      boost::system::error_code ignored;
      s->close(ignored);
    }
    if (qmp_) qmp_->close();
    if (child_) {
      std::error_code ignored;
      child_->wait(ignored);  // already exited: reaps, returns at once
      child_->detach();
    }
    ExitInfo info;
    info.cause = clean_ ? ExitCause::kClean : ExitCause::kCrashed;
    info.reason = exit_reason_.empty() ? "exited" : exit_reason_;
    info.signal = exit_signal_;
    info.last_stderr = stderr_tail_;
    auto on_exit = std::move(handlers_.on_exit);
    handlers_ = {};
    dir_.reset();  // sockets and the runtime dir go away with the guest
    if (on_exit) on_exit(info);
  }

  asio::io_context& io_;
  GuestHandlers handlers_;
  std::chrono::milliseconds drain_;
  std::unique_ptr<ScopedDir> dir_;
  std::unique_ptr<local::acceptor> console_, agent_, qmp_acceptor_;
  std::vector<std::shared_ptr<local::socket>> sockets_;
  std::shared_ptr<QmpClient> qmp_;
  std::unique_ptr<bp::child> child_;
  std::vector<std::string> argv_;
  asio::steady_timer exit_timer_, kill_timer_;
  bp::async_pipe err_pipe_;
  std::array<char, 1024> err_chunk_{};
  std::string stderr_tail_;
  std::string exit_reason_;
  int exit_signal_ = 0;
  pid_t pid_ = -1;
  int vcpus_ = 1;
  bool exited_ = false, finished_ = false, clean_ = false, quit_requested_ = false;
  bool console_eof_ = false, agent_eof_ = false, stderr_eof_ = false;
};

/// The Guest handle a QemuBackend returns: stop() and command() over its QemuGuestImpl.
class QemuGuest : public Guest {
 public:
  explicit QemuGuest(std::shared_ptr<QemuGuestImpl> impl) : impl_(std::move(impl)) {}
  ~QemuGuest() override { impl_->detach_handlers(); }
  void stop(std::chrono::milliseconds grace) override { impl_->stop(grace); }
  std::string command() const override { return nlohmann::json(impl_->argv()).dump(); }
  std::optional<std::chrono::milliseconds> starved() const override { return impl_->starved(); }

 private:
  std::shared_ptr<QemuGuestImpl> impl_;
};

}  // namespace

QemuBackend::QemuBackend(asio::io_context& io, QemuOptions options) : io_(io), options_(std::move(options)) {}

std::unique_ptr<Guest> QemuBackend::start(const GuestSpec& spec, GuestHandlers handlers) {
  const auto binary = find_binary(options_.binary);
  for (const auto& [what, p] : {std::pair{"kernel", spec.kernel}, std::pair{"initramfs", spec.initrd}}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      throw usage_error(fmt::format("{} {} does not exist or is not a file", what, p.string()));
    }
  }
  auto impl = std::make_shared<QemuGuestImpl>(io_, std::move(handlers), options_.drain);
  impl->start(spec, binary);
  return std::make_unique<QemuGuest>(std::move(impl));
}

}  // namespace numasoak::vm
