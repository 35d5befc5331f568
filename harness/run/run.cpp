#include "run/run.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/paths.h"
#include "run/verdict.h"

namespace numasoak {

namespace fs = std::filesystem;

namespace {

// The marker the guest init prints on the console when the workload starts:
// a fallback for kernels whose agent channel does not come up.
constexpr std::string_view kWorkloadStartedMarker = "numasoak: workload started";

}  // namespace

Run::Run(boost::asio::io_context& io, vm::Backend& backend, RunPlan plan, Done done)
    : io_(io),
      backend_(backend),
      plan_(std::move(plan)),
      done_(std::move(done)),
      detector_(console::DetectorOptions{plan_.report_window}),
      boot_timer_(io, [this] { return starved(); }),
      silence_timer_(io, [this] { return starved(); }),
      duration_timer_(io),
      report_timer_(io),
      tick_timer_(io) {}

Run::~Run() {
  done_ = nullptr;
  guest_.reset();  // kills a guest that still runs
}

double Run::host_s(Duration t) const {
  return seconds(t - workload_started_.value_or(t));
}

void Run::start() {
  started_ = Clock::now();
  result_.run_id = plan_.run_id;
  result_.kernel = plan_.kernel;
  result_.kernel_release = plan_.kernel_release;
  result_.host = plan_.host;
  result_.accel = vm::to_string(plan_.accel);
  result_.widened = plan_.widening.describe();
  result_.started_at = utc_now();

  std::error_code ec;
  fs::create_directories(plan_.out_dir, ec);
  auto& a = result_.artifacts;
  a.dir = plan_.out_dir.string();
  a.console_log = (plan_.out_dir / "console.log").string();
  a.agent_log = (plan_.out_dir / "agent.log").string();
  a.report = (plan_.out_dir / "report.txt").string();
  a.command = (plan_.out_dir / "command.json").string();
  a.result_json = (plan_.out_dir / "result.json").string();
  console_log_.open(a.console_log, std::ios::binary | std::ios::trunc);
  agent_log_.open(a.agent_log, std::ios::binary | std::ios::trunc);
  if (ec || !console_log_ || !agent_log_) {
    error_ = RunError{kinds::kInfrastructure, fmt::format("cannot write the run's artifacts in {}", plan_.out_dir.string())};
    boost::asio::post(io_, [this] { finish(); });
    return;
  }
  for (const auto& m : plan_.manifests) {
    fs::copy_file(m.source, plan_.out_dir / m.name, fs::copy_options::overwrite_existing, ec);
  }

  vm::GuestSpec spec;
  spec.name = plan_.guest_name;
  spec.kernel = plan_.kernel_image;
  spec.initrd = plan_.initrd;
  spec.cmdline = run_cmdline(plan_);
  spec.topology = plan_.topology;
  spec.accel = plan_.accel;

  vm::GuestHandlers h;
  h.on_console = [this](std::string_view b) { on_console(b); };
  h.on_agent = [this](std::string_view b) { on_agent(b); };
  h.on_event = [this](vm::GuestEvent e) { on_event(e); };
  h.on_exit = [this](const vm::ExitInfo& info) { on_exit(info); };
  try {
    guest_ = backend_.start(spec, std::move(h));
  } catch (const Error& e) {
    error_ = RunError{e.kind() == ErrorKind::kUsage ? kinds::kConfig : kinds::kInfrastructure, e.what()};
    boost::asio::post(io_, [this] { finish(); });
    return;
  }
  try {
    write_file_atomic(a.command, guest_->command() + "\n");
  } catch (const Error& e) {
    fail_infrastructure(e.what());
  }

  boot_timer_.arm(plan_.watchdog.boot, [this] {
    if (workload_started_) return;
    const std::string tail = last_console_line();
    error_ = RunError{kinds::kBootFailure, fmt::format("the workload did not start within {}{}; last console line: {}",
                                                       format_duration(plan_.watchdog.boot), starved_note(boot_timer_),
                                                       tail.empty() ? "(none)" : tail)};
    request_stop("boot watchdog");
  });
  arm_silence();
  flush_logs();
}

std::string Run::last_console_line() const {
  std::string tail;
  for (size_t i = 0; i < 8; ++i) {
    const auto& l = last_lines_[(last_line_pos_ + i) % 8];
    if (!l.empty()) tail = l;
  }
  return tail;
}

std::optional<Duration> Run::starved() const {
  return guest_ ? guest_->starved() : std::nullopt;
}

std::string Run::starved_note(const Watchdog& w) {
  if (w.extended().count() == 0) return "";
  return fmt::format(" (+{} the host gave the guest no CPU)", format_duration(w.extended()));
}

void Run::flush_logs() {
  for (auto [log, path] : {std::pair{&console_log_, &result_.artifacts.console_log},
                           std::pair{&agent_log_, &result_.artifacts.agent_log}}) {
    if (*log) log->flush();
    if (!*log) {
      fail_infrastructure(fmt::format("cannot write {}: {}", *path, std::strerror(errno)));
      return;
    }
  }
  tick_timer_.expires_after(kFlushEvery);
  tick_timer_.async_wait([this](const boost::system::error_code& err) {
    if (!err && !finished_) flush_logs();
  });
}

void Run::arm_silence() {
  if (stopping_) return;
  silence_timer_.arm(plan_.watchdog.silence, [this] {
    if (stopping_) return;
    FailureRecord f;
    f.kind = kinds::kHang;
    f.title = fmt::format("no console or agent output for {}{}", format_duration(plan_.watchdog.silence),
                          starved_note(silence_timer_));
    f.host_s = host_s(now());
    record_failure(std::move(f));
    request_stop("silence watchdog");
  });
}

void Run::on_console(std::string_view bytes) {
  arm_silence();
  if (console_bytes_ < plan_.console_log_cap) {
    const auto n = std::min<std::uint64_t>(bytes.size(), plan_.console_log_cap - console_bytes_);
    console_log_.write(bytes.data(), static_cast<std::streamsize>(n));
    console_bytes_ += n;
    console_dropped_ += bytes.size() - n;
    if (!console_log_) {
      fail_infrastructure(fmt::format("cannot write {}: {}", result_.artifacts.console_log, std::strerror(errno)));
    }
  } else {
    console_dropped_ += bytes.size();
  }
  console_lines_.feed(bytes, [this](std::string_view line) { on_console_line(line); });
  take_detector_output();
}

void Run::on_console_line(std::string_view line) {
  last_lines_[last_line_pos_] = std::string(line.substr(0, 200));
  last_line_pos_ = (last_line_pos_ + 1) % 8;
  if (!workload_started_ && line.find(kWorkloadStartedMarker) != std::string_view::npos) workload_started();
  detector_.feed(line, now());
}

void Run::take_detector_output() {
  for (const auto& m : detector_.take_markers()) {
    spdlog::debug("{}: marker {} at line {}", plan_.run_id, m.kind, m.line);
    // The first marker ends the exposure the moment it arrives (its
    // report completes later; the verdict takes the time to failure from it).
    if (result_.failures.empty() && !workload_ended_) workload_ended_ = m.host_time;
    if (plan_.on_failure == OnFailure::kStop) {
      // Let the detector collect the whole report, then stop the guest.
      request_stop("failure found", plan_.report_window + std::chrono::seconds(1));
    }
  }
  for (auto& f : detector_.take_completed()) {
    FailureRecord r;
    r.kind = f.kind;
    r.title = f.title;
    r.host_s = host_s(f.host_time);
    r.uptime_s = f.uptime_s;
    r.guilty_frame = f.guilty_frame;
    r.report = std::move(f.report);
    record_failure(std::move(r));
  }
  if (stopping_ && !detector_.collecting() && !result_.failures.empty() && guest_) {
    guest_->stop(plan_.stop_grace);
  }
}

void Run::record_failure(FailureRecord f) {
  // A run that goes on after a failure sees the same one again and again: log each once, count the rest.
  if (++failure_counts_[f.kind + " — " + f.title] == 1) spdlog::info("{}: {} — {}", plan_.run_id, f.kind, f.title);
  if (result_.failures.empty() && !workload_ended_) workload_ended_ = now();
  result_.failures.push_back(std::move(f));
  if (plan_.on_failure == OnFailure::kStop && !detector_.collecting()) request_stop("failure found", Duration(500));
}

void Run::on_agent(std::string_view bytes) {
  arm_silence();
  agent_log_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!agent_log_) fail_infrastructure(fmt::format("cannot write {}: {}", result_.artifacts.agent_log, std::strerror(errno)));
  auto ev = agent_.feed(bytes, host_s(now()));
  if (ev.started && !workload_started_) workload_started();
  for (auto& f : ev.integrity) {
    f.host_s = host_s(now());
    record_failure(std::move(f));
  }
  if (ev.config_error && !error_) {
    error_ = RunError{kinds::kConfig, "the guest refused the setup: " + *ev.config_error};
    request_stop("guest configuration error");
  }
  for (const auto& w : ev.warnings) spdlog::warn("{}: guest: {}", plan_.run_id, w);
}

void Run::workload_started() {
  workload_started_ = now();
  result_.boot_s = seconds(*workload_started_);
  boot_timer_.cancel();
  if (started_hook_) boost::asio::post(io_, std::move(started_hook_));
  spdlog::debug("{}: workload started after {}", plan_.run_id, format_duration(*workload_started_));
  duration_timer_.expires_after(plan_.duration);
  duration_timer_.async_wait([this](const boost::system::error_code& err) {
    if (err || stopping_) return;
    if (result_.failures.empty()) duration_reached_ = true;
    workload_ended_ = now();
    request_stop("duration reached");
  });
}

void Run::on_event(vm::GuestEvent ev) {
  if (ev == vm::GuestEvent::kPanicked) {
    // The console usually says why; if it did not, QMP still knows.
    if (result_.failures.empty() && !detector_.first_marker()) {
      FailureRecord f;
      f.kind = kinds::kGuestPanicked;
      f.title = "guest panicked (pvpanic) with no console report";
      f.host_s = host_s(now());
      record_failure(std::move(f));
    }
  }
}

void Run::request_stop(const std::string& why, Duration delay) {
  if (finished_) return;
  if (!stopping_) stop_reason_ = why;
  stopping_ = true;
  silence_timer_.cancel();
  if (delay.count() == 0) {
    if (guest_) guest_->stop(plan_.stop_grace);
    return;
  }
  // A stop already planned is never pushed later: a kernel that keeps
  // printing failures must not keep its guest alive.
  const Duration at = now() + delay;
  if (stop_at_ && *stop_at_ <= at) return;
  stop_at_ = at;
  report_timer_.expires_after(delay);
  report_timer_.async_wait([this](const boost::system::error_code& err) {
    if (err) return;
    detector_.advance(now());
    take_detector_output();
    if (guest_) guest_->stop(plan_.stop_grace);
  });
}

void Run::interrupt(const std::string& why) {
  if (finished_) return;
  if (result_.failures.empty()) interrupted_ = true;
  request_stop(why);
}

void Run::fail_infrastructure(const std::string& message) {
  if (!error_) error_ = RunError{kinds::kInfrastructure, message};
  request_stop("infrastructure error");
}

void Run::on_exit(const vm::ExitInfo& info) {
  exit_ = info;
  finish();
}

RunFacts Run::facts() const {
  RunFacts f;
  f.failures = result_.failures;
  f.report_window = plan_.report_window;
  f.profile = plan_.workload.profile;
  f.workload_started = workload_started_.has_value();
  f.duration_reached = duration_reached_;
  f.interrupted = interrupted_;
  f.stop_reason = stop_reason_;
  f.error = error_;
  f.saw_heartbeat = agent_.saw_heartbeat();
  f.race_events_total = agent_.race_events_total();
  f.exit = exit_;
  f.last_console_line = last_console_line();
  f.requeue = plan_.requeue;
  return f;
}

void Run::apply(RunVerdict v) {
  result_.verdict = v.verdict;
  result_.kind = std::move(v.kind);
  result_.title = std::move(v.title);
  result_.time_to_failure_s = v.time_to_failure_s;
  result_.uptime_s = v.uptime_s;
  result_.failures = std::move(v.failures);
  result_.requeued = std::move(v.requeued);
}

void Run::finish() {
  if (finished_) return;
  finished_ = true;
  boot_timer_.cancel();
  silence_timer_.cancel();
  for (auto* t : {&duration_timer_, &report_timer_, &tick_timer_}) t->cancel();
  console_lines_.finish([this](std::string_view line) { on_console_line(line); });
  detector_.finish();
  take_detector_output();
  const Duration end = now();
  if (workload_started_) result_.exposure_s = seconds(workload_ended_.value_or(end) - *workload_started_);

  RunFacts f = facts();
  apply(decide_verdict(f));
  result_.event_totals = agent_.totals();
  result_.rates = agent_.rates();
  result_.finished_at = utc_now();
  if (auto problem = write_artifacts()) {
    spdlog::error("{}: {}", plan_.run_id, *problem);
    // A run whose result cannot be recorded is no evidence, unless it failed.
    f.artifacts_error = RunError{kinds::kInfrastructure, *problem};
    apply(decide_verdict(std::move(f)));
  }
  guest_.reset();
  if (done_) {
    auto done = std::move(done_);
    done(result_);
  }
}

std::optional<std::string> Run::write_artifacts() {
  if (console_dropped_ > 0) {
    console_log_ << fmt::format("\n[numasoak: console log capped at {} bytes; {} more bytes were not written]\n",
                                plan_.console_log_cap, console_dropped_);
  }
  console_log_.close();
  agent_log_.close();
  std::string report;
  for (const auto& f : result_.failures) {
    report += fmt::format("== {}: {} (workload +{:.1f}s{}){}\n", f.kind, f.title, f.host_s,
                          f.uptime_s ? fmt::format(", uptime {:.3f}s", *f.uptime_s) : "",
                          f.guilty_frame.empty() ? "" : ", in " + f.guilty_frame);
    report += f.report;
    if (!report.empty() && report.back() != '\n') report += '\n';
    report += '\n';
  }
  try {
    write_file_atomic(result_.artifacts.report, report);
    write_file_atomic(result_.artifacts.result_json, nlohmann::json(result_).dump(2) + "\n");
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

RunStatus Run::status() const {
  RunStatus s;
  s.elapsed = finished_ ? Duration(0) : now();
  s.phase = finished_ ? "done" : stopping_ ? "stopping" : detector_.collecting() ? "collecting" : workload_started_ ? "running" : "booting";
  if (workload_started_) {
    s.workload_elapsed = now() - *workload_started_;
    s.remaining = s.workload_elapsed < plan_.duration ? plan_.duration - s.workload_elapsed : Duration(0);
  } else {
    s.remaining = plan_.duration;
  }
  s.race_events_per_s = agent_.race_events_per_s();
  s.failures = static_cast<int>(result_.failures.size());
  return s;
}

}  // namespace numasoak
