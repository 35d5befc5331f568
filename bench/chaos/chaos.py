#!/usr/bin/env python3
"""numasoak chaos mode: many short runs under seeded, logged, injected faults.

Runs one `numasoak compare` campaign of quiet guests (profile "quiet", a few
seconds each) and, at random moments drawn from --seed, injects faults:

  qemu-kill     SIGKILL of one of the campaign's QEMUs
  harness-kill  SIGKILL of numasoak, then the same command again (resume)
  qemu-stop     SIGSTOP of one QEMU for 0.5..--stop-max s, then SIGCONT
  disk-full     the output folder (a tmpfs this driver mounts) filled by a
                file grown until ENOSPC, held 1..4 s, deleted (numasoak is
                restarted when it stopped on it)
  clock-jump    numasoak runs with wallclock_shift.c preloaded (its wall
                clock only; monotonic clock, timers and timerfds untouched);
                the offset file is rewritten to a new offset
  libvirtd-restart  (--backend libvirt) SIGKILL of the private libvirtd
                this driver started (its own socket, not qemu:///system),
                started again 0.5..3 s later

--backend libvirt runs the campaign through that private libvirtd (libvirtd
--config with unix_sock_dir in the work folder; URI
qemu+unix:///system?socket=...); the ledger also asserts that `virsh -c URI
list --all` shows no domain of the campaign.

Each fault is logged with the run(s) it hit. At the end a ledger check:
every planned run in the database exactly once, finished (survived, or error
with its cause), attempts = interruptions + 1, every faulted run accounted
for, no QEMU or numasoak of this campaign left, and `numasoak report` on a
copy of the database alone agrees with the database and with the campaign's
own summary.json. Growth figures (harness RSS, fds, threads, database and
output folder size, harness CPU per run) are sampled every --sample-every
finished runs.

Exit 0 when the ledger is exact, 1 on any mismatch, 2 on a setup error.
Needs root (tmpfs mount), and for clock-jump the preload library built
beside numasoak (ninja -C build numasoak_wallclock_shift; --wallclock-lib).
Only processes this driver started, and QEMUs whose parent is one of them,
are ever signalled.
"""

import argparse
import ctypes
import errno
import json
import os
import random
import re
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

KINDS = ["qemu-kill", "harness-kill", "qemu-stop", "disk-full", "clock-jump"]
# --backend libvirt only: SIGKILL of the private libvirtd this driver runs,
# started again 0.5..3 s later (numasoak reconnects; README promise 9).
LIBVIRT_KINDS = ["libvirtd-restart"]
# The faults after which numasoak itself is started again (killed, or stopped
# by ENOSPC with exit 3): --one-process leaves them out, so one numasoak
# process runs the whole campaign and its growth is that process's.
RESTARTING = {"harness-kill", "disk-full"}
PR_SET_PDEATHSIG = 1


def die_with_parent():
    # numasoak dies with this driver (and its QEMUs with it: PR_SET_PDEATHSIG).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def read_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def pids_with(needle):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid() and needle in read_cmdline(int(d)):
            out.append(int(d))
    return out


def wait_gone(pids, limit_s):
    """Waits (pidfd + poll) until every pid has exited; the ones still there."""
    left = []
    deadline = time.monotonic() + limit_s
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            p = select.poll()
            p.register(fd, select.POLLIN)
            if not p.poll(max(0, (deadline - time.monotonic()) * 1000)):
                left.append(pid)
        finally:
            os.close(fd)
    return left


def proc_figures(pid):
    fig = {}
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        fig["cpu_s"] = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, self only
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    fig[k] = int(v.split()[0])  # kB
                elif k == "Threads":
                    fig["threads"] = int(v)
        fig["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError):
        pass
    return fig


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


class Chaos:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.name = f"chaos-{a.seed}-{os.getpid()}"
        self.work = os.path.abspath(a.workdir or f"/tmp/numasoak-{self.name}")
        self.out = os.path.join(self.work, "out")
        self.cfile = os.path.join(self.work, "chaos.toml")
        self.spec = os.path.join(self.work, "wallclock-offset")  # seconds, read by wallclock_shift.c
        self.kernels = ["6.1", "6.1+backport"]
        self.rpk = (a.runs + 1) // 2
        self.planned = {f"{k}-{i}" for k in self.kernels for i in range(1, self.rpk + 1)}
        self.tag = f"numasoak-{self.name}-"  # in each QEMU's command line (domain/guest name)
        self.proc = None
        self.proc_started_finished = 0
        self.harness_log = None
        self.starts = 0
        self.exits = []
        self.done_cpu_s = 0.0
        self.faults = []
        self.samples = []
        self.mismatches = []
        self.notes = []
        self.known = []  # mismatches of a known harness bug (--known-bug), printed, not failing
        self.mounted = False
        self.t0 = time.monotonic()
        self.offset_h = 0
        self.lv_dir = os.path.join(self.work, "libvirtd")
        self.lv_uri = f"qemu+unix:///system?socket={self.lv_dir}/sock/libvirt-sock"
        self.libvirtd = None  # the private libvirtd (a child of this driver)
        self.virtlogd = None  # started here only when none ran
        self.libvirtd_starts = 0
        self.stopped_early = False  # --stop-after: numasoak was stopped (SIGINT) before every run was done

    # ---- set-up ---------------------------------------------------------
    def setup(self):
        if os.geteuid() != 0:
            sys.exit("chaos: needs root (mounts a tmpfs for the output folder)")
        kinds = self.kinds()
        if "clock-jump" in kinds and not os.path.exists(self.a.wallclock_lib):
            sys.exit(f"chaos: {self.a.wallclock_lib} missing: build it (ninja -C build numasoak_wallclock_shift) "
                     f"or give --wallclock-lib")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.out)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.a.tmpfs},mode=0755", "tmpfs", self.out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"chaos: mount tmpfs on {self.out}: {r.stderr.strip()}")
        self.mounted = True
        if self.a.backend == "libvirt":
            self.start_libvirt()
        with open(self.spec, "w") as f:
            f.write("+0\n")
        with open(self.cfile, "w") as f:
            f.write(f'''# written by bench/chaos/chaos.py (seed {self.a.seed})
name = "{self.name}"
kernels = ["6.1", "6.1+backport"]
runs_per_kernel = {self.rpk}
duration = "{self.a.duration}"
accel = "tcg"
stop = "fixed"
on_failure = "stop"
parallel = {self.a.parallel}
oversubscribe = {self.a.oversubscribe}
output = "{self.out}"
[topology]
nodes = 2
cpus_per_node = 1
memory = "512M"
[workload]
profile = "quiet"
[watchdog]
boot = "90s"
silence = "60s"
''')
            if self.a.backend == "libvirt":
                # capacity in vCPUs: --parallel guests of 2 vCPUs each.
                f.write(f'''[backend]
kind = "libvirt"
[[backend.hosts]]
uri = "{self.lv_uri}"
capacity = {2 * self.a.parallel}
labels = ["chaos"]
''')

    def kinds(self):
        return [k for k in self.a.kinds.split(",") if k]

    # ---- the private libvirtd (--backend libvirt) ------------------------
    def start_libvirt(self):
        for b in ("libvirtd", "virtlogd", "virsh"):
            if not shutil.which(b):
                sys.exit(f"chaos: --backend libvirt: {b} is missing (scripts/install-deps installs libvirt)")
        os.makedirs(os.path.join(self.lv_dir, "sock"), exist_ok=True)
        with open(os.path.join(self.lv_dir, "libvirtd.conf"), "w") as f:
            # Only the sockets are private: a root libvirtd keeps its QEMU
            # driver's state in /run/libvirt/qemu and /var/lib/libvirt, so no
            # system libvirtd may run alongside (checked below).
            f.write(f'''unix_sock_dir = "{self.lv_dir}/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:{self.lv_dir}/libvirtd.log"
''')
        others = [p for p in pids_with("libvirtd") if os.path.basename(read_cmdline(p).split(" ")[0]) == "libvirtd"]
        if others:
            sys.exit(f"chaos: --backend libvirt: a libvirtd already runs ({others}): its QEMU driver state "
                     "(/run/libvirt/qemu) would be shared with the private one; stop it or use --backend qemu")
        if not any(os.path.basename(read_cmdline(p).split(" ")[0]) == "virtlogd" for p in pids_with("virtlogd")):
            # libvirtd's QEMU driver hands guest consoles to virtlogd (/run/libvirt/virtlogd-sock).
            self.virtlogd = subprocess.Popen(["virtlogd"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=open(os.path.join(self.lv_dir, "virtlogd.err"), "wb"),
                                             preexec_fn=die_with_parent)
        if not self.libvirtd_up():
            sys.exit(f"chaos: the private libvirtd did not answer on {self.lv_uri} within 30 s: "
                     f"{self.lv_dir}/libvirtd.log")

    def libvirtd_up(self, limit_s=30):
        """Starts the private libvirtd and waits (bounded) until it answers."""
        self.libvirtd_starts += 1
        self.libvirtd = subprocess.Popen(
            ["libvirtd", "--config", os.path.join(self.lv_dir, "libvirtd.conf"),
             "--pid-file", os.path.join(self.lv_dir, "libvirtd.pid")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.lv_dir, f"libvirtd-{self.libvirtd_starts}.err"), "wb"),
            preexec_fn=die_with_parent)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.libvirtd.poll() is not None:
                return False
            r = subprocess.run(["virsh", "-q", "-c", self.lv_uri, "version"], capture_output=True, timeout=15)
            if r.returncode == 0:
                return True
            time.sleep(0.2)
        return False

    def libvirt_domains(self):
        """Domains of this campaign that the private libvirtd knows (virsh list --all)."""
        r = subprocess.run(["virsh", "-q", "-c", self.lv_uri, "list", "--all", "--name"], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            return None
        return [n for n in r.stdout.split() if n.startswith(self.tag)]

    def stop_libvirt(self):
        for p in (self.libvirtd, self.virtlogd):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.reap()
        for pid in self.our_qemus():
            os.kill(pid, signal.SIGKILL)
        if self.mounted:
            if self.a.keep:
                for f in ("summary.json", "numasoak.log"):
                    if os.path.exists(os.path.join(self.out, f)):
                        shutil.copy(os.path.join(self.out, f), os.path.join(self.work, "kept-" + f))
                if os.path.exists(os.path.join(self.out, "numasoak.db")):
                    src, dst = self.db(), sqlite3.connect(os.path.join(self.work, "kept-numasoak.db"))
                    src.backup(dst)
                    dst.close()
                    src.close()
            subprocess.run(["umount", "-l", self.out])
            self.mounted = False
        self.stop_libvirt()

    # ---- the harness ----------------------------------------------------
    def env(self):
        env = dict(os.environ)
        if "clock-jump" in self.kinds():
            # The wall clock only, as an NTP step moves it (wallclock_shift.c
            # says why not libfaketime: it breaks Asio's monotonic timerfd).
            env.update(LD_PRELOAD=self.a.wallclock_lib, NUMASOAK_WALLCLOCK_SHIFT_FILE=self.spec)
        return env

    def start(self):
        self.starts += 1
        self.harness_log = os.path.join(self.work, f"harness-{self.starts}.log")
        err = open(self.harness_log, "wb")
        self.proc = subprocess.Popen([self.a.numasoak, "-v", "compare", self.cfile], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err, env=self.env(),
                                     preexec_fn=die_with_parent)
        err.close()
        self.proc_started_finished = self.finished_count()

    def _reap(self, block):
        """Reaps the harness when it has exited (blocking if asked): its exit
        code, else None. Its own CPU time (utime + stime of the zombie, not of
        its QEMUs, which wait4's rusage would include) goes to done_cpu_s."""
        if self.proc.returncode is not None:
            return self.proc.returncode
        flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
        if os.waitid(os.P_PID, self.proc.pid, flags) is None:
            return None
        self.done_cpu_s += proc_figures(self.proc.pid).get("cpu_s", 0)
        _, status = os.waitpid(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return self.proc.returncode

    def reap(self):
        return self._reap(True)

    def harness_exited(self):
        return self._reap(False)

    def wait_harness(self, seconds):
        """Waits up to `seconds` for the harness to exit (pidfd); exit code or None."""
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            fd = os.pidfd_open(self.proc.pid)
        except ProcessLookupError:
            return self.harness_exited()
        try:
            p = select.poll()
            p.register(fd, select.POLLIN)
            p.poll(seconds * 1000)
        finally:
            os.close(fd)
        return self.harness_exited()

    def log_tail(self, n=3):
        try:
            with open(self.harness_log, errors="replace") as f:
                return [l.rstrip() for l in f.readlines()[-n:]]
        except OSError:
            return []

    def our_qemus(self):
        harness = self.proc.pid if self.proc else -1
        return [p for p in pids_with(self.tag) if "qemu" in read_cmdline(p).split(" ")[0]
                or ppid_of(p) == harness]

    def run_of(self, pid):
        m = re.search(re.escape(self.tag) + r"([^\s,]+)", read_cmdline(pid))
        # A re-run's guest is "<run>-try<k>" (campaign/runner.cpp).
        return re.sub(r"-try\d+$", "", m.group(1)) if m else "?"

    # ---- the database (read-only, while numasoak writes) ---------------
    def db(self):
        return sqlite3.connect(f"file:{self.out}/numasoak.db?mode=ro", uri=True, timeout=10)

    def query(self, sql):
        try:
            c = self.db()
            try:
                return c.execute(sql).fetchall()
            finally:
                c.close()
        except sqlite3.Error:
            return None

    def finished_count(self):
        r = self.query("SELECT count(*) FROM runs WHERE state = 'finished'")
        return r[0][0] if r else 0

    def running_runs(self):
        r = self.query("SELECT id FROM runs WHERE state = 'running'")
        return sorted(x[0] for x in r) if r else []

    # ---- faults -----------------------------------------------------------
    def schedule(self):
        kinds = self.kinds()
        plan = [kinds[i % len(kinds)] for i in range(self.a.faults)]
        self.rng.shuffle(plan)
        hi = max(1, len(self.planned) - 2 * self.a.parallel)
        at = sorted(self.rng.randrange(0, hi) for _ in plan)
        return [{"kind": k, "after_runs": n, "delay_s": round(self.rng.uniform(0, self.a.max_delay), 2)}
                for k, n in zip(plan, at)]

    def record(self, f, **kw):
        f.update(kw)
        f["t_s"] = round(time.monotonic() - self.t0, 1)
        f["finished_before"] = self.finished_count()
        self.faults.append(f)
        if self.a.verbose:
            print("chaos: fault", json.dumps(f), flush=True)

    def pick_qemu(self, limit_s=30):
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            q = self.our_qemus()
            if q:
                return self.rng.choice(sorted(q))
            if self.wait_harness(0.2) is not None:
                return None
        return None

    def fault(self, f):
        kind = f["kind"]
        if kind in ("qemu-kill", "qemu-stop"):
            pid = self.pick_qemu()
            if pid is None:
                return self.record(f, hit=[], outcome="no QEMU running (skipped)", fired=False)
            run = self.run_of(pid)
            if kind == "qemu-kill":
                os.kill(pid, signal.SIGKILL)
                return self.record(f, hit=[run], qemu_pid=pid, fired=True, outcome="killed")
            hold = round(self.rng.uniform(0.5, self.a.stop_max), 2)
            os.kill(pid, signal.SIGSTOP)
            try:
                self.wait_harness(hold)
            finally:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            return self.record(f, hit=[run], qemu_pid=pid, stopped_s=hold, fired=True, outcome="continued")
        if kind == "harness-kill":
            running = self.running_runs()
            qemus = self.our_qemus()
            self.proc.kill()
            rc = self.reap()
            left = wait_gone(qemus, 10)
            if left:
                self.mismatches.append(f"harness-kill: QEMU {left} outlived the SIGKILLed harness by 10 s")
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
            self.record(f, hit=running, fired=True, rc=rc, qemus_at_kill=len(qemus), qemus_left=len(left),
                        outcome="restarted")
            self.start()
            return None
        if kind == "disk-full":
            running = self.running_runs()
            fill = os.path.join(self.out, ".chaos-fill")
            size = 0
            with open(fill, "wb", buffering=0) as fh:
                chunk = b"\0" * (1 << 20)
                try:
                    while True:
                        size += fh.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
            hold = round(self.rng.uniform(1, 4), 2)
            rc = self.wait_harness(hold)
            os.remove(fill)
            outcome = "harness went on" if rc is None else f"harness exited {rc}: {' | '.join(self.log_tail(1))}"
            self.record(f, hit=running, fired=True, filled_mib=size >> 20, held_s=hold, rc=rc, outcome=outcome)
            return rc
        if kind == "clock-jump":
            new = self.offset_h
            while new == self.offset_h:
                new = self.rng.randint(-72, 168)
            with open(self.spec + ".new", "w") as fh:
                fh.write(f"{new * 3600:+d}\n")
            os.replace(self.spec + ".new", self.spec)
            self.record(f, hit=self.running_runs(), fired=True, offset_h=new, jump_h=new - self.offset_h,
                        outcome="wall clock moved")
            self.offset_h = new
            return None
        if kind == "libvirtd-restart":
            running = self.running_runs()
            qemus = self.our_qemus()
            old = self.libvirtd.pid
            self.libvirtd.kill()
            self.libvirtd.wait()
            down = round(self.rng.uniform(0.5, 3), 2)
            rc = self.wait_harness(down)
            t = time.monotonic()
            up = self.libvirtd_up()
            if not up:
                self.mismatches.append(f"libvirtd-restart: the private libvirtd did not come back: "
                                       f"{self.lv_dir}/libvirtd-{self.libvirtd_starts}.err")
            self.record(f, hit=running, fired=True, libvirtd_pid=old, down_s=down,
                        answered_after_s=round(time.monotonic() - t, 1), qemus_at_kill=len(qemus), rc=rc,
                        outcome="libvirtd restarted" if up else "libvirtd did not come back")
            return rc
        raise ValueError(kind)

    # ---- growth -----------------------------------------------------------
    def sample(self, finished):
        fig = proc_figures(self.proc.pid) if self.proc and self.proc.returncode is None else {}
        dbb = sum(os.path.getsize(os.path.join(self.out, f)) for f in os.listdir(self.out)
                  if f.startswith("numasoak.db"))
        s = {"finished": finished, "t_s": round(time.monotonic() - self.t0, 1), "pid": self.proc.pid,
             "runs_in_process": finished - self.proc_started_finished,
             "rss_kib": fig.get("VmRSS"), "hwm_kib": fig.get("VmHWM"), "fds": fig.get("fds"),
             "threads": fig.get("threads"), "harness_cpu_s": round(self.done_cpu_s + fig.get("cpu_s", 0), 2),
             "db_bytes": dbb, "out_bytes": tree_bytes(self.out)}
        self.samples.append(s)
        if self.a.verbose:
            print("chaos: sample", json.dumps(s), flush=True)

    # ---- the campaign ---------------------------------------------------
    def run(self):
        plan = self.schedule()
        self.start()
        next_sample = self.a.sample_every
        pending = list(plan)
        due_at = None
        restarts_left = self.a.faults + 10
        while True:
            rc = self.harness_exited()
            if rc is not None:
                finished = self.finished_count()
                self.exits.append({"rc": rc, "finished": finished, "tail": self.log_tail(2)})
                if finished >= len(self.planned) or rc in (0, 1):
                    if finished < len(self.planned):
                        self.mismatches.append(f"numasoak exited {rc} with {finished}/{len(self.planned)} "
                                               f"runs finished: {self.log_tail(2)}")
                    break
                if self.a.one_process:
                    self.mismatches.append(f"--one-process: numasoak exited {rc} with {finished}/"
                                           f"{len(self.planned)} runs finished: {self.log_tail(2)}")
                    break
                tail = " ".join(self.log_tail(3))
                if not (rc == 3 and ("No space left" in tail or "disk is full" in tail)):
                    self.notes.append(f"numasoak exited {rc} with no fault to explain it: {self.log_tail(2)}")
                restarts_left -= 1
                if restarts_left < 0:
                    self.mismatches.append("too many restarts")
                    break
                self.start()
                continue
            finished = self.finished_count()
            while finished >= next_sample:
                self.sample(next_sample)
                next_sample += self.a.sample_every
            if pending and finished >= pending[0]["after_runs"]:
                if due_at is None:
                    due_at = time.monotonic() + pending[0]["delay_s"]
                if time.monotonic() >= due_at:
                    self.fault(pending.pop(0))
                    due_at = None
                    continue
            if self.a.stop_after and time.monotonic() - self.t0 > self.a.stop_after:
                # The end figures of the one process, then a clean stop (Ctrl-C):
                # runs going end interrupted, the rest stay queued.
                self.sample(finished)
                self.samples[-1]["at_stop"] = True
                self.stopped_early = True
                self.proc.send_signal(signal.SIGINT)
                if self.wait_harness(120) is None:
                    self.mismatches.append("--stop-after: numasoak did not stop within 120 s of SIGINT")
                    self.proc.kill()
                    self.reap()
                self.exits.append({"rc": self.proc.returncode, "finished": self.finished_count(),
                                   "tail": self.log_tail(2), "stopped_by": "SIGINT (--stop-after)"})
                wait_gone(self.our_qemus(), 10)
                break
            if time.monotonic() - self.t0 > self.a.limit:
                self.mismatches.append(f"campaign not finished within --limit {self.a.limit} s "
                                       f"({finished}/{len(self.planned)} runs)")
                qemus = self.our_qemus()
                self.proc.kill()
                self.reap()
                wait_gone(qemus, 10)
                break
            self.wait_harness(0.25)
        for f in pending:
            self.faults.append(dict(f, fired=False, outcome="campaign ended first"))
        with open(self.spec, "w") as fh:
            fh.write("+0\n")

    # ---- the ledger -------------------------------------------------------
    def ledger(self):
        m = self.mismatches
        c = self.db()
        c.row_factory = sqlite3.Row
        rows = {r["id"]: r for r in c.execute("SELECT * FROM runs")}
        n_intr = dict(c.execute("SELECT run_id, count(*) FROM interruptions GROUP BY run_id").fetchall())
        nfail = c.execute("SELECT count(*) FROM failures").fetchone()[0]
        c.close()
        missing, extra = self.planned - rows.keys(), rows.keys() - self.planned
        if missing:
            m.append(f"{len(missing)} planned runs missing from the database: {sorted(missing)[:5]}")
        if extra:
            m.append(f"{len(extra)} runs in the database nobody planned: {sorted(extra)[:5]}")
        causes, verdicts = {}, {}
        unrun = 0
        dur = float(self.a.duration.rstrip("s"))
        for rid, r in rows.items():
            verdicts[r["verdict"] or r["state"]] = verdicts.get(r["verdict"] or r["state"], 0) + 1
            if r["state"] != "finished" and self.stopped_early and r["state"] in ("queued", "interrupted"):
                unrun += 1  # never started, or stopped by the SIGINT of --stop-after
                if r["attempts"] != r["interruptions"]:
                    m.append(f"{rid}: {r['state']} with attempts {r['attempts']} != interruptions "
                             f"{r['interruptions']}")
                continue
            if r["state"] != "finished":
                m.append(f"{rid}: state {r['state']}, not finished")
                continue
            if r["verdict"] == "failed":
                m.append(f"{rid}: failed ({r['kind']}: {r['title']}) but the quiet guest cannot fail")
            if r["verdict"] == "error":
                if not r["kind"]:
                    m.append(f"{rid}: error without a cause")
                causes[r["kind"]] = causes.get(r["kind"], 0) + 1
            if r["attempts"] != r["interruptions"] + 1:
                m.append(f"{rid}: attempts {r['attempts']} != interruptions {r['interruptions']} + 1")
            if n_intr.get(rid, 0) > r["interruptions"]:
                m.append(f"{rid}: {n_intr[rid]} interruption rows but interruptions = {r['interruptions']}")
            if r["verdict"] == "survived" and not (dur - 0.5 <= (r["exposure_s"] or 0) <= dur + self.a.stop_max + 30):
                m.append(f"{rid}: survived with exposure {r['exposure_s']} s for a {dur} s run")
            if r["boot_s"] is not None and not 0 <= r["boot_s"] < 300:
                m.append(f"{rid}: boot_s {r['boot_s']}")
        if nfail:
            m.append(f"{nfail} failure groups recorded for a quiet guest")
        # Every faulted run is accounted for.
        for f in self.faults:
            if not f.get("fired"):
                continue
            for rid in f.get("hit", []):
                r = rows.get(rid)
                if r is None:
                    m.append(f"{f['kind']} hit {rid}, not in the database")
                elif (f["kind"] == "qemu-kill" and r["interruptions"] < 1 and r["verdict"] == "survived"
                      and (r["exposure_s"] or 0) >= dur - 0.05):
                    # The kill landed after the run's workload had reached its
                    # duration (the guest was being stopped): survived is right.
                    self.notes.append(f"qemu-kill at {f['t_s']} s hit {rid} after its {dur:g} s of workload: "
                                      f"survived, as it should")
                elif f["kind"] in ("qemu-kill", "harness-kill") and r["interruptions"] < 1 and not (
                        r["verdict"] == "error" and r["kind"] == "lost"):
                    if (f["kind"] == "qemu-kill" and r["kind"] == "boot-failure"
                            and "boot-failure-on-qemu-kill" in self.a.known_bug):
                        self.known.append(f"qemu-kill at {f['t_s']} s hit {rid} during boot: error boot-failure "
                                          f"'{r['title'][:90]}', never re-run (promise 1 says re-queued)")
                        continue
                    m.append(f"{f['kind']} at {f['t_s']} s hit {rid}: counted as {r['verdict']} "
                             f"(attempts {r['attempts']}, interruptions 0), never re-run")
        # Nothing of this campaign left running.
        left = pids_with(self.tag) + [p for p in pids_with(self.cfile) if p != os.getpid()]
        if left:
            m.append(f"processes of this campaign left: {[(p, read_cmdline(p)[:80]) for p in left]}")
        if self.a.backend == "libvirt":
            doms = self.libvirt_domains()
            if doms is None:
                m.append(f"virsh -c {self.lv_uri} list --all failed at the end")
            elif doms:
                m.append(f"libvirt domains of this campaign left: {doms}")
        # The report from the database alone agrees with it, and with the campaign's summary.json.
        alone = os.path.join(self.work, "db-alone")
        os.makedirs(alone, exist_ok=True)
        src = self.db()
        dst = sqlite3.connect(os.path.join(alone, "numasoak.db"))
        src.backup(dst)
        dst.close()
        src.close()
        t = time.monotonic()
        r = subprocess.run([self.a.numasoak, "report", "--json", alone], capture_output=True, text=True)
        report_s = time.monotonic() - t
        mine = {}
        for rid, row in rows.items():
            k = mine.setdefault(row["kernel"], {"planned": 0, "finished": 0, "failed": 0, "survived": 0,
                                                "errors": 0, "interrupted": 0, "exposure_s": 0.0})
            k["planned"] += 1
            if row["state"] == "finished":
                k["finished"] += 1
                k[{"failed": "failed", "survived": "survived", "error": "errors"}[row["verdict"]]] += 1
                if row["verdict"] != "error":
                    k["exposure_s"] += row["exposure_s"] or 0
            elif row["state"] == "interrupted":
                k["interrupted"] += 1
        for k in mine.values():
            k["exposure_s"] = round(k["exposure_s"], 2)
        mine_runs = {rid: (r["state"], r["attempts"], r["interruptions"], r["verdict"], r["kind"])
                     for rid, r in rows.items()}
        try:
            regen = json.loads(r.stdout)
            with open(os.path.join(self.out, "summary.json")) as fh:
                final = json.load(fh)
            got = self.counts_of(regen)
            if not self.same_counts(got, mine):
                m.append(f"report from the database alone says {got}, the database {mine}")
            if self.counts_of(final) != got:
                m.append(f"campaign summary.json says {self.counts_of(final)}, the regenerated report {got}")
            got_runs = self.runs_of(regen)
            if got_runs != mine_runs:
                diff = sorted(set(got_runs.items()) ^ set(mine_runs.items()))[:6]
                m.append(f"report from the database alone lists {len(got_runs)} runs, the database "
                         f"{len(mine_runs)}; differing: {diff}")
            if len(regen["runs"]) != len(got_runs):
                m.append(f"report lists {len(regen['runs'])} run rows for {len(got_runs)} distinct runs")
        except (ValueError, OSError, KeyError, TypeError) as e:
            m.append(f"numasoak report --json on the database alone: rc {r.returncode}: {e}: {r.stderr[-300:]}")
        return {"runs_in_db": len(rows), "planned": len(self.planned), "unrun": unrun, "verdicts": verdicts, "error_causes": causes,
                "interruptions": sum(r["interruptions"] for r in rows.values()),
                "attempts": sum(r["attempts"] for r in rows.values()), "report_alone_s": round(report_s, 3),
                "per_kernel": mine}

    @staticmethod
    def same_counts(a, b):
        """Equal per-kernel counts; exposure sums may differ in their last rounding."""
        if a.keys() != b.keys():
            return False
        for k in a:
            x, y = dict(a[k]), dict(b[k])
            if abs(x.pop("exposure_s") - y.pop("exposure_s")) > 0.05 or x != y:
                return False
        return True

    @staticmethod
    def counts_of(summary):
        keys = ("planned", "finished", "failed", "survived", "errors", "interrupted")
        return {k["name"]: dict({x: k[x] for x in keys}, exposure_s=round(k["exposure_s"], 2))
                for k in summary["kernels"]}

    @staticmethod
    def runs_of(summary):
        out = {}
        for r in summary["runs"]:
            res = r.get("result") or {}
            out[r["run_id"]] = (r["state"], r["attempts"], r["interruptions"], res.get("verdict"),
                                res.get("kind", ""))
        return out


def growth_table(samples, every):
    lines = ["  runs  t(s)  runs/proc  RSS MiB  HWM MiB  fds  threads  DB KiB/run  out KiB/run  harness CPU s/run"]
    prev = None
    for s in samples:
        if prev is None:
            dr, dcpu = s["finished"], s["harness_cpu_s"]
        else:
            dr, dcpu = s["finished"] - prev["finished"], s["harness_cpu_s"] - prev["harness_cpu_s"]
        f = lambda v, d=1: "-" if v is None else f"{v / 1024:.{d}f}"
        lines.append(f"{s['finished']:6d} {s['t_s']:5.0f} {s['runs_in_process']:10d} {f(s['rss_kib']):>8} "
                     f"{f(s['hwm_kib']):>8} {s['fds'] if s['fds'] is not None else '-':>4} "
                     f"{s['threads'] if s['threads'] is not None else '-':>8} "
                     f"{s['db_bytes'] / 1024 / s['finished']:11.1f} {s['out_bytes'] / 1024 / s['finished']:12.1f} "
                     f"{dcpu / max(1, dr):18.3f}")
        prev = s
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--numasoak", default=os.path.join(os.path.dirname(__file__), "../../build/harness/cli/numasoak"))
    p.add_argument("--wallclock-lib", help="the clock-jump fault's preload library (default: the one built "
                                           "beside --numasoak, tests/integration/chaos/libnumasoak_wallclock_shift.so)")
    p.add_argument("--runs", type=int, default=100, help="planned runs (half per kernel)")
    p.add_argument("--faults", type=int, default=20, help="faults to inject, the kinds in equal shares")
    p.add_argument("--kinds", help=f"comma-separated, default all: {', '.join(KINDS)} "
                                   f"(+ {', '.join(LIBVIRT_KINDS)} with --backend libvirt)")
    p.add_argument("--backend", choices=("qemu", "libvirt"), default="qemu",
                   help="libvirt: guests through a private libvirtd this driver starts (root, no system "
                        "libvirtd running)")
    p.add_argument("--seed", type=int, default=20)
    p.add_argument("--duration", default="1s", help="workload time per run")
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--oversubscribe", default="2.5")
    p.add_argument("--tmpfs", default="256M", help="size of the output folder's tmpfs")
    p.add_argument("--stop-max", type=float, default=4.0, help="longest SIGSTOP of a QEMU, s")
    p.add_argument("--max-delay", type=float, default=3.0, help="longest delay of a fault past its run count, s")
    p.add_argument("--sample-every", type=int, default=20)
    p.add_argument("--one-process", action="store_true",
                   help="leave out the faults that restart numasoak (harness-kill, disk-full): one numasoak "
                        "process runs every run, for its growth figures")
    p.add_argument("--stop-after", type=float, default=0,
                   help="stop numasoak (SIGINT, a clean stop) after this many seconds, sampling it first; "
                        "runs not started then are left out of the ledger")
    p.add_argument("--limit", type=float, default=3600, help="give up after this many seconds")
    p.add_argument("--workdir", help="default /tmp/numasoak-chaos-SEED-PID (removed unless --keep)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (db copy, logs, chaos.json)")
    p.add_argument("--json", help="write the whole record (faults, ledger, samples) here")
    p.add_argument("--known-bug", action="append", default=[],
                   help="a known harness bug whose mismatches are printed but do not fail: "
                        "boot-failure-on-qemu-kill (a QEMU SIGKILLed before its workload started "
                        "ends the run as error boot-failure, never re-queued)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args()
    a.numasoak = os.path.abspath(a.numasoak)
    if a.wallclock_lib is None:
        # build/harness/cli/numasoak -> build/tests/integration/chaos/
        a.wallclock_lib = os.path.join(os.path.dirname(a.numasoak), "../../tests/integration/chaos/libnumasoak_wallclock_shift.so")
    a.wallclock_lib = os.path.abspath(a.wallclock_lib)
    known = KINDS + (LIBVIRT_KINDS if a.backend == "libvirt" else [])
    if a.kinds is None:
        a.kinds = ",".join(known)
    if a.one_process:
        a.kinds = ",".join(k for k in a.kinds.split(",") if k not in RESTARTING)
    for k in a.kinds.split(","):
        if k not in known:
            p.error(f"unknown fault kind {k!r} (kinds: {', '.join(known)})")
    ch = Chaos(a)
    # SIGTERM (timeout(1), a CI runner) unwinds through the finally below:
    # harness stopped, QEMUs gone, tmpfs unmounted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("chaos: terminated"))
    ch.setup()
    t0 = time.monotonic()
    try:
        ch.run()
        wall = time.monotonic() - t0
        ledger = ch.ledger()
        if ch.samples == [] or ch.samples[-1]["finished"] != ledger["runs_in_db"] - ledger["unrun"]:
            ch.sample(ch.finished_count())
    finally:
        ch.cleanup()
    fired = [f for f in ch.faults if f.get("fired")]
    by_kind = {k: sum(1 for f in fired if f["kind"] == k) for k in ch.kinds()}
    cpu = ch.samples[-1]["harness_cpu_s"] if ch.samples else 0
    record = {"seed": a.seed, "campaign": ch.name, "runs": len(ch.planned), "wall_s": round(wall, 1),
              "harness_starts": ch.starts, "exits": ch.exits, "faults": ch.faults, "faults_fired": by_kind,
              "ledger": ledger, "mismatches": ch.mismatches, "known_bug": ch.known, "notes": ch.notes, "samples": ch.samples,
              "per_run": {"wall_s": round(wall / max(1, ledger["runs_in_db"] - ledger["unrun"]), 2),
                          "harness_cpu_s": round(cpu / max(1, ledger["runs_in_db"] - ledger["unrun"]), 3)},
              "machine": {"cores": os.cpu_count(), "load_end": os.getloadavg()}}
    print(f"chaos {ch.name}: {len(ch.planned)} runs in {wall:.0f} s ({record['per_run']['wall_s']} s/run), "
          f"{ch.starts} harness starts, faults fired {by_kind} ({len(fired)}/{len(ch.faults)})")
    print("fault log:")
    for f in ch.faults:
        extra = {k: v for k, v in f.items() if k not in ("kind", "t_s", "hit", "outcome", "fired", "after_runs",
                                                          "delay_s", "finished_before")}
        print(f"  {f.get('t_s', '-'):>7} s  {f['kind']:<12} hit {','.join(f.get('hit', [])) or '-':<28} "
              f"{f['outcome']} {json.dumps(extra) if extra else ''}")
    if ch.stopped_early:
        print(f"stopped after {a.stop_after:.0f} s (--stop-after): {ledger['runs_in_db'] - ledger['unrun']} runs "
              f"finished, {ledger['unrun']} never started or stopped by the SIGINT (left out of the ledger)")
    print(f"ledger: {ledger['runs_in_db']}/{ledger['planned']} runs in the database, verdicts {ledger['verdicts']}, "
          f"error causes {ledger['error_causes']}, {ledger['interruptions']} interruptions re-run, "
          f"report from the database alone in {ledger['report_alone_s']} s")
    for n in ch.notes:
        print("note:", n)
    for n in ch.known:
        print("KNOWN HARNESS BUG (--known-bug, not failing):", n)
    print("growth (every", a.sample_every, "runs):")
    print(growth_table(ch.samples, a.sample_every))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(record, fh, indent=1)
    if ch.mismatches:
        print(f"LEDGER MISMATCH ({len(ch.mismatches)}):")
        for x in ch.mismatches:
            print("  " + x)
    else:
        print("ledger exact: every planned run once, finished; 0 lost, 0 double, 0 processes left")
    if not a.keep:
        shutil.rmtree(ch.work, ignore_errors=True)
    else:
        with open(os.path.join(ch.work, "chaos.json"), "w") as fh:
            json.dump(record, fh, indent=1)
    return 1 if ch.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
