#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How long AudioEngine.shut_down() takes, at a short and at a long period.

Starts a rig (private JACK dummy server, see tests/rig/rig.py), then
for each ALSA period given, --cycles times: run(), play a loop for a moment,
and time shut_down() with time.perf_counter() (the audio thread's join, the
device's close and the frees). With a 128-frame period the audio thread
waits at most 2.7 ms for the device; with 4096 frames (85 ms) it waits up to
the engine's 50 ms poll timeout, unless shut_down() wakes it.

(A stopped JACK server would be the longest wait, but closing a jack PCM
talks to its server, so shut_down() cannot return before it runs again.)

Prints one JSON object with median and maximum per period, in milliseconds:

    python3 bench/shutdown.py [--cycles 20] [--periods 128 4096]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import flitzis_looper_rs as fl

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import rig as _rig  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _benchlib import make_loop  # noqa: E402


def one(eng, loop, cycle):
    eng.run()
    eng.load_sample(0, loop)
    eng.play_sample(0, 0.5)
    # Varied, so that shut_down() lands at different points of a period.
    time.sleep(0.2 + 0.0137 * cycle)
    t0 = time.perf_counter()
    eng.shut_down()
    return (time.perf_counter() - t0) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--periods", type=int, nargs="+", default=[128, 4096],
                   help="ALSA periods of the engine (frames, 2 periods each)")
    args = p.parse_args()

    rig = _rig.Rig(period_frames=64).start()
    tmp = tempfile.mkdtemp(prefix="flz-shutdown-")
    result = {"cycles": args.cycles}
    try:
        loop = os.path.join(tmp, "loop.wav")
        make_loop(loop, 48000, 7, 0.1, 440.0)
        for period in args.periods:
            eng = fl.AudioEngine(period_frames=period, periods=2)
            times = [one(eng, loop, i) for i in range(args.cycles)]
            result["period_%d" % period] = {"median_ms": round(statistics.median(times), 3),
                                            "max_ms": round(max(times), 3)}
    finally:
        rig.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
