// CpioWriter: a newc ("070701") cpio archive, the format the kernel unpacks
// as an initramfs, written so the same entries always give the same bytes:
// entries sorted by path, mtime 0, uid/gid 0, inode numbers by sorted order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace numasoak::image {

/// Writes a newc cpio archive whose bytes depend only on its entries (sorted, zero times and owners).
class CpioWriter {
 public:
  // Paths are relative ("bin/busybox"); a leading '/' is dropped. Adding the
  // same path twice keeps the last. Parent directories are not implied.
  void add_dir(std::string_view path, std::uint32_t mode = 0755);
  void add_file(std::string_view path, std::string data, std::uint32_t mode = 0755);
  void add_symlink(std::string_view path, std::string_view target);
  void add_char_device(std::string_view path, std::uint32_t major, std::uint32_t minor, std::uint32_t mode = 0600);

  std::size_t size() const { return entries_.size(); }
  // The whole archive, entries in path order, then the TRAILER!!! entry.
  std::string finish() const;

 private:
  /// One archive member: its mode with the file type bits, its contents or link target, its device numbers.
  struct Entry {
    std::uint32_t mode = 0;  // with the S_IF* type bits
    std::string data;        // file contents or symlink target
    std::uint32_t rdev_major = 0, rdev_minor = 0;
  };
  static std::string normalize(std::string_view path);
  std::map<std::string, Entry> entries_;
};

}  // namespace numasoak::image
