// OpCounters: what the stressors did, counted by every worker process into
// one block of shared memory the agent reads for its heartbeats. The names
// are the protocol's (spec/protocol.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "spec/protocol.h"

namespace numasoak::guest {

enum class Op : std::size_t {
#define NUMASOAK_GUEST_OP_ENUM(name) name,
  NUMASOAK_NSW_OPS(NUMASOAK_GUEST_OP_ENUM)
#undef NUMASOAK_GUEST_OP_ENUM
};

inline constexpr const auto& kOpNames = nsw::protocol::kOpCounters;

inline constexpr std::size_t kOpCount = kOpNames.size();

// Lives in MAP_SHARED memory created before the workers fork; lock-free
// atomics work across processes.
struct OpCounters {
  std::array<std::atomic<std::uint64_t>, kOpCount> value{};

  void add(Op op, std::uint64_t n = 1) { value[static_cast<std::size_t>(op)].fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t get(Op op) const { return value[static_cast<std::size_t>(op)].load(std::memory_order_relaxed); }
  std::array<std::uint64_t, kOpCount> snapshot() const {
    std::array<std::uint64_t, kOpCount> out{};
    for (std::size_t i = 0; i < kOpCount; ++i) out[i] = value[i].load(std::memory_order_relaxed);
    return out;
  }
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "cross-process counters need lock-free atomics");

}  // namespace numasoak::guest
