#include "common/hash.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <openssl/evp.h>

#include "common/error.h"

namespace numasoak {

struct ContentHash::State {
  EVP_MD_CTX* ctx = nullptr;
};

ContentHash::ContentHash() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

ContentHash::~ContentHash() { EVP_MD_CTX_free(state_->ctx); }

ContentHash& ContentHash::add(std::string_view label, std::string_view bytes) {
  const std::string header = fmt::format("{}:{}:", label, bytes.size());
  EVP_DigestUpdate(state_->ctx, header.data(), header.size());
  EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size());
  return *this;
}

ContentHash& ContentHash::add_file(std::string_view label, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const std::string header = fmt::format("{}:{}:", label, ec ? 0 : size);
  EVP_DigestUpdate(state_->ctx, header.data(), header.size());
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) EVP_DigestUpdate(state_->ctx, buf, static_cast<size_t>(in.gcount()));
  }
  return *this;
}

std::string ContentHash::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf, static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

}  // namespace numasoak
