#include "vm/kvm_check.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace numasoak::vm {

namespace {

/// The child's exit codes: which step failed.
enum Step : int {
  kOk = 0,
  kOpen = 10,
  kApiVersion,
  kCreateVm,
  kIrqchip,
  kMemory,
  kSlot,
  kVcpu,
  kRunArea,
  kRegisters,
  kRun,
  kWrongExit,
};

const char* step_text(int step) {
  switch (step) {
    case kOpen: return "cannot open /dev/kvm";
    case kApiVersion: return "/dev/kvm speaks an unknown KVM API version";
    case kCreateVm: return "KVM_CREATE_VM failed";
    case kIrqchip: return "KVM_CREATE_IRQCHIP failed";
    case kMemory: return "cannot map guest memory";
    case kSlot: return "KVM_SET_USER_MEMORY_REGION failed";
    case kVcpu: return "KVM_CREATE_VCPU failed";
    case kRunArea: return "cannot map the vCPU's run area";
    case kRegisters: return "cannot set the vCPU's registers";
    case kRun: return "KVM_RUN failed";
    case kWrongExit: return "the test vCPU stopped somewhere unexpected";
    default: return "the KVM test process failed";
  }
}

constexpr unsigned kCodeAt = 0x1000;
constexpr unsigned kSlotSize = 0x10000;
constexpr unsigned kLoops = 4'000'000;

// Runs in the forked child: system calls only, then _exit.
[[noreturn]] void child_main(std::chrono::milliseconds timeout) {
  // Without a pidfd (Linux < 5.3) the parent waits blindly: SIGALRM's
  // default action ends a vCPU that does not come back.
  itimerval alarm{};
  alarm.it_value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  alarm.it_value.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setitimer(ITIMER_REAL, &alarm, nullptr);
  const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) ::_exit(kOpen);
  if (::ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) ::_exit(kApiVersion);
  const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) ::_exit(kCreateVm);
  if (::ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) ::_exit(kIrqchip);
  void* mem = ::mmap(nullptr, kSlotSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) ::_exit(kMemory);
  // mov ecx, kLoops; 1: dec ecx; jnz 1b; mov dx, 0x3f8; mov al, 'K'; out dx, al; hlt
  const unsigned char code[] = {0xb9, kLoops & 0xff, (kLoops >> 8) & 0xff, (kLoops >> 16) & 0xff, (kLoops >> 24) & 0xff,
                                0x49, 0x75, 0xfd, 0x66, 0xba, 0xf8, 0x03, 0xb0, 'K', 0xee, 0xf4};
  std::memcpy(static_cast<unsigned char*>(mem) + kCodeAt, code, sizeof code);
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = kSlotSize;
  region.userspace_addr = reinterpret_cast<std::uintptr_t>(mem);
  if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) ::_exit(kSlot);
  const int cpu = ::ioctl(vm, KVM_CREATE_VCPU, 0);
  if (cpu < 0) ::_exit(kVcpu);
  const int run_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) ::_exit(kRunArea);
  void* area = ::mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
  if (area == MAP_FAILED) ::_exit(kRunArea);
  auto* run = static_cast<kvm_run*>(area);
  // Flat 32-bit protected mode: the mode a kernel runs in, not the real
  // mode KVM may only emulate.
  kvm_sregs s{};
  if (::ioctl(cpu, KVM_GET_SREGS, &s) < 0) ::_exit(kRegisters);
  kvm_segment seg{};
  seg.base = 0;
  seg.limit = 0xffffffff;
  seg.present = 1;
  seg.db = 1;
  seg.s = 1;
  seg.g = 1;
  seg.type = 11;  // code: execute/read, accessed
  seg.selector = 8;
  s.cs = seg;
  seg.type = 3;  // data: read/write, accessed
  seg.selector = 16;
  s.ds = s.es = s.fs = s.gs = s.ss = seg;
  s.cr0 |= 1;
  if (::ioctl(cpu, KVM_SET_SREGS, &s) < 0) ::_exit(kRegisters);
  kvm_regs r{};
  r.rip = kCodeAt;
  r.rflags = 2;
  if (::ioctl(cpu, KVM_SET_REGS, &r) < 0) ::_exit(kRegisters);
  if (::ioctl(cpu, KVM_RUN, 0) < 0) ::_exit(kRun);
  ::_exit(run->exit_reason == KVM_EXIT_IO && run->io.port == 0x3f8 ? kOk : kWrongExit);
}

}  // namespace

KvmCheck check_kvm(std::chrono::milliseconds timeout) {
  const auto t0 = std::chrono::steady_clock::now();
  KvmCheck out;
  auto finish = [&](std::string problem) {
    out.problem = std::move(problem);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
  // Cheap and common: no device or no permission, said with errno.
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return finish(fmt::format("cannot open /dev/kvm: {}", std::strerror(errno)));
  ::close(fd);

  const pid_t pid = ::fork();
  if (pid < 0) return finish(fmt::format("cannot fork the KVM test: {}", std::strerror(errno)));
  if (pid == 0) child_main(timeout);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool timed_out = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int n;
    do {
      n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    ::close(pidfd);
    if (n == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kOk) return finish("");
  std::string why;
  if (timed_out || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)) {
    why = fmt::format("a test vCPU did not run {} million instructions within {} ms", kLoops / 1'000'000, timeout.count());
  } else if (WIFSIGNALED(status)) {
    why = fmt::format("the KVM test process died (signal {})", WTERMSIG(status));
  } else {
    why = step_text(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return finish("KVM does not work here: " + why);
}

}  // namespace numasoak::vm
