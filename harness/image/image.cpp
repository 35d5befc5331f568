#include "image/image.h"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "image/cpio.h"
#include "image/gzip.h"

namespace numasoak::image {

namespace {

constexpr std::string_view kFormat = "numasoak-initramfs/1";
constexpr const char* kArtifactName = "initramfs.cpio.gz";
constexpr const char* kManifestName = "manifest.json";

template <typename T>
T load(std::string_view bytes, std::size_t off) {
  T v{};
  if (off + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + off, sizeof(T));
  return v;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

void say(const ImageProgress& progress, const std::string& line) {
  if (progress) progress(line);
}

std::string read_input(const fs::path& path, std::string_view role, std::string_view hint) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw infra_error(fmt::format("{} not found at {}", role, path.string()), std::string(hint));
  return read_file(path);
}

struct Inputs {
  std::string busybox, workload, init;
  std::vector<std::pair<ExtraFile, std::string>> extras;  // with their bytes
};

// The initramfs tree: /bin (busybox, applets, workload), /init, mount points
// and /dev/console (the kernel opens it for /init's stdio before devtmpfs).
std::string pack(const Inputs& in) {
  CpioWriter cpio;
  for (const char* d : {"bin", "dev", "proc", "sys", "tmp", "run", "root"}) cpio.add_dir(d);
  cpio.add_char_device("dev/console", 5, 1, 0600);
  cpio.add_file("bin/busybox", in.busybox, 0755);
  for (std::string_view applet : kApplets) cpio.add_symlink(fmt::format("bin/{}", applet), "busybox");
  cpio.add_file("bin/numasoak-workload", in.workload, 0755);
  cpio.add_file("init", in.init, 0755);
  for (const auto& [extra, bytes] : in.extras) {
    const fs::path rel = fs::path(extra.guest_path).relative_path();
    for (fs::path dir = rel.parent_path(); !dir.empty(); dir = dir.parent_path()) cpio.add_dir(dir.string());
    cpio.add_file(rel.string(), bytes, extra.mode);
  }
  return cpio.finish();
}

// A cached image is valid when its manifest names an artifact of the
// recorded size and SHA-256.
bool cached_valid(const fs::path& dir, ImageArtifact& out) {
  std::error_code ec;
  const fs::path art = dir / kArtifactName, man = dir / kManifestName;
  if (!fs::is_regular_file(art, ec) || !fs::is_regular_file(man, ec)) return false;
  const auto j = nlohmann::json::parse(read_file(man), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("output") || !j["output"].is_object()) return false;
  const auto& o = j["output"];
  if (!o.contains("sha256") || !o["sha256"].is_string() || !o.contains("size") || !o["size"].is_number_unsigned())
    return false;
  if (fs::file_size(art, ec) != o["size"].get<std::uint64_t>() || ec) return false;
  const std::string sha = sha256_file(art);
  if (sha != o["sha256"].get<std::string>()) return false;
  out.path = art;
  out.manifest = man;
  out.sha256 = sha;
  out.size = Bytes{o["size"].get<std::uint64_t>()};
  if (j.contains("busybox_version") && j["busybox_version"].is_string())
    out.busybox_version = j["busybox_version"].get<std::string>();
  return true;
}

}  // namespace

ImageInputs ImageInputs::defaults() {
  fs::path guest_dir = NUMASOAK_GUEST_BIN_DIR;
  if (const char* env = std::getenv("NUMASOAK_GUEST_BIN_DIR"); env && *env) guest_dir = env;
  return ImageInputs{"/bin/busybox", guest_dir / "numasoak-workload", guest_dir / "init", {}};
}

std::string busybox_version(std::string_view binary) {
  constexpr std::string_view kTag = "BusyBox v";
  std::size_t at = binary.find(kTag);
  while (at != std::string_view::npos) {
    std::size_t end = at + kTag.size();
    while (end < binary.size() && end - at < 120 && binary[end] != '\0' && binary[end] != '\n' &&
           binary[end] != ')')
      ++end;
    const std::string_view v = binary.substr(at + kTag.size(), end - at - kTag.size());
    // The real banner is "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
    if (!v.empty() && v[0] >= '0' && v[0] <= '9' && end < binary.size() && binary[end] == ')')
      return std::string(v) + ")";
    at = binary.find(kTag, at + 1);
  }
  return "";
}

bool is_static_elf(std::string_view b) {
  if (b.size() < 64 || b.substr(0, 4) != "\x7f" "ELF" || b[4] != 2 /* ELFCLASS64 */) return false;
  const auto phoff = load<std::uint64_t>(b, 32);
  const auto phentsize = load<std::uint16_t>(b, 54);
  const auto phnum = load<std::uint16_t>(b, 56);
  if (phentsize < 4 || phoff > b.size()) return false;
  for (std::uint16_t i = 0; i < phnum; ++i) {
    const std::size_t off = phoff + static_cast<std::size_t>(i) * phentsize;
    if (off + 4 > b.size()) return false;
    if (load<std::uint32_t>(b, off) == 3 /* PT_INTERP */) return false;
  }
  return true;
}

ImageArtifact build_image(const ImageInputs& inputs, const ImageProgress& progress) {
  return build_image(cache_dir(), inputs, progress);
}

ImageArtifact build_image(const fs::path& cache, const ImageInputs& inputs, const ImageProgress& progress) {
  constexpr std::string_view kBusyboxHint = "apt-get install busybox-static";
  constexpr std::string_view kWorkloadHint = "build it: cmake --build <build-dir> --target numasoak-workload";
  Inputs in;
  in.busybox = read_input(inputs.busybox, "busybox", kBusyboxHint);
  if (!is_static_elf(in.busybox))
    throw infra_error(fmt::format("{} is not a static busybox; the initramfs has no shared libraries",
                                  inputs.busybox.string()),
                      std::string(kBusyboxHint));
  in.workload = read_input(inputs.workload, "numasoak-workload", kWorkloadHint);
  if (!is_static_elf(in.workload))
    throw infra_error(fmt::format("{} is not a static executable", inputs.workload.string()),
                      std::string(kWorkloadHint));
  in.init = read_input(inputs.init, "the guest init script", "it lives in guest/init of the source tree");
  for (const auto& extra : inputs.extras) {
    if (fs::path(extra.guest_path).relative_path().empty())
      throw infra_error(fmt::format("extra image file {}: no path in the guest", extra.host.string()));
    in.extras.emplace_back(extra, read_input(extra.host, "extra image file", "it is named by the bench image"));
  }

  ImageArtifact art;
  art.busybox_version = busybox_version(in.busybox);
  ContentHash key;
  key.add("format", kFormat);
  std::string applets;
  for (std::string_view a : kApplets) applets += std::string(a) + "\n";
  key.add("applets", applets).add("busybox", in.busybox).add("workload", in.workload).add("init", in.init);
  for (const auto& [extra, bytes] : in.extras)  // only when there are any: the default key stays as it was
    key.add("extra " + extra.guest_path + " " + std::to_string(extra.mode), bytes);
  art.hash = key.hex();

  const fs::path images = cache / "images";
  const fs::path dir = images / art.hash;
  art.path = dir / kArtifactName;
  art.manifest = dir / kManifestName;
  if (cached_valid(dir, art)) {
    art.cache_hit = true;
    say(progress, fmt::format("initramfs {} is cached", art.hash.substr(0, 12)));
    return art;
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    say(progress, fmt::format("initramfs {} in the cache is damaged: rebuilding it", art.hash.substr(0, 12)));
    fs::remove_all(dir, ec);
  }

  say(progress, fmt::format("packing busybox {}, numasoak-workload and /init", art.busybox_version));
  const std::string cpio = pack(in);
  say(progress, fmt::format("compressing {} KiB of cpio", cpio.size() / 1024));
  const std::string gz = gzip_deterministic(cpio);

  nlohmann::json manifest;
  manifest["format"] = kFormat;
  manifest["hash"] = art.hash;
  manifest["busybox_version"] = art.busybox_version;
  manifest["applets"] = std::vector<std::string>(kApplets.begin(), kApplets.end());
  auto input = [](const char* role, const fs::path& p, const std::string& bytes) {
    return nlohmann::json{{"role", role}, {"path", p.string()}, {"size", bytes.size()}, {"sha256", sha256_hex(bytes)}};
  };
  manifest["inputs"] = nlohmann::json::array({input("busybox", inputs.busybox, in.busybox),
                                              input("workload", inputs.workload, in.workload),
                                              input("init", inputs.init, in.init)});
  for (const auto& [extra, bytes] : in.extras) {
    auto j = input("extra", extra.host, bytes);
    j["guest_path"] = extra.guest_path;
    manifest["inputs"].push_back(j);
  }

  fs::create_directories(images, ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", images.string(), ec.message()));
  const fs::path tmp = images / fmt::format(".tmp-{}-{}", art.hash.substr(0, 12), ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", tmp.string(), ec.message()));
  write_file_atomic(tmp / kArtifactName, gz);
  art.sha256 = sha256_hex(gz);
  art.size = Bytes{gz.size()};
  manifest["output"] = {{"file", kArtifactName}, {"size", gz.size()}, {"sha256", art.sha256},
                        {"cpio_size", cpio.size()}};
  write_file_atomic(tmp / kManifestName, manifest.dump(2) + "\n");

  fs::rename(tmp, dir, ec);
  if (ec) {
    // Another builder got there first: theirs is as good as ours.
    fs::remove_all(tmp, ec);
    ImageArtifact theirs = art;
    if (cached_valid(dir, theirs)) {
      theirs.cache_hit = true;
      return theirs;
    }
    throw infra_error(fmt::format("cannot store the image in {}", dir.string()),
                      "remove that folder and build again");
  }
  say(progress, fmt::format("initramfs {} built", art.hash.substr(0, 12)));
  return art;
}

}  // namespace numasoak::image
