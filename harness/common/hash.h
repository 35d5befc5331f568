// Content hashing for caches: SHA-256 over named inputs, so a cache key
// changes exactly when some input byte (or its role) changes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace numasoak {

/// SHA-256 over named inputs (role + bytes): a cache key that changes exactly when an input or its role does.
class ContentHash {
 public:
  ContentHash();
  ~ContentHash();
  ContentHash(const ContentHash&) = delete;
  ContentHash& operator=(const ContentHash&) = delete;

  // Adds a labelled piece: the label and length are hashed too, so moving a
  // byte from one field to the next changes the key.
  ContentHash& add(std::string_view label, std::string_view bytes);
  // Adds a file's bytes (streamed); throws a usage Error if unreadable.
  ContentHash& add_file(std::string_view label, const std::filesystem::path& path);

  // Lower-case hex SHA-256. Call once.
  std::string hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of a file, hex.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace numasoak
