#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cost of the start schedule and of tempo-locked voices per 128-frame block.

Renders on the offline device (the same core the audio thread runs, on the
calling thread) in 128-frame blocks at 48 kHz stereo and times each
render() with the thread's CPU clock. 32 pads hold 10 s of stereo noise;
by default each has a tempo of 90 BPM under a master of 128 BPM with the
tempo lock on, so all 32 voices play phase-locked at 128/90 through the
interpolator (--unlocked: no tempo, every voice at rate 1). Cases:

  none      the 32 voices, nothing pending
  idle      the same with 256 pending at_frame starts, none due yet
  split1    256 pending, kept full: one start falls due in every block, in
            its middle (the core splits the block there and steals a voice)
  split32   256 pending, kept full: 32 starts fall due in every block, each
            at its own frame (32 splits and 32 steals per block)

Prints, per case, the mean and p99 CPU time per block and the audio-thread
load they stand for at 128x2 (time / 2.667 ms, one period of 128 frames).
Python's share of a render() call (building the array) is included, so the
figures are upper bounds for the core itself. Not part of CI.

    python3 bench/schedule.py [--blocks 3000] [--repeat 3]
"""

import argparse
import time

import numpy as np

import flitzis_looper_rs as fl

RATE_HZ = 48000
BLOCK = 128
PADS = 32
PENDING = 256


def make_engine(locked):
    eng = fl.AudioEngine(device="offline", sample_rate=RATE_HZ, channels=2)
    eng.run()
    rng = np.random.default_rng(7)
    for pad in range(PADS):
        noise = (rng.standard_normal((10 * RATE_HZ, 2)) * 0.05).astype(np.float32)
        eng.load_sample_array(pad, noise, RATE_HZ)
        if locked:
            eng.set_pad_bpm(pad, 90.0)
    if locked:
        eng.set_master_bpm(128.0)
        eng.set_bpm_lock(True)
    for pad in range(PADS):
        eng.play_sample(pad, 0.5)
    eng.render(BLOCK)
    drain_started(eng)
    return eng


def drain_started(eng):
    """Read every waiting message; return how many were Started."""
    n = 0
    while True:
        msg = eng.receive_msg()
        if msg is None:
            return n
        if isinstance(msg, fl.AudioMessage.Started):
            n += 1


def run_case(case, blocks, locked):
    eng = make_engine(locked)
    frame = eng.frame
    started = 0
    if case == "idle":
        for i in range(PENDING):
            eng.play_sample(i % PADS, 0.5, at_frame=frame + 10**9 + i)
    elif case == "split1":
        for i in range(PENDING):
            eng.play_sample(i % PADS, 0.5, at_frame=frame + (i + 1) * BLOCK + BLOCK // 2)
    elif case == "split32":
        per = PENDING // 8
        for i in range(PENDING):
            b, j = divmod(i, per)
            eng.play_sample(i % PADS, 0.5, at_frame=frame + (b + 1) * BLOCK + 1 + j * 3)
    times = []
    slot = 0
    for k in range(blocks):
        t0 = time.thread_time_ns()
        eng.render(BLOCK)
        t1 = time.thread_time_ns()
        times.append(t1 - t0)
        due = drain_started(eng)
        base = eng.frame
        # Keep the schedule full: as many new starts as fell due (each
        # Started message is one), behind the ones still pending.
        for j in range(due if case in ("split1", "split32") else 0):
            if case == "split1":
                at = base + (PENDING - 1) * BLOCK + BLOCK // 2
            else:
                at = base + 7 * BLOCK + 1 + j * 3
            eng.play_sample(slot % PADS, 0.5, at_frame=at)
            slot += 1
        started += due
    eng.shut_down()
    return np.array(times, dtype=np.float64), started


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--blocks", type=int, default=3000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--unlocked", action="store_true", help="no tempo lock: every voice at rate 1")
    a = p.parse_args()
    period_ns = BLOCK / RATE_HZ * 1e9
    print(f"{'case':8} {'mean us':>8} {'p99 us':>8} {'load mean':>10} {'load p99':>9}  starts")
    for case in ("none", "idle", "split1", "split32"):
        best = None
        for _ in range(a.repeat):
            t, started = run_case(case, a.blocks, not a.unlocked)
            # Skip the first blocks (caches, page faults of the fresh engine).
            t = t[50:]
            row = (t.mean(), np.percentile(t, 99), started)
            if best is None or row[0] < best[0]:
                best = row
        mean, p99, started = best
        print(f"{case:8} {mean / 1e3:8.1f} {p99 / 1e3:8.1f} {100 * mean / period_ns:9.2f}% "
              f"{100 * p99 / period_ns:8.2f}%  {started}")


if __name__ == "__main__":
    main()
