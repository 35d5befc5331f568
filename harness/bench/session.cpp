// numasoak bench's phases (bench/session.h): harness costs without guests,
// boot times, detection latency with an injected marker, time to failure per
// row and amplifier setting, the amplifier off, scaling with parallel guests.
#include "bench/session.h"

#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

#include "bench/batch.h"
#include "bench/bench_image.h"
#include "bench/summary.h"
#include "campaign/prepare.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/status_line.h"
#include "common/terminal_safe.h"
#include "image/image.h"
#include "kernel/build.h"
#include "vm/backends.h"

namespace numasoak::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double elapsed_s(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string first_line_of(const fs::path& p, std::string_view prefix) {
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

std::string machine_description() {
  std::string model = first_line_of("/proc/cpuinfo", "model name");
  if (auto c = model.find(':'); c != std::string::npos) model = model.substr(c + 2);
  std::ifstream la("/proc/loadavg");
  double l1 = 0;
  la >> l1;
  return fmt::format("{} cores ({}), QEMU TCG, load average {:.1f} at start", std::thread::hardware_concurrency(),
                     model.empty() ? "unknown CPU" : model, l1);
}

double loadavg1() {
  std::ifstream la("/proc/loadavg");
  double l1 = 0;
  la >> l1;
  return l1;
}

// The /init of the detection-latency image: announces the workload, then
// prints a real-format `bad pmd` line through the kernel log (/dev/kmsg) at a
// known moment, so it reaches the host the way a real one does.
constexpr std::string_view kMarkerInit =
    "#!/bin/busybox sh\n"
    "# numasoak bench: injected failure marker for the detection latency.\n"
    "/bin/busybox mount -t proc proc /proc\n"
    "/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
    "echo \"numasoak: workload started (bench marker)\"\n"
    "/bin/busybox sleep 2\n"
    "echo '<3>mm/pgtable-generic.c:51: bad pmd 00000000deadbeef(8000000102a008e7)' > /dev/kmsg\n"
    "while :; do /bin/busybox sleep 3600; done\n";


/// One bench: its phases in order on one io_context, bench.json after each.
class Session {
 public:
  Session(BenchOptions options, fs::path output, bool quiet) : o_(std::move(options)), output_(std::move(output)), quiet_(quiet) {}

  void run() {
    configure();
    report_.machine = machine_description();
    report_.started_at = utc_now();
    report_.quick = o_.quick;
    if (!quiet_) spdlog::info("bench: {} ; output {}", report_.machine, out_.string());

    boost::asio::io_context io;
    const std::unique_ptr<vm::Backend> backend = vm::make_backend(io, vm::BackendSpec{});  // QEMU children here
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& e, int) {
      if (e) return;
      interrupted_ = true;
      if (batch_) batch_->interrupt("stopped by the user");
    });
    io_ = &io;
    backend_ = backend.get();

    prepare_costs();
    report_.guest = fmt::format("kernel 6.1 ({}, unpatched, amplifier built in), {}, bench image", kernel_.release,
                                campaign_.topology.describe());
    save();
    if (!interrupted_) boot_phase();
    if (!interrupted_) detection_phase();
    if (!interrupted_) ttf_phase();
    if (!interrupted_) natural_phase();
    if (!interrupted_) scaling_phase();
    signals.cancel();
    io.poll();

    report_.finished_at = utc_now();
    report_.costs.push_back({"host load average at the end", loadavg1(), "", "1-minute /proc/loadavg", true});
    report_.headline = make_headline(report_.cells, report_.natural);
    save();
    status_.done();
    std::cout << table(report_) << "bench.json: " << (out_ / "bench.json").string() << "\n";
    std::cout.flush();
    if (interrupted_) throw infra_error("bench interrupted; bench.json has the phases that finished", "");
  }

 private:
  void configure() {
    campaign_ = load_campaign_text("name = \"bench\"\n", "bench defaults", fs::current_path(), false);
    out_ = output_.empty() ? fs::absolute("numasoak-out") / fmt::format("bench-{}", utc_now("%Y%m%d-%H%M%S"))
                           : fs::absolute(output_);
    std::error_code ec;
    fs::create_directories(out_, ec);
    if (ec) throw usage_error(fmt::format("cannot create output directory {}: {}", out_.string(), ec.message()));
    add_log_file(out_ / "numasoak.log");
  }

  const KernelSpec& spec(const std::string& name) {
    auto it = campaign_.kernels.find(name);
    if (it == campaign_.kernels.end()) throw usage_error(fmt::format("kernel {} is not in configs/kernels.toml", name));
    return it->second;
  }

  void cost(std::string name, double value, std::string unit, std::string note) {
    report_.costs.push_back({std::move(name), value, std::move(unit), std::move(note), true});
  }
  void not_measured(std::string name, std::string note) {
    report_.costs.push_back({std::move(name), 0, "", std::move(note), false});
  }

  // Build times the kernel cache recorded (the bench never starts a 20-minute
  // build on a shared machine): per kernel, the build that compiled the most
  // files is the cold one; the current artifact's own build says what a
  // variant switch in the shared work tree cost.
  void recorded_builds() {
    struct Rec {
      double seconds = 0;
      std::int64_t compiled = -1;
      std::string at;
      bool ccache = false;
    };
    std::map<std::string, Rec> cold;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache_dir() / "kernels", ec)) {
      const auto j = nlohmann::json::parse(read_file_or_empty(e.path() / "manifest.json"), nullptr, false);
      if (!j.is_object() || !j.contains("kernel") || !j["kernel"].is_string() || !j.contains("build_seconds") ||
          !j["build_seconds"].is_number() || !j.contains("cc_count") || !j["cc_count"].is_number_integer())
        continue;
      Rec r{j["build_seconds"].get<double>(), j["cc_count"].get<std::int64_t>(),
            j.value("built_at", std::string()), j.value("ccache", false)};
      auto& best = cold[j["kernel"].get<std::string>()];
      if (r.compiled > best.compiled) best = r;
    }
    for (const char* name : {"6.1", "6.1+backport"}) {
      auto it = cold.find(name);
      if (it == cold.end() || it->second.compiled < 100)
        not_measured(fmt::format("kernel {}, cold build", name), "no cold build recorded in the cache");
      else
        cost(fmt::format("kernel {}, cold build", name), it->second.seconds, "s",
             fmt::format("cold (recorded at build {}, {} files compiled, ccache {})", it->second.at, it->second.compiled,
                         it->second.ccache ? "on" : "off"));
    }
    auto current = [&](const std::string& name, const nlohmann::json& m) {
      if (!m.contains("build_seconds") || !m["build_seconds"].is_number() || !m.contains("cc_count")) return;
      cost(fmt::format("kernel {}, this artifact's build", name), m["build_seconds"].get<double>(), "s",
           fmt::format("recorded at build: {} files compiled (variant switch in the shared work tree)", m["cc_count"].dump()));
    };
    current("6.1", kernel_.manifest);
    if (auto v = find_cached_kernel(spec("6.1+backport"))) current("6.1+backport", v->manifest);
  }

  static std::string read_file_or_empty(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return "";
    try {
      return read_file(p);
    } catch (const Error&) {
      return "";
    }
  }

  // Kernel cache, image builds: no guests.
  void prepare_costs() {
    status_.update("bench: kernel cache and image builds");
    auto t0 = Clock::now();
    kernel_ = prepare_kernel(spec("6.1"), true);
    const double first = elapsed_s(t0);
    if (kernel_.cache_hit) {
      t0 = Clock::now();
      (void)find_cached_kernel(spec("6.1"));
      cost("kernel 6.1, warm cache (lookup)", elapsed_s(t0), "s", "resolve inputs + key + cache hit");
    } else {
      cost("kernel 6.1, cold build (in this bench)", first, "s", "it was not cached");
    }
    recorded_builds();
    // Image: the default one as `run` uses it, then a cold build in a private cache.
    t0 = Clock::now();
    default_image_ = prepare_image(true);
    cost("guest image, default", elapsed_s(t0), "s", default_image_.cache_hit ? "cache hit" : "built");
    {
      const ScopedDir empty(make_private_dir("numasoak-bench-cache"));
      t0 = Clock::now();
      (void)image::build_image(empty.path(), image::ImageInputs::defaults());
      cost("guest image, default, cold build", elapsed_s(t0), "s", "into an empty cache");
    }
    t0 = Clock::now();
    bench_image_ = build_bench_image(spec("6.1"), [&](std::string_view l) { status_.update("bench image: " + std::string(l)); });
    cost("guest image, bench variant", elapsed_s(t0), "s",
         fmt::format("{}; stress-ng + {} libraries, selftest {}", bench_image_.image.cache_hit ? "cache hit" : "built",
                     bench_image_.libraries, bench_image_.selftest_cache_hit ? "cached" : "compiled"));
    cost("guest image, bench variant, size", static_cast<double>(bench_image_.image.size.value) / (1 << 20), "MiB", "gzip'd cpio");

    const fs::path marker = cache_dir() / "bench" / "marker-init";
    fs::create_directories(marker.parent_path());
    write_file_atomic(marker, std::string(kMarkerInit));
    image::ImageInputs in = image::ImageInputs::defaults();
    in.init = marker;
    marker_image_ = image::build_image(in);
    status_.done();
  }

  // A bench run: the bench campaign's settings with this row's profile,
  // amplifier and budget; it stops at the first failure unless `o` says
  // otherwise, and a TCG guest gets at least 90 s to boot.
  RunPlan plan(const std::string& id, const KernelArtifact& k, const image::ImageArtifact& img, const std::string& profile,
               int amplify_us, Duration duration, PlanOverrides o = {}) {
    o.profile = profile;
    o.amplify_us = amplify_us;
    o.duration = duration;
    o.on_failure = o.on_failure.value_or(OnFailure::kStop);
    o.min_boot = std::max(o.min_boot, Duration(std::chrono::seconds(90)));
    return make_plan(campaign_, spec(k.name), k, img, vm::Accel::kTcg,
                     {id, fmt::format("numasoak-bench-{}-{}", ::getpid(), ++guest_seq_), out_ / "runs" / id}, o);
  }

  BatchResult run_batch(const std::string& phase, std::vector<RunPlan> plans, std::vector<std::string> labels,
                               int parallel) {
    Batch b(*io_, *backend_, parallel, [&, phase](const BatchProgress& p) {
      if (quiet_) return;
      std::string text = fmt::format("bench {} {}/{} [{}]", phase, p.done, p.total, format_duration(std::chrono::duration_cast<Duration>(Clock::now() - t_start_)));
      for (const auto& [label, s] : p.running)
        text += fmt::format(" | {} {} {} {:.0f} ev/s", label, s.phase,
                            format_duration(s.workload_elapsed > Duration(0) ? s.workload_elapsed : s.elapsed), s.race_events_per_s);
      status_.update(text);
    });
    batch_ = &b;
    auto r = b.run(std::move(plans), std::move(labels));
    batch_ = nullptr;
    if (r.interrupted) interrupted_ = true;
    for (const auto& res : r.results)
      if (res.verdict == Verdict::kError && !quiet_)
        spdlog::warn("bench: run {} ended in error: {}: {}", res.run_id, res.kind, terminal_safe(res.title));
    return r;
  }

  // Boot to workload start: the minimal 6.1 kernel and Debian's own kernel.
  void boot_phase() {
    const int n = o_.quick ? 1 : 3;
    std::optional<KernelArtifact> debian;
    if (o_.debian_kernel) {
      try {
        debian = find_cached_kernel(spec("debian-6.1"));
        if (!debian) debian = prepare_kernel(spec("debian-6.1"), true);
      } catch (const Error& e) {
        not_measured("boot to workload start (debian-6.1)", std::string("kernel unavailable: ") + e.what());
      }
    } else {
      not_measured("boot to workload start (debian-6.1)", "skipped (--quick or --no-debian)");
    }
    std::vector<RunPlan> plans;
    std::vector<std::string> labels;
    for (int i = 0; i < n; ++i) {
      plans.push_back(plan(fmt::format("boot-6.1-{}", i + 1), kernel_, default_image_, "quiet", 0, std::chrono::seconds(3)));
      labels.push_back("boot 6.1");
      if (debian) {
        plans.push_back(plan(fmt::format("boot-debian-6.1-{}", i + 1), *debian, default_image_, "quiet", 0, std::chrono::seconds(3)));
        labels.push_back("boot debian-6.1");
      }
    }
    auto r = run_batch("boot", std::move(plans), std::move(labels), 1);
    std::vector<double> b61, bdeb;
    for (const auto& res : r.results) {
      if (res.verdict != Verdict::kSurvived && res.verdict != Verdict::kFailed) continue;
      (res.kernel == "6.1" ? b61 : bdeb).push_back(res.boot_s);
    }
    auto put = [&](const std::string& name, const std::vector<double>& v) {
      if (v.empty()) return not_measured(name, "no run reached the workload");
      cost(name, stats::median(v), "s", fmt::format("median of {} boot(s), default image, {}, TCG", v.size(), campaign_.topology.describe()));
    };
    put("boot to workload start (6.1, minimal config)", b61);
    if (debian) put(fmt::format("boot to workload start (debian-6.1, {})", debian->release), bdeb);
    save();
  }

  void detection_phase() {
    const int n = o_.quick ? 1 : 3;
    std::vector<RunPlan> plans;
    for (int i = 0; i < n; ++i)
      plans.push_back(plan(fmt::format("marker-{}", i + 1), kernel_, marker_image_, "quiet", 0, std::chrono::seconds(30)));
    auto r = run_batch("detection", std::move(plans), std::vector<std::string>(static_cast<size_t>(n), "injected bad pmd"), 1);
    std::vector<double> lat;
    for (std::size_t i = 0; i < r.results.size(); ++i)
      if (r.results[i].verdict == Verdict::kFailed && r.results[i].kind == "bad-pmd" && r.verdict_latency_s[i])
        lat.push_back(*r.verdict_latency_s[i]);
    if (lat.empty())
      not_measured("detection: marker reaches host -> verdict", "the injected marker was not detected");
    else
      cost("detection: marker reaches host -> verdict", stats::median(lat), "s",
           fmt::format("median of {}; includes the {} report window and the guest stop", lat.size(),
                       format_duration(RunPlan{}.report_window)));
    save();
  }

  void ttf_phase() {
    std::vector<BenchRow> rows = bench_rows();
    for (std::size_t ai = 0; ai < o_.amplify_us.size() && !interrupted_; ++ai) {
      const int amp = o_.amplify_us[ai];
      std::vector<BenchRow> these;
      for (const auto& row : rows) {
        if (ai == 0 || !o_.narrow_only_failing) {
          these.push_back(row);
          continue;
        }
        for (const auto& c : report_.cells)
          if (c.row.name == row.name && c.amplify_us == o_.amplify_us[0] && c.failures > 0) these.push_back(row);
      }
      if (these.empty()) break;
      const auto cases = interleaved_cases(these, amp, o_.runs, o_.budget);
      std::vector<RunPlan> plans;
      std::vector<std::string> labels;
      for (const auto& c : cases) {
        plans.push_back(plan(fmt::format("ttf-{}-{}-{}", c.row.profile, amp, c.index + 1), kernel_, bench_image_.image,
                             c.row.profile, amp, c.budget));
        labels.push_back(fmt::format("{} @{}us #{}", c.row.name, amp, c.index + 1));
      }
      auto r = run_batch(fmt::format("ttf@{}us", amp), std::move(plans), std::move(labels), 1);
      for (const auto& row : these) {
        std::vector<RunResult> mine;
        for (const auto& res : r.results)
          if (res.run_id.rfind(fmt::format("ttf-{}-{}-", row.profile, amp), 0) == 0) mine.push_back(res);
        report_.cells.push_back(summarize_cell(row, amp, mine));
      }
      report_.headline = make_headline(report_.cells, report_.natural);
      save();
    }
  }

  void natural_phase() {
    std::vector<RunPlan> plans;
    const Duration each(o_.natural_budget.count() / std::max(1, o_.natural_runs));
    for (int i = 0; i < o_.natural_runs; ++i)
      plans.push_back(plan(fmt::format("natural-{}", i + 1), kernel_, bench_image_.image, "bad-pmd", 0, each));
    auto r = run_batch("amplifier off", std::move(plans),
                       std::vector<std::string>(static_cast<size_t>(o_.natural_runs), "bad-pmd, amplifier off"), 1);
    report_.natural = summarize_cell(bench_rows().front(), 0, r.results);
    report_.headline = make_headline(report_.cells, report_.natural);
    save();
  }

  void scaling_phase() {
    for (int g : o_.scaling_guests) {
      if (interrupted_) break;
      std::vector<RunPlan> plans;
      for (int i = 0; i < g; ++i) {
        PlanOverrides o;
        o.on_failure = OnFailure::kContinue;  // every guest runs the whole budget
        o.min_boot = o.min_silence = std::chrono::seconds(60 * g);
        plans.push_back(plan(fmt::format("scale-{}-{}", g, i + 1), kernel_, bench_image_.image, "bad-pmd", 200,
                             o_.scaling_budget, o));
      }
      auto r = run_batch(fmt::format("scaling x{}", g), std::move(plans),
                         std::vector<std::string>(static_cast<size_t>(g), fmt::format("x{}", g)), g);
      ScalingPoint s;
      s.guests = g;
      for (const auto& res : r.results)
        if (auto it = res.rates.find("race_events"); it != res.rates.end()) s.aggregate_events_per_s += it->second;
      s.per_guest_events_per_s = s.aggregate_events_per_s / g;
      s.harness_cpu_s_per_guest_hour = r.guest_s > 0 ? r.harness_cpu_s / (r.guest_s / 3600.0) : 0;
      s.peak_rss_mib = static_cast<double>(r.peak_rss_kib) / 1024.0;
      report_.scaling.push_back(s);
      cost(fmt::format("harness CPU per guest-hour, {} guest(s)", g), s.harness_cpu_s_per_guest_hour, "CPU s",
           fmt::format("getrusage(RUSAGE_SELF) over {:.0f}s of {} guest(s)", r.wall_s, g));
      cost(fmt::format("harness peak RSS, {} guest(s)", g), s.peak_rss_mib, "MiB",
           r.peak_rss_kib ? "VmHWM, reset at the batch start" : "VmHWM could not be reset");
      save();
    }
  }

  void save() {
    nlohmann::json j = report_;
    write_file_atomic(out_ / "bench.json", j.dump(2) + "\n");
  }

  BenchOptions o_;
  fs::path output_;
  bool quiet_;
  Campaign campaign_;
  fs::path out_;
  BenchReport report_;
  KernelArtifact kernel_;
  image::ImageArtifact default_image_, marker_image_;
  BenchImage bench_image_;
  boost::asio::io_context* io_ = nullptr;
  vm::Backend* backend_ = nullptr;
  Batch* batch_ = nullptr;
  bool interrupted_ = false;
  int guest_seq_ = 0;
  StatusLine status_;
  Clock::time_point t_start_ = Clock::now();
};

}  // namespace

void run_bench(const BenchOptions& options, const std::filesystem::path& output, bool quiet) {
  Session(options, output, quiet).run();
}

}  // namespace numasoak::bench
