#include "image/gzip.h"

#include <zlib.h>

#include "common/error.h"

namespace numasoak::image {

namespace {
// zlib's API predates const and uses uInt lengths.
Bytef* in_ptr(std::string_view s) { return reinterpret_cast<Bytef*>(const_cast<char*>(s.data())); }
}  // namespace

std::string gzip_deterministic(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: gzip wrapper; zlib writes mtime 0, no name, OS = Unix.
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw infra_error("zlib: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 64);
  zs.next_in = in_ptr(data);
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw infra_error("zlib: deflate did not finish");
  out.resize(produced);
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw infra_error("zlib: inflateInit2 failed");
  zs.next_in = in_ptr(data);
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw infra_error("zlib: not a complete gzip stream");
  return out;
}

}  // namespace numasoak::image
