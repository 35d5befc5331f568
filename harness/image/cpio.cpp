#include "image/cpio.h"

#include <fmt/format.h>

namespace numasoak::image {

namespace {

constexpr std::uint32_t kIfDir = 0040000, kIfReg = 0100000, kIfLnk = 0120000, kIfChr = 0020000;

void pad4(std::string& out) {
  while (out.size() % 4) out.push_back('\0');
}

void header(std::string& out, std::uint32_t ino, std::uint32_t mode, std::uint32_t nlink, std::size_t filesize,
            std::uint32_t rmajor, std::uint32_t rminor, std::string_view name) {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
  // rdevmajor, rdevminor, namesize (with the NUL), check.
  out += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}", ino, mode,
                     0, 0, nlink, 0, filesize, 0, 0, rmajor, rminor, name.size() + 1, 0);
  out += name;
  out.push_back('\0');
  pad4(out);
}

}  // namespace

std::string CpioWriter::normalize(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

void CpioWriter::add_dir(std::string_view path, std::uint32_t mode) {
  entries_[normalize(path)] = Entry{kIfDir | (mode & 07777), {}, 0, 0};
}

void CpioWriter::add_file(std::string_view path, std::string data, std::uint32_t mode) {
  entries_[normalize(path)] = Entry{kIfReg | (mode & 07777), std::move(data), 0, 0};
}

void CpioWriter::add_symlink(std::string_view path, std::string_view target) {
  entries_[normalize(path)] = Entry{kIfLnk | 0777, std::string(target), 0, 0};
}

void CpioWriter::add_char_device(std::string_view path, std::uint32_t major, std::uint32_t minor, std::uint32_t mode) {
  entries_[normalize(path)] = Entry{kIfChr | (mode & 07777), {}, major, minor};
}

std::string CpioWriter::finish() const {
  std::string out;
  std::size_t total = 512;
  for (const auto& [name, e] : entries_) total += 110 + name.size() + e.data.size() + 8;
  out.reserve(total);
  std::uint32_t ino = 1;
  for (const auto& [name, e] : entries_) {
    const bool dir = (e.mode & 0170000) == kIfDir;
    header(out, ino++, e.mode, dir ? 2 : 1, e.data.size(), e.rdev_major, e.rdev_minor, name);
    out += e.data;
    pad4(out);
  }
  header(out, 0, 0, 1, 0, 0, 0, "TRAILER!!!");
  // The kernel reads the initramfs in 512-byte blocks like cpio(1) writes.
  while (out.size() % 512) out.push_back('\0');
  return out;
}

}  // namespace numasoak::image
