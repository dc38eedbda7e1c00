#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Xruns and audio-thread CPU of a busy engine through the headless rig.

Plays --voices looping samples (one per slot, 1 s each, 48 kHz stereo noise
and tones) at --speed for --seconds on an ALSA PERIODxN buffer over a JACK
dummy server with period --jack-period, optionally with --busy processes
spinning at normal priority (the other core fully loaded). Reports the
engine's xruns (its own -EPIPEs), the highest and mean stats()['load']
(render time over audio time), and the CPU time of the flz-audio thread
(from /proc/self/task/<tid>/schedstat) as a percentage of one core; the
latter includes ALSA's and the jack plugin's work on that thread.

Prints one JSON object. Used by bench/run.sh (rows e and f).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import flitzis_looper_rs as fl

import _benchlib

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import rig as _rig  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--voices", type=int, default=fl.MAX_VOICES)
    p.add_argument("--speed", type=float, default=1.37)
    p.add_argument("--period", type=int, default=64)
    p.add_argument("--periods", type=int, default=2)
    p.add_argument("--jack-period", type=int, default=64)
    p.add_argument("--busy", type=int, default=0, help="busy-loop processes to run meanwhile")
    p.add_argument("--busy-pin", type=int, default=None, help="pin them to this CPU")
    args = p.parse_args()

    rig = _rig.Rig(period_frames=args.jack_period).start()
    tmp = tempfile.mkdtemp(prefix="flz-endurance-")
    busy = []
    try:
        eng = fl.AudioEngine(period_frames=args.period, periods=args.periods)
        eng.run()
        try:
            for k in range(args.voices):
                path = os.path.join(tmp, "loop%d.wav" % k)
                _benchlib.make_loop(path, 48000, k + 1, 0.05, 110 + 7 * (k + 1))
                eng.load_sample(k, path)
            eng.set_speed(args.speed)
            for k in range(args.voices):
                eng.play_sample(k, 0.5)
            time.sleep(1.0)  # let every voice start and the first load window fill
            tids = _benchlib.thread_ids("flz-audio")
            if len(tids) != 1:
                raise SystemExit("expected one flz-audio thread, found %r" % tids)
            tid = tids[0]
            busy = _benchlib.start_busy(args.busy, args.busy_pin) if args.busy else []
            st0 = eng.stats()
            cpu0 = _benchlib.thread_cpu_ns(tid)
            t0 = time.monotonic_ns()
            loads = []
            voices_min = args.voices
            xrun_at = []      # seconds into the run of each new xrun
            worst_gap_ms = 0.0  # largest shortfall of rendered audio vs wall time per poll
            prev_t, prev_frames, prev_xruns = t0, st0["frames"], st0["xruns"]
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                time.sleep(0.5)
                st = eng.stats()
                now = time.monotonic_ns()
                loads.append(st["load"])
                voices_min = min(voices_min, st["voices_playing"])
                if st["xruns"] != prev_xruns:
                    xrun_at.append(round((now - t0) / 1e9, 1))
                gap = (now - prev_t) / 1e6 - 1000.0 * (st["frames"] - prev_frames) / 48000
                worst_gap_ms = max(worst_gap_ms, gap)
                prev_t, prev_frames, prev_xruns = now, st["frames"], st["xruns"]
                while eng.receive_msg() is not None:
                    pass
            cpu1 = _benchlib.thread_cpu_ns(tid)
            t1 = time.monotonic_ns()
            st1 = eng.stats()
            _benchlib.stop_busy(busy)
            busy = []
        finally:
            eng.shut_down()
        # jackd's own lateness reports.
        server_xruns = _benchlib.server_xrun_lines(rig)
    finally:
        _benchlib.stop_busy(busy)
        rig.stop()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    out = {
        "seconds": (t1 - t0) / 1e9,
        "config": "%dx%d @ jack %d" % (args.period, args.periods, args.jack_period),
        "voices": args.voices,
        "voices_min": voices_min,
        "speed": args.speed,
        "busy": args.busy,
        "xruns": st1["xruns"] - st0["xruns"],
        "xrun_at_s": xrun_at,
        "server_xrun_lines": server_xruns,
        "worst_shortfall_ms": worst_gap_ms,
        "frames": st1["frames"] - st0["frames"],
        "load_max": max(loads) if loads else float("nan"),
        "load_mean": sum(loads) / len(loads) if loads else float("nan"),
        "thread_cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "rt_priority": st1["rt_priority"],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
