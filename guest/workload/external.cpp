#include "workload/external.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <cerrno>
#include <unistd.h>

namespace numasoak::guest {

std::vector<std::string> external_argv(int external, int cpus) {
  const std::string n = std::to_string(cpus > 0 ? cpus : 1);
  switch (external) {
    case 1:  // its three tests (the THP one is private_anon_thp), 60 s each; re-run when it ends
      return {kSelftestMigrationPath};
    // No --timeout: stress-ng's default is a day (0 means a 0 s run in 0.15);
    // the workload stops it at the end of its duration.
    case 2:  // NUMA migration stressors: mbind, migrate_pages, move_pages of their own pages
      return {kStressNgPath, "--numa", n, "--temp-path", "/tmp", "--metrics-brief"};
    case 3:  // anonymous memory exercisers with MADV_HUGEPAGE (THPs for NUMA balancing to move)
      return {kStressNgPath, "--vm", n, "--vm-madvise", "hugepage", "--temp-path", "/tmp", "--metrics-brief"};
    default:
      return {};
  }
}

pid_t spawn_external(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setpgid(0, 0);
  std::signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  const std::string line = "numasoak: cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
  [[maybe_unused]] const ssize_t w = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(127);
}

}  // namespace numasoak::guest
