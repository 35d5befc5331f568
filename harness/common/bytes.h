// Bytes: a memory size as campaign files spell it ("512M", "1G", "2GiB").
// Units are binary (K = 1024): guest RAM and huge pages are counted that way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace numasoak {

/// A memory size in bytes (binary units: K = 1024), as guest RAM and huge pages count it.
struct Bytes {
  std::uint64_t value = 0;

  std::uint64_t mib() const { return value >> 20; }
  friend auto operator<=>(const Bytes&, const Bytes&) = default;
};

inline constexpr Bytes MiB(std::uint64_t n) { return Bytes{n << 20}; }
inline constexpr Bytes GiB(std::uint64_t n) { return Bytes{n << 30}; }

// Parses "4096", "512K", "512M", "1G", "1GiB", "1.5G". Returns nullopt when
// the text is not a size.
std::optional<Bytes> parse_bytes(std::string_view text);

// "1G", "512M", "1536M": the largest unit that divides exactly.
std::string format_bytes(Bytes b);

}  // namespace numasoak
