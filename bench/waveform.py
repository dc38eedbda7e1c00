#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cost of waveform() at width 1000 for a short and a long span.

Loads an 11-minute stereo 48 kHz sample (int16 noise under a slow sweep of
level, through load_sample_array, so the summary is built as for a file)
into an offline engine (waveform() reads the summary on the calling thread;
the device plays no part) and times waveform(pad, 1000, start_s, end_s) with
timeit on the thread's CPU clock (other processes' load does not count):
--number calls per batch, --repeat batches, the best batch counts,
the spans in turn within each repeat so that drift in machine load hits all.
Spans: 1 s, 10 s, 60 s (from 300.0123 s), 10 minutes (from 30.0123 s) and
the whole sample (end_s None), and 1 s and 10 minutes starting on a block
edge. Target: the 10-minute span within 1.2x of the 1 s span.

Prints one JSON object. Not part of CI.

    python3 bench/waveform.py [--width 1000] [--number 200] [--repeat 30]
"""

import argparse
import json
import sys
import time
import timeit

import numpy as np

import flitzis_looper_rs as fl

RATE_HZ = 48000
MINUTES = 11
# Starts 0.0123 s past a second: the columns' edges fall inside the
# summary's 64-frame blocks, so every column reads frames at both ends (the
# case that costs most). The "aligned" pair starts on a block edge and its
# columns are whole blocks (1 s: 48 frames a column, 10 min: 450 blocks).
SPANS = [("1 s", 300.0123, 301.0123), ("10 s", 300.0123, 310.0123),
         ("60 s", 300.0123, 360.0123), ("10 min", 30.0123, 630.0123),
         ("whole (11 min)", 0.0, None),
         ("1 s aligned", 300.0, 301.0), ("10 min aligned", 0.0, 600.0)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--number", type=int, default=200)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()

    eng = fl.AudioEngine(device="offline", sample_rate=RATE_HZ, channels=2)
    eng.run()
    try:
        n = MINUTES * 60 * RATE_HZ
        rng = np.random.default_rng(15)
        level = 0.2 + 0.7 * np.abs(np.sin(np.linspace(0.0, 40.0, n, dtype=np.float32)))
        pcm = np.empty((n, 2), dtype=np.int16)
        for c in range(2):
            pcm[:, c] = (rng.standard_normal(n, dtype=np.float32) * 0.3 * level * 32767
                         ).clip(-32767, 32767).astype(np.int16)
        del level
        eng.load_sample_array(0, pcm, RATE_HZ)
        del pcm
        info = eng.sample_info(0)
        env = {"eng": eng}
        best = {name: float("inf") for name, _, _ in SPANS}
        for _ in range(args.repeat):
            for name, start, end in SPANS:
                stmt = "eng.waveform(0, %d, %r, %r)" % (args.width, start, end)
                t = timeit.Timer(stmt, timer=time.thread_time, globals=env).timeit(
                    args.number) / args.number
                best[name] = min(best[name], t)
        # A sanity check that the calls did the work: the shape, and a long
        # span's extremes at least as wide as a short one's inside it.
        short = eng.waveform(0, args.width, 300.0, 301.0)
        whole = eng.waveform(0, args.width)
        assert short.shape == (args.width, 2) and short.dtype == np.float32
        assert whole[:, 0].min() <= short[:, 0].min() and whole[:, 1].max() >= short[:, 1].max()
    finally:
        eng.shut_down()
    ref = best["1 s"]
    print(json.dumps({
        "width": args.width, "number": args.number, "repeat": args.repeat,
        "sample_s": info.duration_s, "sample_frames": info.n_frames,
        "best_s": best, "ratio_to_1s": {k: v / ref for k, v in best.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
