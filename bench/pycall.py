#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cost of the Python calls of a running engine, as a ratio to dict.get(k, v).

Starts a rig (private JACK dummy server, see tests/rig/rig.py) and an
engine on it, then times each call with timeit: batches of --number calls,
--repeat batches, the best batch counts (the minimum is the figure least
disturbed by other work on the machine). dict.get(k, v) is timed the same way
in the same run, before and after, and the lower of its two figures is the
reference. Between batches (timeit's setup, not timed) the queue is given
time to drain and pending messages are read, so that no batch meets a full
command queue.

meters() is timed with no pad sounding and with 32 pads sounding (32
looping voices, one per pad; the snapshot then holds 32 PadMeter entries),
and stats() beside it, the call the issue compares it with.

Optionally (--load FILE...) also times AudioEngine.load_sample of each file
(best of --load-reps) in the same engine.

Prints one JSON object. Used by bench/run.sh; runs on its own too:

    python3 bench/pycall.py [--number 500] [--repeat 40] [--load a.wav ...]
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
import timeit
import wave

import flitzis_looper_rs as fl

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import rig as _rig  # noqa: E402


PADS_SOUNDING = 32


def write_tone(path, rate_hz, n_frames):
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        pcm = bytearray()
        for i in range(n_frames):
            v = int(8000 * math.sin(2 * math.pi * 440 * i / rate_hz)) & 0xFFFF
            pcm += bytes((v & 0xFF, v >> 8)) * 2
        w.writeframes(bytes(pcm))


def best_per_call(stmt, setup, number, repeat, env):
    runs = timeit.repeat(stmt, setup=setup, number=number, repeat=repeat, globals=env)
    return min(runs) / number


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--number", type=int, default=500,
                   help="calls per timed batch (below the command queue's 1024)")
    p.add_argument("--repeat", type=int, default=40, help="batches; the best counts")
    p.add_argument("--period", type=int, default=64, help="ALSA period of the engine")
    p.add_argument("--load", nargs="*", default=[], help="files to time load_sample on")
    p.add_argument("--load-reps", type=int, default=5)
    args = p.parse_args()
    number = min(args.number, 900)

    rig = _rig.Rig(period_frames=64).start()
    tmp = tempfile.mkdtemp(prefix="flz-pycall-")
    result = {"number": number, "repeat": args.repeat, "calls": {}, "loads": {}}
    try:
        eng = fl.AudioEngine(period_frames=args.period, periods=2)
        eng.run()
        try:
            tone = os.path.join(tmp, "tone.wav")
            write_tone(tone, 48000, 4800)
            for pad in range(PADS_SOUNDING):
                eng.load_sample(pad, tone)
            d = {1: 2}

            def drain():
                time.sleep(0.03)
                while eng.receive_msg() is not None:
                    pass

            def quiet():
                eng.stop_all()
                drain()

            def pongs_waiting():
                drain()
                for _ in range(number):
                    eng.ping()
                time.sleep(0.03)

            def sounding():
                # 32 voices, one per pad, looping; wait for a snapshot
                # that covers them all (a 30 Hz interval is 33 ms).
                if eng.stats()["voices_playing"] != PADS_SOUNDING:
                    eng.stop_all()
                    drain()
                    for pad in range(PADS_SOUNDING):
                        eng.play_sample(pad, 0.5)
                    time.sleep(0.1)
                drain()
                assert len(eng.meters().pads) == PADS_SOUNDING

            env = {"eng": eng, "d": d, "drain": drain, "quiet": quiet,
                   "pongs_waiting": pongs_waiting, "sounding": sounding}
            cases = [
                ("dict.get", "d.get(1, None)", "pass"),
                ("play_sample", "eng.play_sample(0, 0.5)", "quiet()"),
                ("stop_sample", "eng.stop_sample(0)", "drain()"),
                ("set_volume", "eng.set_volume(0.5)", "pass"),
                ("set_speed", "eng.set_speed(1.0)", "pass"),
                ("ping", "eng.ping()", "drain()"),
                ("receive_msg (none waiting)", "eng.receive_msg()", "drain()"),
                ("receive_msg (Pong waiting)", "eng.receive_msg()", "pongs_waiting()"),
                ("ping + receive_msg", "eng.ping(); eng.receive_msg()", "drain()"),
                ("stats", "eng.stats()", "drain()"),
                ("meters (none sounding)", "eng.meters()", "quiet()"),
                ("meters (32 pads sounding)", "eng.meters()", "sounding()"),
                ("dict.get (again)", "d.get(1, None)", "pass"),
            ]
            for name, stmt, setup in cases:
                result["calls"][name] = best_per_call(stmt, setup, number, args.repeat, env)
            drain()
            st = eng.stats()
            result["engine"] = {"xruns": st["xruns"], "rt_priority": st["rt_priority"],
                                "period_frames": st["period_frames"],
                                "messages_dropped": st.get("messages_dropped")}
            for path in args.load:
                times = []
                for _ in range(args.load_reps):
                    t0 = time.perf_counter()
                    eng.load_sample(1, path)
                    times.append(time.perf_counter() - t0)
                    eng.unload_sample(1)
                    drain()
                result["loads"][path] = {"best_s": min(times),
                                         "mean_s": sum(times) / len(times)}
        finally:
            eng.shut_down()
    finally:
        rig.stop()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    ref = min(result["calls"]["dict.get"], result["calls"]["dict.get (again)"])
    result["dict_get_s"] = ref
    result["ratios"] = {k: v / ref for k, v in result["calls"].items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
