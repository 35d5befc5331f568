// SmallThread: a joinable thread with a 256 KiB stack.
//
// std::thread stacks are 8 MiB mappings. NUMA balancing charges a whole
// mapping with any present page to its per-scan budget (scan_size_mb), so
// a few thread stacks dilute the scans of the THP region several times over.
#pragma once

#include <functional>
#include <pthread.h>

namespace numasoak::guest {

class SmallThread {
 public:
  static constexpr std::size_t kStackBytes = 256 * 1024;

  SmallThread() = default;
  explicit SmallThread(std::function<void()> fn);
  SmallThread(SmallThread&& other) noexcept;
  SmallThread& operator=(SmallThread&& other) noexcept;
  SmallThread(const SmallThread&) = delete;
  SmallThread& operator=(const SmallThread&) = delete;
  ~SmallThread();  // joins

  bool joinable() const { return started_; }
  void join();

 private:
  pthread_t id_{};
  bool started_ = false;
};

}  // namespace numasoak::guest
