#include "workload/thread.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace numasoak::guest {

namespace {
void* trampoline(void* arg) {
  auto* fn = static_cast<std::function<void()>*>(arg);
  (*fn)();
  delete fn;
  return nullptr;
}
}  // namespace

SmallThread::SmallThread(std::function<void()> fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  auto* heap_fn = new std::function<void()>(std::move(fn));
  if (pthread_create(&id_, &attr, trampoline, heap_fn) != 0) {
    delete heap_fn;
    std::fputs("numasoak: cannot create a thread\n", stderr);
    std::abort();
  }
  pthread_attr_destroy(&attr);
  started_ = true;
}

SmallThread::SmallThread(SmallThread&& other) noexcept
    : id_(other.id_), started_(std::exchange(other.started_, false)) {}

SmallThread& SmallThread::operator=(SmallThread&& other) noexcept {
  if (this != &other) {
    join();
    id_ = other.id_;
    started_ = std::exchange(other.started_, false);
  }
  return *this;
}

SmallThread::~SmallThread() { join(); }

void SmallThread::join() {
  if (!started_) return;
  pthread_join(id_, nullptr);
  started_ = false;
}

}  // namespace numasoak::guest
