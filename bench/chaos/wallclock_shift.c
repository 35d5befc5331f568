// wallclock_shift: an LD_PRELOAD library for bench/chaos's clock-jump fault.
// It moves the wall clock of the process it is loaded into, and nothing else:
// what an NTP step or `date -s` does to a running program.
//
//   NUMASOAK_WALLCLOCK_SHIFT_FILE=/path/offset  (signed whole seconds, e.g. -57600)
//   LD_PRELOAD=.../libnumasoak_wallclock_shift.so numasoak ...
//
// Shifted: clock_gettime(CLOCK_REALTIME, _COARSE, _ALARM, CLOCK_TAI),
// gettimeofday(), time(), timespec_get(TIME_UTC). The file is re-read at most
// every 100 ms of CLOCK_MONOTONIC, so the chaos driver moves the clock by
// rewriting it (rename over it). Not touched: CLOCK_MONOTONIC/BOOTTIME, every
// timer and timerfd, sleeps, stat() times.
//
// Why not libfaketime, which the chaos driver used first: its
// timerfd_settime() translates every absolute deadline as a CLOCK_REALTIME
// one, whatever the timerfd's clock ("only CLOCK_REALTIME is handled" in its
// source). Boost.Asio arms its CLOCK_MONOTONIC timerfd with an absolute
// deadline of 1 ns for a timer that is already due; under any offset that
// deadline lands hours away (or is refused), the due timer never wakes the
// loop, and a process whose file descriptors are quiet stalls. No real clock
// jump does that.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);

static clock_gettime_fn real_clock_gettime(void) {
  static _Atomic(clock_gettime_fn) fn = NULL;
  clock_gettime_fn f = atomic_load(&fn);
  if (!f) {
    f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    atomic_store(&fn, f);
  }
  return f;
}

static _Atomic long long offset_s = 0;
static _Atomic long long next_read_ns = 0;

// The offset, re-read from the file when 100 ms have passed (monotonic).
static long long current_offset(void) {
  struct timespec mono;
  if (real_clock_gettime()(CLOCK_MONOTONIC, &mono) != 0) return atomic_load(&offset_s);
  const long long now = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
  long long due = atomic_load(&next_read_ns);
  if (now < due || !atomic_compare_exchange_strong(&next_read_ns, &due, now + 100000000LL)) {
    return atomic_load(&offset_s);
  }
  const char* path = getenv("NUMASOAK_WALLCLOCK_SHIFT_FILE");
  if (!path) return atomic_load(&offset_s);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return atomic_load(&offset_s);
  char buf[32];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 0) {
    buf[n] = '\0';
    char* end = NULL;
    const long long v = strtoll(buf, &end, 10);
    if (end != buf) atomic_store(&offset_s, v);
  }
  return atomic_load(&offset_s);
}

static int is_wall_clock(clockid_t c) {
  return c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE || c == CLOCK_REALTIME_ALARM || c == CLOCK_TAI;
}

int clock_gettime(clockid_t c, struct timespec* ts) {
  const int r = real_clock_gettime()(c, ts);
  if (r == 0 && ts && is_wall_clock(c)) ts->tv_sec += current_offset();
  return r;
}

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
  (void)tz;  // obsolete; glibc fills nothing useful
  if (!tv) return 0;
  struct timespec ts;
  const int r = clock_gettime(CLOCK_REALTIME, &ts);
  if (r == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return r;
}

time_t time(time_t* t) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}

int timespec_get(struct timespec* ts, int base) {
  if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0) return 0;
  return base;
}
