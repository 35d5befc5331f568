// Initramfs builder: packs a static busybox, the static numasoak-workload and
// the guest's /init into a gzip'd newc cpio that is byte-for-byte the same
// for the same inputs, and caches it by content under
// cache_dir()/images/<hash>/ (initramfs.cpio.gz + manifest.json).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace numasoak::image {

namespace fs = std::filesystem;

/// One more file in the image, at `guest_path` ("lib64/ld-linux-x86-64.so.2");
/// its parent folders are created. The bench image uses these.
struct ExtraFile {
  std::string guest_path;
  fs::path host;
  std::uint32_t mode = 0755;
};

/// The files an initramfs is packed from: busybox, numasoak-workload, /init and any extra files.
struct ImageInputs {
  fs::path busybox;   // static busybox (Debian's busybox-static: /bin/busybox)
  fs::path workload;  // numasoak-workload, static
  fs::path init;      // guest/init
  // Extra files (none in the default image: its cache key and bytes do not
  // change; with extras both do).
  std::vector<ExtraFile> extras;

  // /bin/busybox and the guest build folder (NUMASOAK_GUEST_BIN_DIR, or the
  // $NUMASOAK_GUEST_BIN_DIR environment variable when set).
  static ImageInputs defaults();
};

/// A built or cached initramfs: its file and manifest, its content key, sha256, size and busybox version.
struct ImageArtifact {
  fs::path path;      // <cache>/images/<hash>/initramfs.cpio.gz
  fs::path manifest;  // <cache>/images/<hash>/manifest.json
  std::string hash;   // the cache key: SHA-256 over the inputs' bytes
  std::string sha256; // of the artifact itself
  Bytes size;         // compressed size
  bool cache_hit = false;
  std::string busybox_version;  // "1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)"
};

// Progress lines for people ("packing 23 entries"), one call each.
using ImageProgress = std::function<void(std::string_view)>;

// Builds (or finds in the cache) the initramfs for `inputs`. Throws a
// one-line numasoak::Error when an input is missing or unusable (with a hint
// such as "apt-get install busybox-static") or the cache cannot be written.
ImageArtifact build_image(const ImageInputs& inputs, const ImageProgress& progress = {});

// The same with the cache folder given: the image goes to
// <cache>/images/<hash>/ (the bench times a cold build into an empty one).
// The one-argument form uses cache_dir().
ImageArtifact build_image(const fs::path& cache, const ImageInputs& inputs, const ImageProgress& progress = {});

// Busybox applets linked in /bin: what /init and a person debugging need.
inline constexpr std::array<std::string_view, 24> kApplets = {
    "cat",   "dmesg", "echo",  "free",  "grep",   "head", "ls",   "mkdir",
    "mount", "mknod", "poweroff", "ps", "reboot", "rm",   "sed",  "sh",
    "sleep", "stty",  "sync",  "tail",  "top",    "umount", "uname", "wc"};

// Pure helpers (tested on their own).
// The version a busybox binary prints ("1.35.0 (Debian ...)"), "" if none.
std::string busybox_version(std::string_view binary);
// True for an ELF executable without a PT_INTERP program header.
bool is_static_elf(std::string_view binary);

}  // namespace numasoak::image
