#include "vm/run_queue_wait.h"

#include <filesystem>
#include <fstream>
#include <string>

namespace numasoak::vm {

std::optional<std::chrono::nanoseconds> run_queue_wait(pid_t pid) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(fs::path("/proc") / std::to_string(pid) / "task", ec);
  if (ec) return std::nullopt;
  std::uint64_t total = 0;
  bool any = false;
  for (const auto& task : it) {
    std::ifstream in(task.path() / "schedstat");
    std::uint64_t on_cpu = 0, waited = 0;
    if (in >> on_cpu >> waited) {  // a thread that just exited has no file: skip it
      total += waited;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return std::chrono::nanoseconds(total);
}

}  // namespace numasoak::vm
