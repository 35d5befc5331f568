#include "campaign/prepare.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "common/paths.h"
#include "common/status_line.h"
#include "vm/backends.h"
#include "vm/loop.h"

namespace numasoak {

namespace fs = std::filesystem;

KernelArtifact prepare_kernel(const KernelSpec& spec, bool quiet) {
  StatusLine status;
  BuildOptions opts;
  if (!quiet) {
    opts.progress = [&](const BuildProgress& p) {
      std::string text = fmt::format("kernel {}: {}", spec.name, to_string(p.phase));
      if (p.phase == BuildPhase::kCompiling) {
        text += p.total > 0 ? fmt::format(" {}/{}", p.done, p.total) : fmt::format(" {} files", p.done);
      }
      if (!p.detail.empty()) text += " " + p.detail;
      status.update(text);
    };
  }
  KernelArtifact k = build_kernel(spec, opts);
  status.done();
  if (!quiet) {
    spdlog::info("kernel {}: {} ({}, {}{})", spec.name, k.bzimage.string(), k.release.empty() ? "?" : k.release,
                 format_bytes(k.size), k.cache_hit ? ", cached" : fmt::format(", built in {}", format_duration(k.elapsed)));
  }
  return k;
}

image::ImageArtifact prepare_image(bool quiet) {
  StatusLine status;
  image::ImageArtifact img = image::build_image(image::ImageInputs::defaults(), [&](std::string_view line) {
    if (!quiet) status.update("image: " + std::string(line));
  });
  status.done();
  if (!quiet) {
    spdlog::info("image: {} ({}{})", img.path.string(), format_bytes(img.size), img.cache_hit ? ", cached" : "");
  }
  return img;
}

vm::AccelDecision decide_accel(boost::asio::io_context& io, vm::Backend& backend, Accel requested,
                               const fs::path& kernel, const fs::path& initrd) {
  std::optional<vm::AccelDecision> decision;
  vm::probe_accel(io, backend, requested, kernel, initrd, std::chrono::seconds(20),
                  [&](vm::AccelDecision d) { decision = std::move(d); });
  vm::run_loop_until(io, [&] { return decision.has_value(); });
  // Let the probe guest finish going away before real work starts.
  io.poll();
  io.restart();
  if (!decision) throw infra_error("the accelerator probe ended without an answer");
  if (!decision->error.empty()) throw usage_error(decision->error, "use --accel tcg or accel = \"tcg\"");
  if (!decision->warning.empty()) spdlog::warn("{}", decision->warning);
  spdlog::debug("accelerator {} (probe {:.1f}s)", vm::to_string(decision->accel), decision->probe_s);
  return *decision;
}

std::unique_ptr<vm::Backend> make_backend(boost::asio::io_context& io, const Campaign& c) {
  vm::BackendSpec spec;
  if (c.backend.kind == BackendKind::kLibvirt) {
    spec.kind = vm::BackendSpec::Kind::kLibvirt;
    for (const auto& h : c.backend.hosts) spec.hosts.push_back({h.uri, h.capacity, h.labels});
    spec.accel = c.accel;
  }
  return vm::make_backend(io, spec);
}

CampaignAccel decide_campaign_accel(boost::asio::io_context& io, vm::Backend& backend, Accel requested,
                                    const fs::path& kernel, const fs::path& initrd) {
  auto* hosts = dynamic_cast<vm::PerHostAccel*>(&backend);
  if (!hosts) {
    const vm::AccelDecision d = decide_accel(io, backend, requested, kernel, initrd);
    return {d.accel, vm::to_string(d.accel)};
  }
  // Each host decides KVM or TCG with a real test boot of its own.
  std::optional<std::map<std::string, vm::AccelDecision>> decisions;
  hosts->probe_hosts(kernel, initrd, std::chrono::seconds(20),
                     [&](std::map<std::string, vm::AccelDecision> d) { decisions = std::move(d); });
  vm::run_loop_until(io, [&] { return decisions.has_value(); });
  io.restart();
  // Guests ask for KVM unless the campaign says tcg; each host gives what
  // its own probe found (PerHostAccel::accel_on), and runs record that.
  CampaignAccel out;
  out.accel = requested == Accel::kTcg ? vm::Accel::kTcg : vm::Accel::kKvm;
  if (decisions) {
    for (const auto& [uri, d] : *decisions) {
      if (!d.warning.empty()) spdlog::warn("{}: {}", uri, d.warning);
      out.text += fmt::format("{}{} {}", out.text.empty() ? "" : ", ", vm::to_string(hosts->accel_on(uri, out.accel)), uri);
    }
  }
  return out;
}

void check_host_fits(const Topology& topology) {
  // MemTotal from /proc/meminfo, in KiB.
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") break;
    kib = 0;
  }
  if (kib == 0) return;  // no figure: let QEMU decide
  const Bytes host{kib * 1024};
  const Bytes guest = topology.total_memory();
  if (guest.value >= host.value) {
    throw usage_error(fmt::format("topology: {} of guest memory ({}) but this host has {:.1f}G in all", format_bytes(guest),
                                  topology.describe(), static_cast<double>(host.value) / (1u << 30)),
                      "use a smaller --memory or topology.nodes memory");
  }
}

KernelSpec kernel_from_argument(const std::string& arg, const std::map<std::string, KernelSpec>& known) {
  if (auto it = known.find(arg); it != known.end()) return it->second;
  std::error_code ec;
  const fs::path p(arg);
  if (arg.find('/') != std::string::npos || fs::exists(p, ec)) {
    KernelSpec spec;
    spec.path = fs::absolute(p).lexically_normal();
    spec.name = sanitize_filename(spec.path.filename().string(), 40);
    if (fs::is_directory(spec.path, ec)) {
      spec.kind = KernelSourceKind::kTree;
      spec.fragments = {"numasoak-guest"};
      spec.amplifier = false;
    } else if (fs::is_regular_file(spec.path, ec)) {
      spec.kind = KernelSourceKind::kBzImage;
    } else {
      throw usage_error(fmt::format("kernel {} does not exist", arg), "give a kernel name, a bzImage or a kernel tree");
    }
    return spec;
  }
  std::vector<std::string> names;
  for (const auto& [n, s] : known) names.push_back(n);
  const std::string near = closest_match(arg, names);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw usage_error(fmt::format("unknown kernel '{}'", arg),
                    near.empty() ? "known kernels: " + list : "did you mean '" + near + "'?");
}

}  // namespace numasoak
