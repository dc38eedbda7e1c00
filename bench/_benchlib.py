# SPDX-License-Identifier: MIT
"""Helpers shared by the benchmark scripts: loading the other core, finding
the engine's threads, and describing the machine."""

import os
import platform
import re
import subprocess
import sys
import time

BUSY_LOOP = "while True:\n    pass\n"


def start_busy(n_procs=1, pin_cpu=None):
    """Start n_procs busy-loop processes (normal priority), optionally pinned.

    @return the list of Popen objects; stop them with stop_busy().
    """
    procs = []
    for _ in range(n_procs):
        cmd = [sys.executable, "-c", BUSY_LOOP]
        if pin_cpu is not None:
            cmd = ["taskset", "-c", str(pin_cpu)] + cmd
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
    time.sleep(0.2)  # let it take its core before anything is measured
    return procs


def stop_busy(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def thread_ids(name, pid=None):
    """Thread ids of this process (or pid) whose name is `name`."""
    base = "/proc/%s/task" % (pid or "self")
    found = []
    for tid in os.listdir(base):
        try:
            with open(os.path.join(base, tid, "comm")) as f:
                if f.read().strip() == name:
                    found.append(int(tid))
        except OSError:
            pass
    return found


def thread_cpu_ns(tid, pid=None):
    """CPU time a thread has run, in ns (schedstat; else utime+stime ticks)."""
    base = "/proc/%s/task/%d" % (pid or "self", tid)
    try:
        with open(base + "/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        with open(base + "/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def cpu_busy_fraction(seconds=1.0):
    """Share of all CPUs busy (not idle/iowait) over `seconds`, from /proc/stat."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    total = t1 - t0
    return 0.0 if total <= 0 else 1.0 - (i1 - i0) / total


def machine():
    """CPU model, cores, kernel, compiler, Python: for the report."""
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cc = subprocess.run(["cc", "--version"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        cc = "?"
    kinds = []
    try:
        with open("/proc/cpuinfo") as f:
            if re.search(r"^flags.*\bhypervisor\b", f.read(), re.M):
                kinds.append("virtual machine")
    except OSError:
        pass
    try:
        out = subprocess.run(["systemd-detect-virt", "--container"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        if out and out != "none":
            kinds.append("container: " + out)
    except OSError:
        pass
    virt = ", ".join(kinds)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "compiler": cc,
        "python": platform.python_version(),
        "virtualisation": virt or "none detected",
    }
