// Deterministic gzip: zlib at level 9 with a bare gzip header (no file name,
// mtime 0), so the same input always compresses to the same bytes.
#pragma once

#include <string>
#include <string_view>

namespace numasoak::image {

// Throws an infrastructure Error if zlib fails.
std::string gzip_deterministic(std::string_view data);

// Decompresses a gzip stream (tests and manifest checks); throws on bad data.
std::string gunzip(std::string_view data);

}  // namespace numasoak::image
