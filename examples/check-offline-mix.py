#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check what offline-mix wrote, frame by frame.

usage: check-offline-mix.py MIX.wav LATENCY_FRAMES

Recomputes the mix offline-mix.c describes (two looping sines, one of them
started later, then a stop of both) and compares every frame outside the
gain ramps with the file, within one 16-bit step. Exits 1 on the first
difference, printing where it is.
"""

import math
import sys
import wave

RATE_HZ = 48000
LOOP_FRAMES = 4800
START_B_FRAME = 12000
STOP_ALL_FRAME = 36000
TOTAL_FRAMES = 48000
RAMP_FRAMES = 480   # skipped after each event: twice the mixer's 5 ms voice ramp
TOL_STEPS = 1       # float32 arithmetic and rounding to 16 bits


def loop(freq_hz, amp, k):
    """Frame k (any k >= 0) of a looping sine sample."""
    i = k % LOOP_FRAMES
    return amp * math.sin(2.0 * math.pi * freq_hz * i / RATE_HZ)


def expected(t, lat):
    """(left, right) at output frame t, or None inside a ramp (not compared)."""
    src = t - lat  # the mix before the mixer's delay (0 since commands act at once)
    if src < 0:
        return (0.0, 0.0)
    for event in (0, START_B_FRAME, STOP_ALL_FRAME):
        if event <= src < event + RAMP_FRAMES:
            return None
    if src >= STOP_ALL_FRAME:
        return (0.0, 0.0)
    a = 0.5 * loop(440.0, 0.5, src)
    left, right = a, a
    if src >= START_B_FRAME:
        b = 0.25 * loop(660.0, 0.5, src - START_B_FRAME)
        left += b
        right -= b
    return (left, right)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    path, lat = argv[1], int(argv[2])
    with wave.open(path, "rb") as w:
        fmt = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())
        if fmt != (2, 2, RATE_HZ, TOTAL_FRAMES):
            print("%s: format (channels, bytes, rate, frames) = %r" % (path, fmt))
            return 1
        data = w.readframes(TOTAL_FRAMES)
    pcm = memoryview(data).cast("h")
    if sys.byteorder == "big":
        import array
        arr = array.array("h", data)
        arr.byteswap()
        pcm = arr
    n_compared = 0
    for t in range(TOTAL_FRAMES):
        exp = expected(t, lat)
        if exp is None:
            continue
        for ch in (0, 1):
            want = round(exp[ch] * 32767.0)
            got = pcm[2 * t + ch]
            if abs(got - want) > TOL_STEPS:
                print("%s: frame %d channel %d: got %d, expected %d (latency %d)"
                      % (path, t, ch, got, want, lat))
                return 1
            n_compared += 1
    print("%s: %d samples match the expected mix within %d step(s)"
          % (path, n_compared, TOL_STEPS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
