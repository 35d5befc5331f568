#include "image/append.h"

#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "image/cpio.h"
#include "image/gzip.h"

namespace numasoak::image {

ImageArtifact with_files(const ImageArtifact& base, const std::vector<ExtraFile>& files) {
  if (files.empty()) return base;
  ContentHash h;
  h.add("base", base.hash + " " + base.sha256);
  CpioWriter cpio;
  for (const auto& f : files) {
    std::error_code ec;
    if (!fs::is_regular_file(f.host, ec)) throw infra_error(fmt::format("{} not found (for the initramfs)", f.host.string()));
    std::string bytes = read_file(f.host);
    h.add(f.guest_path, bytes);
    // The parent folders, so the kernel can create the file.
    for (fs::path p = fs::path(f.guest_path).parent_path(); !p.empty(); p = p.parent_path()) cpio.add_dir(p.string());
    cpio.add_file(f.guest_path, std::move(bytes), f.mode);
  }
  ImageArtifact out = base;
  out.hash = h.hex();
  const fs::path dir = cache_dir() / "images" / out.hash;
  out.path = dir / "initramfs.cpio.gz";
  out.manifest = base.manifest;
  std::error_code ec;
  if (fs::is_regular_file(out.path, ec)) {
    out.cache_hit = true;
    out.sha256 = sha256_file(out.path);
    out.size = Bytes{fs::file_size(out.path, ec)};
    return out;
  }
  fs::create_directories(dir, ec);
  std::string bytes = read_file(base.path);
  bytes += gzip_deterministic(cpio.finish());
  write_file_atomic(out.path, bytes);
  out.cache_hit = false;
  out.sha256 = sha256_file(out.path);
  out.size = Bytes{bytes.size()};
  return out;
}

}  // namespace numasoak::image
