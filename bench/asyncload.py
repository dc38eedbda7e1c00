#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Async loading while the set plays: xruns, parallelism and peak memory.

Starts a rig (private JACK dummy server -p 64, see tests/rig/rig.py) and an
engine on it at ALSA 64x2 with --workers loader threads, and plays 32
looping voices (1 s loops on pads 0..31, at --speed). Then, --rounds times
in alternation:

  async   32 load_sample_async() calls at once, one file each into pads
          32..63; the wall time runs from the first call to the last
          LoadDone read from receive_msg() (polled every 1 ms)
  serial  the same 32 files loaded one after another with the blocking
          load_sample(), into the same pads

Between phases the 32 pads are unloaded and the retired samples given time
to be freed. The files: 32 different 30 s stereo 48 kHz recordings (sox:
pink noise and two tones, 16-bit), --format flac (default) or wav, made in a
temporary directory.

Figures: the engine's xruns (stats()) in each phase; the parallel ratio,
best async time / (best serial time / workers), target <= 1.25 (and each
round's own ratio, with the CPU this process and the rest of the machine
used in each phase, from /proc: on a shared machine the other core is not
always free); and the
peak memory of the process during each async phase: growth of VmHWM over
VmRSS just before it (the high-water mark is reset before each phase
through /proc/self/clear_refs, and malloc_trim() returns the memory the C
library kept from the phase before), over the bytes of the 32 samples
loaded (sample_info: frames x channels x 4), target <= 2; the first async
phase, in the fresh process, is the cleanest figure. A 1 ms sampler of
VmRSS runs too, as a check of the kernel's figure.

Prints one JSON object. Not part of CI.

    python3 bench/asyncload.py [--rounds 3] [--format flac|wav] [--workers 2]
"""

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import flitzis_looper_rs as fl

import _benchlib

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import rig as _rig  # noqa: E402

_LIBC = ctypes.CDLL(None)

N_FILES = 32
FIRST_PAD = 32
SECONDS = 30


def make_files(tmp, fmt):
    paths = []
    for k in range(N_FILES):
        path = os.path.join(tmp, "song%02d.%s" % (k, fmt))
        # Different on every file: sox's noise is seeded per run, and the
        # tones move with k.
        subprocess.run(["sox", "-q", "-n", "-r", "48000", "-c", "2", "-b", "16", path,
                        "synth", str(SECONDS), "pinknoise",
                        "synth", str(SECONDS), "sine", "mix", str(200 + 5 * k),
                        "synth", str(SECONDS), "sine", "mix", str(300 + 7 * k),
                        "gain", "-8"], check=True)
        paths.append(path)
    return paths


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s in /proc/self/status" % field)


def reset_hwm():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """VmRSS every period_s until stop(); keeps the highest."""

    def __init__(self, period_s=0.001):
        super().__init__(daemon=True)
        self.period_s = period_s
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak_kb = max(self.peak_kb, status_kb("VmRSS"))
            time.sleep(self.period_s)

    def stop(self):
        self._done.set()
        self.join()


def cpu_ticks():
    """(all CPUs' busy ticks, this process's ticks) from /proc/stat and /proc/self/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return busy, int(fields[11]) + int(fields[12])


def drain(eng):
    while eng.receive_msg() is not None:
        pass


def unload_all(eng):
    for k in range(N_FILES):
        if eng.sample_info(FIRST_PAD + k) is not None:
            eng.unload_sample(FIRST_PAD + k)
    # The housekeeping thread frees retired samples once the audio thread
    # has let go of them; then the C library is asked to hand what it keeps
    # free back to the system, so that the next phase's baseline holds only
    # memory in use (glibc keeps freed blocks of the loader threads' arenas).
    time.sleep(0.5)
    drain(eng)
    _LIBC.malloc_trim(0)


def run_async(eng, paths):
    done = {}
    t0 = time.perf_counter()
    reqs = {eng.load_sample_async(FIRST_PAD + k, p): k for k, p in enumerate(paths)}
    while len(done) < len(reqs):
        msg = eng.receive_msg()
        if msg is None:
            time.sleep(0.001)
            continue
        if isinstance(msg, fl.AudioMessage.LoadDone) and msg.request in reqs:
            done[msg.request] = time.perf_counter() - t0
        elif isinstance(msg, fl.AudioMessage.LoadFailed) and msg.request in reqs:
            raise SystemExit("load %d failed: %r" % (reqs[msg.request], msg.error))
    return max(done.values())


def run_serial(eng, paths):
    t0 = time.perf_counter()
    for k, p in enumerate(paths):
        eng.load_sample(FIRST_PAD + k, p)
    t = time.perf_counter() - t0
    drain(eng)
    return t


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--format", choices=("flac", "wav"), default="flac")
    p.add_argument("--workers", type=int, default=2, help="AudioEngine(load_workers=...)")
    p.add_argument("--speed", type=float, default=1.37, help="global speed of the 32 voices")
    p.add_argument("--period", type=int, default=64)
    p.add_argument("--periods", type=int, default=2)
    p.add_argument("--jack-period", type=int, default=64)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="flz-asyncload-")
    try:
        paths = make_files(tmp, args.format)
        file_bytes = sum(os.path.getsize(x) for x in paths)
        # Read once so that every phase finds them in the page cache.
        for x in paths:
            with open(x, "rb") as f:
                while f.read(1 << 20):
                    pass
        rig = _rig.Rig(period_frames=args.jack_period).start()
        try:
            result = measure(args, tmp, paths)
            server_xruns = _benchlib.server_xrun_lines(rig)
        finally:
            rig.stop()
    finally:
        shutil.rmtree(tmp)
    result["server_xrun_lines"] = server_xruns
    result["file_bytes"] = file_bytes
    print(json.dumps(result))
    return 0


def measure(args, tmp, paths):
    eng = fl.AudioEngine(period_frames=args.period, periods=args.periods,
                         load_workers=args.workers)
    eng.run()
    try:
        for k in range(N_FILES):
            loop = os.path.join(tmp, "loop%d.wav" % k)
            _benchlib.make_loop(loop, 48000, k + 1, 0.05, 110 + 7 * (k + 1))
            eng.load_sample(k, loop)
        eng.set_speed(args.speed)
        for k in range(N_FILES):
            eng.play_sample(k, 0.5)
        time.sleep(1.0)
        drain(eng)
        st = eng.stats()
        if st["voices_playing"] != N_FILES:
            raise SystemExit("expected %d voices, %d play" % (N_FILES, st["voices_playing"]))
        phases = []
        hwm_reset = True
        for r in range(args.rounds):
            for kind in ("async", "serial"):
                unload_all(eng)
                hwm_reset = reset_hwm() and hwm_reset
                rss0 = status_kb("VmRSS")
                sampler = RssSampler()
                sampler.start()
                x0 = eng.stats()
                c0 = cpu_ticks()
                t = run_async(eng, paths) if kind == "async" else run_serial(eng, paths)
                c1 = cpu_ticks()
                x1 = eng.stats()
                sampler.stop()
                hz = os.sysconf("SC_CLK_TCK")
                ours = (c1[1] - c0[1]) / hz
                others = max(0.0, (c1[0] - c0[0]) / hz - ours)
                hwm = status_kb("VmHWM")
                loaded = 0
                for k in range(N_FILES):
                    info = eng.sample_info(FIRST_PAD + k)
                    loaded += info.n_frames * info.channels * 4
                phases.append({
                    "kind": kind, "round": r, "wall_s": t,
                    # CPU time of this process (every thread) and of the
                    # rest of the machine during the phase, in cores.
                    "cores_ours": ours / t, "cores_others": others / t,
                    "xruns": x1["xruns"] - x0["xruns"],
                    "voices_playing_min": min(x0["voices_playing"], x1["voices_playing"]),
                    "load_max": x1["load"],
                    "rss_before_mb": rss0 / 1024, "hwm_mb": hwm / 1024,
                    "sampled_peak_mb": sampler.peak_kb / 1024,
                    "loaded_mb": loaded / 2**20,
                    "peak_growth_ratio": (hwm - rss0) * 1024 / loaded,
                    "sampled_growth_ratio": (sampler.peak_kb - rss0) * 1024 / loaded,
                })
        st = eng.stats()
    finally:
        eng.shut_down()
    best = {k: min(ph["wall_s"] for ph in phases if ph["kind"] == k) for k in ("async", "serial")}
    asyncs = [ph for ph in phases if ph["kind"] == "async"]
    serials = [ph for ph in phases if ph["kind"] == "serial"]
    # Each round's async phase against the serial phase of the same round.
    per_round = sorted(a["wall_s"] / (s["wall_s"] / args.workers) for a, s in zip(asyncs, serials))
    return {
        "config": "%dx%d @ jack %d" % (args.period, args.periods, args.jack_period),
        "format": args.format, "files": N_FILES, "seconds_each": SECONDS,
        "workers": args.workers, "speed": args.speed, "rounds": args.rounds,
        "rt_priority": st["rt_priority"],
        "hwm_reset": hwm_reset,
        "best_async_s": best["async"], "best_serial_s": best["serial"],
        "parallel_ratio": best["async"] / (best["serial"] / args.workers),
        "parallel_ratio_rounds": per_round,
        "xruns_async": sum(ph["xruns"] for ph in asyncs),
        "xruns_serial": sum(ph["xruns"] for ph in phases if ph["kind"] == "serial"),
        "xruns_total": st["xruns"],
        "peak_growth_ratio_first": asyncs[0]["peak_growth_ratio"],
        "peak_growth_ratio_max": max(ph["peak_growth_ratio"] for ph in asyncs),
        "machine": _benchlib.machine(),
        "phases": phases,
    }


if __name__ == "__main__":
    sys.exit(main())
