// IntegrityChecker: finds memory the kernel lost or mixed up.
//
// Every 4 KiB page of a region carries three check words derived from the
// page's address and its 2 MiB block's generation (a cleared PMD maps a fresh
// zero-filled THP: all three read 0; a wrong page mapped at an address reads
// another address's pattern). Toucher threads write only bytes [64, 128) of a
// page, so the check words are stable unless the kernel breaks something.
//
// A run of bad pages inside one 2 MiB block is one event (a lost PMD = one
// event of 512 pages); after reporting it the checker rewrites the pattern, so
// each loss is reported once, and a later loss of the same block is a new
// event. Pure except for the injected node lookup and clock: it runs on any
// memory, so the host's unit tests drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace numasoak::guest {

struct IntegrityEvent {
  std::uintptr_t addr = 0;    // first bad page
  std::size_t pages = 0;      // contiguous bad pages inside one 2 MiB block
  int node = -1;              // node backing `addr` when found (-1 unknown)
  bool zero = false;          // every bad page read zero check words (lost mapping)
  std::uint64_t expected = 0; // first check word of the first bad page
  std::uint64_t actual = 0;
  std::int64_t uptime_ms = 0;
};

class IntegrityChecker {
 public:
  static constexpr std::size_t kPage = 4096;
  static constexpr std::size_t kBlock = std::size_t{2} << 20;
  static constexpr std::size_t kPagesPerBlock = kBlock / kPage;
  // Bytes of a page the toucher threads may write.
  static constexpr std::size_t kScratchOffset = 64;
  static constexpr std::size_t kScratchBytes = 64;

  using NodeLookup = std::function<int(const void*)>;
  using Clock = std::function<std::int64_t()>;
  // Called before repairing a block whose 512 pages are all bad, so the
  // worker can drop it (MADV_DONTNEED) and the repair faults in a fresh THP
  // instead of COW-splitting the huge zero page.
  using BlockReset = std::function<void(std::byte* block)>;

  // `base` page-aligned, `bytes` a multiple of 2 MiB. The checker does not own
  // the memory.
  IntegrityChecker(std::byte* base, std::size_t bytes, std::uint32_t seed, NodeLookup node = {}, Clock clock = {});

  void set_block_reset(BlockReset reset) { reset_ = std::move(reset); }

  // Writes the check words of every page (generation 0 of each block).
  void fill();
  // Verifies one block / every block; appends new events to `out` and repairs
  // the bad pages. Returns how many events were added.
  std::size_t verify_block(std::size_t block, std::vector<IntegrityEvent>& out);
  std::size_t verify_all(std::vector<IntegrityEvent>& out);
  // Gives a block a new generation and rewrites its pages.
  void refresh_block(std::size_t block);

  std::size_t blocks() const { return gens_.size(); }
  std::byte* base() const { return base_; }
  std::uint64_t pages_checked() const { return pages_checked_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t bad_pages() const { return bad_pages_; }

  // Check word `which` (0..2) of the page at `page_addr` in generation `gen`.
  static std::uint64_t expected_word(std::uintptr_t page_addr, std::uint32_t seed, std::uint32_t gen, int which);

 private:
  void write_page(std::byte* page, std::uint32_t gen);
  // 0 = good, 1 = zero, 2 = wrong.
  int check_page(const std::byte* page, std::uint32_t gen, std::uint64_t& expected, std::uint64_t& actual) const;

  std::byte* base_;
  std::uint32_t seed_;
  NodeLookup node_;
  Clock clock_;
  BlockReset reset_;
  std::vector<std::uint32_t> gens_;
  std::uint64_t pages_checked_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t bad_pages_ = 0;
};

}  // namespace numasoak::guest
