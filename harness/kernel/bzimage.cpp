#include "kernel/bzimage.h"

#include <array>
#include <fstream>

namespace numasoak::kernel {

namespace {
constexpr std::streamoff kMagicOffset = 0x202;
constexpr std::streamoff kVersionPtrOffset = 0x20E;
constexpr std::streamoff kSetupBase = 0x200;
}  // namespace

bool looks_like_bzimage(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::array<char, 4> magic{};
  in.seekg(kMagicOffset);
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic[0] == 'H' && magic[1] == 'd' && magic[2] == 'r' && magic[3] == 'S';
}

std::optional<std::string> bzimage_version(const std::filesystem::path& path) {
  if (!looks_like_bzimage(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 2> ptr{};
  in.seekg(kVersionPtrOffset);
  in.read(reinterpret_cast<char*>(ptr.data()), ptr.size());
  if (in.gcount() != 2) return std::nullopt;
  const unsigned offset = static_cast<unsigned>(ptr[0]) | (static_cast<unsigned>(ptr[1]) << 8);
  if (offset == 0) return std::nullopt;
  in.seekg(kSetupBase + offset);
  std::string out;
  char c = 0;
  while (out.size() < 512 && in.get(c) && c != '\0') out += c;
  if (out.empty()) return std::nullopt;
  return out;
}

std::string release_of(const std::string& version_string) {
  const auto sp = version_string.find(' ');
  return sp == std::string::npos ? version_string : version_string.substr(0, sp);
}

}  // namespace numasoak::kernel
