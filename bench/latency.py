#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Trigger-to-sound latency and xruns of flitzis_looper_rs through the headless rig.

For each configuration (ALSA period x count on a JACK period) this starts a
rig with the recorder (a private JACK dummy server, see
tests/rig/rig.py), runs an engine on its ``default`` PCM,
and repeats N times: take CLOCK_MONOTONIC, play_sample() a short click, let
it sound, stop it, wait. The recorder stamps every JACK cycle with
CLOCK_MONOTONIC at the entry of its process callback, so a frame's arrival
time is its cycle's stamp plus its offset in the block / rate. The latency
of a trigger is the arrival time of the first non-silent frame after it minus
the trigger time. A second phase plays a dense loop set for --xrun-seconds
and reports the engine's xrun count and load.

The rig keeps an account of the JACK server's own xruns (tests/rig/rig.py,
``Rig.server_xruns()``): the table shows the server's timer/recorder xruns
during the triggers, and --exclude-server-late drops every trigger whose
window (the trigger to the next, widened by rig.WINDOW_MARGIN_NS on each
side) holds one, so that a late dummy server does not count as latency.
--json also writes each kept trigger's latency (``lat_ms``), for
bench/latency_ab.py.

Not part of CI: the figures depend on the machine. Needs the installed wheel,
jackd2, libasound2-plugins and a built flz-jack-rec (--recorder or
FLZ_JACK_REC, else build*/tests/rig/flz-jack-rec is looked for).

    python3 bench/latency.py --triggers 200 --config 128x2@64 --config 64x2@64
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

import flitzis_looper_rs as fl  # noqa: E402

import _benchlib  # noqa: E402

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "rig"))
import rig as _rig  # noqa: E402

SILENCE = 1e-4


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def make_click(path, rate_hz):
    """20 ms: a full-scale first frame, then a decaying tone."""
    n = rate_hz // 50
    frames = [(0.5 * math.exp(-i / (0.004 * rate_hz)) * math.cos(2 * math.pi * 1000 * i / rate_hz),) * 2
              for i in range(n)]
    _benchlib.write_wav(path, rate_hz, frames)


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(math.ceil(q * len(sorted_values))) - 1))
    return sorted_values[k]


def onsets(samples, n_channels):
    """Frames where the capture turns from silent to sounding."""
    out = []
    quiet = True
    run = 0
    n_frames = len(samples) // n_channels
    for f in range(n_frames):
        loud = any(abs(samples[f * n_channels + c]) > SILENCE for c in range(n_channels))
        if loud and quiet:
            out.append(f)
            quiet = False
            run = 0
        elif not loud:
            run += 1
            if run >= 64:  # a gap of silence re-arms the detector
                quiet = True
        else:
            run = 0
    return out


def run_config(args, alsa_period, alsa_periods, jack_period, tmp):
    rate = args.rate
    click = os.path.join(tmp, "click.wav")
    make_click(click, rate)
    loops = []
    for k in range(args.xrun_voices):
        p = os.path.join(tmp, "loop%d.wav" % k)
        if not os.path.exists(p):
            _benchlib.make_loop(p, rate, k + 1, 0.02, 110 + k + 1)
        loops.append(p)

    rec_path = os.path.join(tmp, "rec-%d-%d-%d.raw" % (alsa_period, alsa_periods, jack_period))
    rig = _rig.Rig(period_frames=jack_period, rate_hz=rate, record=rec_path,
                   recorder=_rig.find_recorder(args.recorder))
    rig.start()
    triggers = []
    busy = []
    try:
        eng = fl.AudioEngine(sample_rate=rate, channels=2, period_frames=alsa_period,
                             periods=alsa_periods)
        eng.run()
        try:
            eng.load_sample(0, click)
            time.sleep(0.3)
            if args.busy:
                busy = _benchlib.start_busy(args.busy, args.busy_pin)
            for _ in range(args.triggers):
                t0 = now_ns()
                eng.play_sample(0, 1.0)
                triggers.append(t0)
                time.sleep(args.hold_ms / 1000.0)
                eng.stop_sample(0)
                time.sleep(args.gap_ms / 1000.0)
                while eng.receive_msg() is not None:
                    pass
            trigger_stats = eng.stats()
            xrun_stats = None
            if args.xrun_seconds > 0:
                for k, p in enumerate(loops):
                    eng.load_sample(10 + k, p)
                x0 = eng.stats()["xruns"]
                for k in range(len(loops)):
                    eng.play_sample(10 + k, 0.5)
                loads = []
                end = time.monotonic() + args.xrun_seconds
                while time.monotonic() < end:
                    time.sleep(0.25)
                    loads.append(eng.stats()["load"])
                    while eng.receive_msg() is not None:
                        pass
                eng.stop_all()
                xs = eng.stats()
                xrun_stats = (xs["xruns"] - x0, max(loads) if loads else float("nan"))
        finally:
            eng.shut_down()
    finally:
        _benchlib.stop_busy(busy)
        rig.stop()

    samples = _rig.read_raw(rec_path)
    times = _rig.read_times(rec_path + ".ns")
    n_frames = len(samples) // 2
    frames_per_cycle = jack_period
    if len(times) * frames_per_cycle != n_frames:
        print("warning: %d cycles x %d frames != %d frames captured"
              % (len(times), frames_per_cycle, n_frames), file=sys.stderr)

    def arrival_ns(frame):
        cycle = frame // frames_per_cycle
        return times[cycle] + (frame % frames_per_cycle) * 1_000_000_000 // rate

    heard = [arrival_ns(f) for f in onsets(samples, 2) if f // frames_per_cycle < len(times)]
    # The server's own lateness during the triggers (the account is empty,
    # and nothing is excluded, with a rig that keeps none).
    server_entries = rig.server_xruns() if hasattr(rig, "server_xruns") else []
    period_ns = int((args.hold_ms + args.gap_ms) * 1e6)
    phase = (triggers[0], triggers[-1] + period_ns) if triggers else (0, 0)
    late_kinds = getattr(_rig, "SERVER_LATE_KINDS", ("timer", "recorder"))
    server_late_n = sum(1 for e in server_entries
                        if e[1] in late_kinds and phase[0] <= e[0] <= phase[1])
    client_n = sum(1 for e in server_entries
                   if e[1] not in late_kinds and phase[0] <= e[0] <= phase[1])
    kinds = {}
    for e in server_entries:
        if phase[0] <= e[0] <= phase[1]:
            kinds[e[1]] = kinds.get(e[1], 0) + 1
    lat_ms = []
    missed = 0
    excluded = 0
    j = 0
    for i, t0 in enumerate(triggers):
        while j < len(heard) and heard[j] < t0:
            j += 1
        limit = triggers[i + 1] if i + 1 < len(triggers) else float("inf")
        if args.exclude_server_late:
            t1 = triggers[i + 1] if i + 1 < len(triggers) else t0 + period_ns
            if _rig.server_late(t0, t1, server_entries):
                excluded += 1
                if j < len(heard) and heard[j] < limit:
                    j += 1
                continue
        if j < len(heard) and heard[j] < limit:
            lat_ms.append((heard[j] - t0) / 1e6)
            j += 1
        else:
            missed += 1
    lat_ms.sort()
    # What the device granted: the jack plugin, for one, raises a period
    # below the server's to the server's period.
    got_period = trigger_stats.get("period_frames", alsa_period)
    got_periods = trigger_stats.get("periods", alsa_periods)
    buffer_ms = 1000.0 * got_period * got_periods / rate
    config = "%dx%d @ jack %d" % (alsa_period, alsa_periods, jack_period)
    if (got_period, got_periods) != (alsa_period, alsa_periods):
        config = "%dx%d (granted %dx%d) @ jack %d" % (alsa_period, alsa_periods, got_period,
                                                      got_periods, jack_period)
    return {
        "config": config,
        "granted_period_frames": got_period,
        "granted_periods": got_periods,
        "n": len(lat_ms),
        "missed": missed,
        "excluded": excluded,
        "server_late_xruns": server_late_n,
        "client_xruns": client_n,
        "server_xrun_kinds": kinds,
        "lat_ms": lat_ms,
        "median": percentile(lat_ms, 0.5),
        "p90": percentile(lat_ms, 0.9),
        "p99": percentile(lat_ms, 0.99),
        "worst": lat_ms[-1] if lat_ms else float("nan"),
        "buffer_ms": buffer_ms,
        "jack_period_ms": 1000.0 * jack_period / rate,
        # The target for p99: the ALSA buffer, one JACK period and 0.5 ms.
        "target_ms": buffer_ms + 1000.0 * jack_period / rate + 0.5,
        "busy": args.busy,
        "engine_latency_ms": trigger_stats.get("latency_ms", float("nan")),
        "rt_priority": trigger_stats.get("rt_priority"),
        "xruns_trigger": trigger_stats["xruns"],
        "xruns_run": None if xrun_stats is None else xrun_stats[0],
        "load_max": None if xrun_stats is None else xrun_stats[1],
    }


def parse_config(text):
    # ALSAPERIODxCOUNT@JACKPERIOD, e.g. 128x2@64
    alsa, _, jack = text.partition("@")
    period, _, count = alsa.partition("x")
    return int(period), int(count or 2), int(jack or 64)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", action="append", metavar="PxN@J",
                   help="ALSA period x count @ JACK period (repeatable; default 128x2@64, "
                        "64x2@64, 128x3@64, 256x2@128)")
    p.add_argument("--triggers", type=int, default=200)
    p.add_argument("--hold-ms", type=float, default=30.0)
    p.add_argument("--gap-ms", type=float, default=40.0)
    p.add_argument("--rate", type=int, default=48000)
    p.add_argument("--xrun-seconds", type=float, default=10.0,
                   help="length of the dense playback run that counts xruns (0: skip)")
    p.add_argument("--xrun-voices", type=int, default=fl.MAX_VOICES)
    p.add_argument("--recorder", help="path of flz-jack-rec")
    p.add_argument("--busy", type=int, default=0,
                   help="busy-loop processes to run during the triggers and the xrun run "
                        "(1 loads the other core of a 2-core machine)")
    p.add_argument("--busy-pin", type=int, default=None, help="pin the busy loops to this CPU")
    p.add_argument("--exclude-server-late", action="store_true",
                   help="leave out the triggers in whose window the JACK server itself xrun'd "
                        "(timer or recorder kind; see tests/rig/rig.py)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    args = p.parse_args()
    configs = [parse_config(c) for c in (args.config or ["128x2@64", "64x2@64", "128x3@64",
                                                          "256x2@128"])]
    results = []
    with tempfile.TemporaryDirectory(prefix="flz-latency-") as tmp:
        for period, count, jack in configs:
            print("running %dx%d @ jack %d ..." % (period, count, jack), file=sys.stderr)
            results.append(run_config(args, period, count, jack, tmp))

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    head = ("config", "n", "miss", "median ms", "p99 ms", "worst ms", "buffer ms",
            "p99 target ms", "xruns (trig)", "server xruns (trig)", "excluded", "xruns (run)",
            "max load")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        row = (r["config"], str(r["n"]), str(r["missed"]), "%.2f" % r["median"],
               "%.2f" % r["p99"], "%.2f" % r["worst"], "%.2f" % r["buffer_ms"],
               "%.2f" % r["target_ms"], str(r["xruns_trigger"]), str(r["server_late_xruns"]),
               str(r["excluded"]),
               "-" if r["xruns_run"] is None else "%d in %gs" % (r["xruns_run"], args.xrun_seconds),
               "-" if r["load_max"] is None else "%.3f" % r["load_max"])
        print("| " + " | ".join(row) + " |")
    print("rt priority: %s; %d triggers each%s" % (
        results[0]["rt_priority"], args.triggers,
        "; %d busy-loop process(es) running" % args.busy if args.busy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
