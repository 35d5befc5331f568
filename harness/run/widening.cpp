#include "run/widening.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/paths.h"
#include "kernel/inputs.h"
#include "kernel/outside.h"
#include <spdlog/spdlog.h>

namespace numasoak {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// window.json: the located point, keyed by the vmlinux it came from (size and
// mtime: a rebuilt artifact is a new directory anyway) and by the locator's
// version (a memo from an older locator is located again).
constexpr int kLocatorVersion = 3;  // 2: every copy of the read, per-copy pointer registers; 3: source names the helpers out to their caller
std::string vmlinux_stamp(const fs::path& vmlinux) {
  std::error_code ec;
  const auto size = fs::file_size(vmlinux, ec);
  const auto mtime = fs::last_write_time(vmlinux, ec).time_since_epoch().count();
  return fmt::format("{} {}", size, mtime);
}

kernel::WindowPoint located(const KernelArtifact& k, const std::string& name) {
  const fs::path vmlinux = k.dir / "vmlinux";
  const fs::path memo = k.dir / "window.json";
  const std::string stamp = vmlinux_stamp(vmlinux);
  std::error_code ec;
  if (fs::is_regular_file(memo, ec)) {
    try {
      const json j = json::parse(read_file(memo));
      if (j.value("vmlinux", "") == stamp && j.value("locator", 0) == kLocatorVersion) {
        kernel::WindowPoint w;
        w.shape = j.value("shape", "") == "single" ? kernel::WindowPoint::Shape::kSingle : kernel::WindowPoint::Shape::kReread;
        w.symbol = j.value("symbol", "");
        w.offsets = j.value("offsets", std::vector<std::uint64_t>{});
        w.ptr_reg = j.value("ptr_reg", "");
        w.val_reg = j.value("val_reg", "");
        w.ptr_regs = j.value("ptr_regs", std::vector<std::string>{});
        w.source = j.value("source", "");
        w.copies = j.value("copies", 0);
        if (!w.symbol.empty() && !w.offsets.empty()) return w;
      }
    } catch (const json::exception&) {
      // A torn or old memo: locate again.
    }
  }
  kernel::WindowPoint w = kernel::locate_window(vmlinux, name);
  const json j = {{"vmlinux", stamp},     {"locator", kLocatorVersion},  {"ptr_regs", w.ptr_regs},
                  {"shape", to_string(w.shape)}, {"symbol", w.symbol},
                  {"offsets", w.offsets}, {"ptr_reg", w.ptr_reg},        {"val_reg", w.val_reg},
                  {"source", w.source},   {"copies", w.copies}};
  try {
    write_file_atomic(memo, j.dump(2) + "\n");
  } catch (const std::exception&) {
    // A read-only cache still runs; it locates again next time.
  }
  return w;
}

}  // namespace

std::string Widening::describe() const {
  const std::string delays = fmt::format("numa {} us, uffd {} us", numa_us, uffd_us);
  switch (how) {
    case How::kSourcePatch: return "source patch (" + delays + ")";
    case How::kOutside: return point.describe() + " (" + delays + ")";
    case How::kNone: break;
  }
  return note.empty() ? "none" : "none: " + note;
}

Widening decide_widening(const KernelSpec& spec, const KernelArtifact& kernel, int numa_us, int uffd_us) {
  Widening w;
  w.numa_us = numa_us;
  w.uffd_us = uffd_us;
  if (numa_us <= 0 && uffd_us <= 0) return w;
  if (spec.amplifier) {
    w.how = Widening::How::kSourcePatch;
    return w;
  }
  std::error_code ec;
  if (spec.kind == KernelSourceKind::kDebianImage) {
    // Debian's own kernel: the -dbg vmlinux and the module built against its headers.
    kernel::prepare_debian_outside(kernel, kernel::default_images_dir(),
                                   [](const std::string& s) { spdlog::info("{}", s); });
  }
  const fs::path module = kernel.dir.empty() ? fs::path() : kernel.dir / "numasoak_widen.ko";
  if (module.empty() || !fs::is_regular_file(module, ec)) {
    w.numa_us = w.uffd_us = 0;
    w.note = fmt::format("kernel {} has neither numasoak's amplifier series nor the widen module (build it with "
                         "fragment {})", spec.name, kOutsideFragment);
    return w;
  }
  w.how = Widening::How::kOutside;
  w.module = module;
  w.point = located(kernel, spec.name);
  return w;
}

}  // namespace numasoak
