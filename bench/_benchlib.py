# SPDX-License-Identifier: MIT
"""Helpers shared by the benchmark scripts: test sounds, loading the other
core, finding the engine's threads, and describing the machine."""

import array
import math
import os
import platform
import re
import subprocess
import sys
import time
import wave

BUSY_LOOP = "while True:\n    pass\n"


def write_wav(path, rate_hz, frames_lr):
    """Write stereo float frames [(left, right), ...] as a 16-bit WAV (x 32767, truncated)."""
    pcm = array.array("h")
    for left, right in frames_lr:
        pcm.append(int(left * 32767))
        pcm.append(int(right * 32767))
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())


def make_loop(path, rate_hz, seed, amp, tone_hz):
    """One second of a quiet loop, the same on both channels: noise (a linear
    congruential sequence from seed) plus a tone_hz sine, each at amp."""
    x = seed
    frames = []
    for i in range(rate_hz):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        v = amp * (x / 1073741824.0 - 1.0) + amp * math.sin(2 * math.pi * tone_hz * i / rate_hz)
        frames.append((v, v))
    write_wav(path, rate_hz, frames)


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


def server_xrun_lines(rig):
    """Lines of the rig's jackd log that report an xrun (on virtual machines
    the dummy driver's timer is sometimes late; see RIG.md); 0 without a log."""
    try:
        with open(os.path.join(rig.tmpdir, "jackd.log"), errors="replace") as f:
            return sum(1 for line in f if "xrun" in line.lower())
    except OSError:
        return 0


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
