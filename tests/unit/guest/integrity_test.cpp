// IntegrityChecker (guest/workload/integrity.h) on plain host memory: a lost
// page is one event with the right address, a lost 2 MiB block is one event
// of 512 pages, and each loss is reported exactly once.
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>

#include "workload/integrity.h"

using numasoak::guest::IntegrityChecker;
using numasoak::guest::IntegrityEvent;

namespace {

constexpr size_t kBlock = IntegrityChecker::kBlock;
constexpr size_t kPage = IntegrityChecker::kPage;

struct Region {
  explicit Region(size_t blocks) : bytes(blocks * kBlock) {
    mem.reset(static_cast<std::byte*>(std::aligned_alloc(kBlock, bytes)));
    std::memset(mem.get(), 0xAB, bytes);
  }
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> mem;
  size_t bytes;
  std::byte* at(size_t block, size_t page) const { return mem.get() + block * kBlock + page * kPage; }
};

class IntegrityTest : public ::testing::Test {
 protected:
  Region region{3};
  std::int64_t now = 1000;
  int resets = 0;
  IntegrityChecker checker{region.mem.get(), region.bytes, 42, [](const void*) { return 7; }, [this] { return now; }};
  std::vector<IntegrityEvent> events;

  void SetUp() override {
    checker.set_block_reset([this](std::byte*) { ++resets; });
    checker.fill();
  }
};

}  // namespace

TEST_F(IntegrityTest, CleanMemoryHasNoEvents) {
  EXPECT_EQ(checker.verify_all(events), 0u);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(checker.pages_checked(), 3 * IntegrityChecker::kPagesPerBlock);
}

TEST_F(IntegrityTest, ZeroedPageIsReportedOnceWithItsAddress) {
  std::memset(region.at(1, 10), 0, kPage);
  now = 2500;
  ASSERT_EQ(checker.verify_all(events), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.addr, reinterpret_cast<std::uintptr_t>(region.at(1, 10)));
  EXPECT_EQ(e.pages, 1u);
  EXPECT_TRUE(e.zero);
  EXPECT_EQ(e.node, 7);
  EXPECT_EQ(e.uptime_ms, 2500);
  EXPECT_EQ(e.actual, 0u);
  EXPECT_NE(e.expected, 0u);
  events.clear();
  EXPECT_EQ(checker.verify_all(events), 0u) << "a loss must be reported once, not forever";
  EXPECT_EQ(checker.verify_all(events), 0u);
  EXPECT_EQ(checker.events(), 1u);
  EXPECT_EQ(checker.bad_pages(), 1u);
  EXPECT_EQ(resets, 0);
}

TEST_F(IntegrityTest, LostHugePageIsOneEventOf512Pages) {
  std::memset(region.at(2, 0), 0, kBlock);  // what a cleared PMD looks like
  ASSERT_EQ(checker.verify_all(events), 1u);
  EXPECT_EQ(events[0].addr, reinterpret_cast<std::uintptr_t>(region.at(2, 0)));
  EXPECT_EQ(events[0].pages, 512u);
  EXPECT_TRUE(events[0].zero);
  EXPECT_EQ(resets, 1);
  events.clear();
  EXPECT_EQ(checker.verify_all(events), 0u);
}

TEST_F(IntegrityTest, AdjacentLostBlocksAreOneEventEach) {
  std::memset(region.at(0, 0), 0, 2 * kBlock);
  ASSERT_EQ(checker.verify_all(events), 2u);
  EXPECT_EQ(events[0].pages, 512u);
  EXPECT_EQ(events[1].pages, 512u);
  EXPECT_EQ(events[1].addr, reinterpret_cast<std::uintptr_t>(region.at(1, 0)));
}

TEST_F(IntegrityTest, SeparateRunsInOneBlockAreSeparateEvents) {
  std::memset(region.at(0, 3), 0, 2 * kPage);
  std::memset(region.at(0, 100), 0, 5 * kPage);
  ASSERT_EQ(checker.verify_all(events), 2u);
  EXPECT_EQ(events[0].pages, 2u);
  EXPECT_EQ(events[1].pages, 5u);
  EXPECT_EQ(events[1].addr, reinterpret_cast<std::uintptr_t>(region.at(0, 100)));
}

TEST_F(IntegrityTest, WrongDataIsCorruptNotZero) {
  // Another page's contents mapped here: non-zero, but the wrong pattern.
  std::memcpy(region.at(1, 5), region.at(1, 6), kPage);
  ASSERT_EQ(checker.verify_all(events), 1u);
  EXPECT_FALSE(events[0].zero);
  EXPECT_NE(events[0].actual, 0u);
}

TEST_F(IntegrityTest, TouchersScratchBytesAreNotChecked) {
  for (size_t b = 0; b < 3; ++b)
    for (size_t p = 0; p < IntegrityChecker::kPagesPerBlock; ++p)
      std::memset(region.at(b, p) + IntegrityChecker::kScratchOffset, 0x5A, IntegrityChecker::kScratchBytes);
  EXPECT_EQ(checker.verify_all(events), 0u);
}

TEST_F(IntegrityTest, RefreshChangesTheGeneration) {
  const std::uint64_t before = *reinterpret_cast<std::uint64_t*>(region.at(1, 0));
  checker.refresh_block(1);
  EXPECT_NE(*reinterpret_cast<std::uint64_t*>(region.at(1, 0)), before);
  EXPECT_EQ(checker.verify_all(events), 0u);
  // Stale data from the old generation is now wrong.
  *reinterpret_cast<std::uint64_t*>(region.at(1, 9)) = IntegrityChecker::expected_word(
      reinterpret_cast<std::uintptr_t>(region.at(1, 9)), 42, 0, 0);
  ASSERT_EQ(checker.verify_all(events), 1u);
  EXPECT_FALSE(events[0].zero);
}

TEST(IntegrityPattern, NeverZeroAndAddressDependent) {
  for (std::uintptr_t a = 0; a < 64 * 4096; a += 4096)
    for (int w = 0; w < 3; ++w) EXPECT_NE(IntegrityChecker::expected_word(a, 1, 0, w), 0u);
  EXPECT_NE(IntegrityChecker::expected_word(0x1000, 1, 0, 0), IntegrityChecker::expected_word(0x2000, 1, 0, 0));
  EXPECT_NE(IntegrityChecker::expected_word(0x1000, 1, 0, 0), IntegrityChecker::expected_word(0x1000, 1, 1, 0));
}
