#include "workload/integrity.h"

namespace numasoak::guest {

namespace {

constexpr std::size_t kWordOffsets[3] = {0, 8, IntegrityChecker::kPage - 8};

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

volatile std::uint64_t* word_at(std::byte* page, int which) {
  return reinterpret_cast<volatile std::uint64_t*>(page + kWordOffsets[which]);
}

const volatile std::uint64_t* word_at(const std::byte* page, int which) {
  return reinterpret_cast<const volatile std::uint64_t*>(page + kWordOffsets[which]);
}

}  // namespace

IntegrityChecker::IntegrityChecker(std::byte* base, std::size_t bytes, std::uint32_t seed, NodeLookup node,
                                   Clock clock)
    : base_(base), seed_(seed), node_(std::move(node)), clock_(std::move(clock)), gens_(bytes / kBlock, 0) {}

std::uint64_t IntegrityChecker::expected_word(std::uintptr_t page_addr, std::uint32_t seed, std::uint32_t gen,
                                              int which) {
  const std::uint64_t key = (static_cast<std::uint64_t>(page_addr) >> 12) ^ (static_cast<std::uint64_t>(seed) << 40) ^
                            (static_cast<std::uint64_t>(gen) << 20) ^ (static_cast<std::uint64_t>(which) << 62);
  return mix64(key) | 1;  // never zero, so a zero-filled page can never pass
}

void IntegrityChecker::write_page(std::byte* page, std::uint32_t gen) {
  const auto addr = reinterpret_cast<std::uintptr_t>(page);
  for (int w = 0; w < 3; ++w) *word_at(page, w) = expected_word(addr, seed_, gen, w);
}

int IntegrityChecker::check_page(const std::byte* page, std::uint32_t gen, std::uint64_t& expected,
                                 std::uint64_t& actual) const {
  const auto addr = reinterpret_cast<std::uintptr_t>(page);
  bool all_zero = true, ok = true;
  for (int w = 0; w < 3; ++w) {
    const std::uint64_t got = *word_at(page, w);
    const std::uint64_t want = expected_word(addr, seed_, gen, w);
    if (got != 0) all_zero = false;
    if (got != want && ok) {
      ok = false;
      expected = want;
      actual = got;
    }
  }
  if (ok) return 0;
  return all_zero ? 1 : 2;
}

void IntegrityChecker::fill() {
  for (std::size_t b = 0; b < gens_.size(); ++b) {
    std::byte* block = base_ + b * kBlock;
    for (std::size_t p = 0; p < kPagesPerBlock; ++p) write_page(block + p * kPage, gens_[b]);
  }
}

std::size_t IntegrityChecker::verify_block(std::size_t b, std::vector<IntegrityEvent>& out) {
  if (b >= gens_.size()) return 0;
  std::byte* block = base_ + b * kBlock;
  const std::uint32_t gen = gens_[b];
  std::size_t added = 0;
  std::size_t p = 0;
  while (p < kPagesPerBlock) {
    std::uint64_t expected = 0, actual = 0;
    int state = check_page(block + p * kPage, gen, expected, actual);
    ++pages_checked_;
    if (state == 0) {
      ++p;
      continue;
    }
    // A run of bad pages: one event.
    IntegrityEvent ev;
    ev.addr = reinterpret_cast<std::uintptr_t>(block + p * kPage);
    ev.expected = expected;
    ev.actual = actual;
    ev.zero = state == 1;
    const std::size_t first = p;
    ++p;
    while (p < kPagesPerBlock) {
      std::uint64_t e2 = 0, a2 = 0;
      state = check_page(block + p * kPage, gen, e2, a2);
      ++pages_checked_;
      if (state == 0) break;
      if (state == 2) ev.zero = false;
      ++p;
    }
    ev.pages = p - first;
    ev.node = node_ ? node_(block + first * kPage) : -1;
    ev.uptime_ms = clock_ ? clock_() : 0;
    if (ev.pages == kPagesPerBlock && reset_) reset_(block);
    for (std::size_t r = first; r < p; ++r) write_page(block + r * kPage, gen);  // report once
    out.push_back(ev);
    ++added;
    ++events_;
    bad_pages_ += ev.pages;
    ++p;  // the page after the run was checked and is good
  }
  return added;
}

std::size_t IntegrityChecker::verify_all(std::vector<IntegrityEvent>& out) {
  std::size_t n = 0;
  for (std::size_t b = 0; b < gens_.size(); ++b) n += verify_block(b, out);
  return n;
}

void IntegrityChecker::refresh_block(std::size_t b) {
  if (b >= gens_.size()) return;
  ++gens_[b];
  std::byte* block = base_ + b * kBlock;
  for (std::size_t p = 0; p < kPagesPerBlock; ++p) write_page(block + p * kPage, gens_[b]);
}

}  // namespace numasoak::guest
