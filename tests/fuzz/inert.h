// inert.h — the fuzz targets' shared check on text that came from the guest.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string_view>

#include "common/utf8.h"

namespace numasoak::fuzz {

// Aborts (a libFuzzer finding) unless `s` is at most `max` bytes of valid
// UTF-8 with no control character but tab: what the harness promises about
// any guest text it keeps, shows or writes.
inline void check_inert(std::string_view s, std::size_t max) {
  if (s.size() > max) std::abort();
  for (std::size_t i = 0; i < s.size();) {
    const auto [cp, len] = numasoak::utf8::decode(s, i);
    if (len == 0 || (numasoak::utf8::is_control(cp) && cp != '\t')) std::abort();
    i += len;
  }
}

}  // namespace numasoak::fuzz
