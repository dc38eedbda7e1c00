# SPDX-License-Identifier: MIT
"""Tempo sync (set_pad_bpm, set_pad_downbeat, set_bpm_lock) on the offline device.

The loop is one bar at 90 BPM (4 beats of 32000 frames at 48 kHz) with a
one-frame click on every beat. Locked to a master tempo it plays at
master / 90; the interpolator spreads a click over a few frames, and its
peak is where the click's position falls, to within a frame. So every peak
must lie within 2 output frames of a master beat, and as many peaks as master
beats must be there: nothing may accumulate, in the first minute or the last."""

import math
from fractions import Fraction

import numpy
import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import RATE_HZ, write_wav

PAD_BPM = 90.0
BEAT = 32000  # frames of a beat at 90 BPM
CHUNK = 1 << 16
TOL_FRAMES = 2


def click_loop(path, offset=0):
    """One bar of 90 BPM clicks, the downbeat at frame offset (the others a beat apart, wrapped)."""
    x = [0.0] * (4 * BEAT)
    for b in range(4):
        x[(offset + b * BEAT) % len(x)] = 0.9
    return write_wav(path, x)


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    d = tmp_path_factory.mktemp("lock")
    return {"clicks": click_loop(d / "clicks.wav"), "late": click_loop(d / "late.wav", 8000),
            "ramp": write_wav(d / "ramp.wav",
                              [((i * 37) % 2001 - 1000) / 1200.0 for i in range(9001)])}


def peaks(y, base):
    """Output frames of the local maxima of |y| above 0.3 (y: one channel)."""
    a = numpy.abs(y)
    idx = numpy.nonzero(a > 0.3)[0]
    out = []
    for i in idx:
        left = a[i - 1] if i > 0 else 0.0
        right = a[i + 1] if i + 1 < len(a) else 0.0
        if a[i] >= left and a[i] > right:
            out.append(base + int(i))
    return out


def render_peaks(engine, n_frames, at=None):
    """Render n_frames in CHUNK blocks, collecting click peaks; at: {frame: callable} run
    before the chunk starting there."""
    found = []
    f = engine.frame
    end = f + n_frames
    while f < end:
        if at and f in at:
            at[f]()
        n = min(CHUNK, end - f)
        found += peaks(engine.render(n)[:, 0], f)
        f += n
    return found


def beat_error(frame, beat0, frame0, frames_per_beat):
    """Distance in frames from frame to the nearest master beat of a tempo whose beat
    number at frame0 is beat0."""
    b = beat0 + (Fraction(frame) - frame0) / frames_per_beat
    return abs(float((b - round(b)) * frames_per_beat))


def check_window(found, lo, hi, beat0, frame0, fpb):
    """Every peak in [lo, hi) is on a master beat, and there is one per master beat."""
    inside = [f for f in found if lo <= f < hi]
    worst = max(beat_error(f, beat0, frame0, fpb) for f in inside)
    assert worst <= TOL_FRAMES, (worst, lo)
    first = math.ceil(beat0 + (Fraction(lo) - frame0) / fpb - Fraction(TOL_FRAMES) / fpb)
    last = math.floor(beat0 + (Fraction(hi) - frame0) / fpb - Fraction(TOL_FRAMES) / fpb)
    # Beats whose nearest frames lie well inside the window: each has its peak.
    assert len(inside) >= last - first, (len(inside), first, last)
    return worst


def locked_engine(path, master=128.0):
    e = AudioEngine(device="offline")
    e.run()
    e.load_sample(0, path)
    e.set_pad_bpm(0, PAD_BPM)
    e.set_bpm_lock(True)
    e.set_master_bpm(master)
    return e


def test_locked_clicks_stay_on_the_beat_for_ten_minutes(loops):
    e = locked_engine(loops["clicks"])
    try:
        e.play_sample(0)
        found = render_peaks(e, 600 * RATE_HZ)
    finally:
        e.shut_down()
    fpb = Fraction(RATE_HZ * 60, 128)  # 22500 frames
    check_window(found, 0, 60 * RATE_HZ, 0, 0, fpb)
    check_window(found, 540 * RATE_HZ, 600 * RATE_HZ, 0, 0, fpb)


def test_tempo_change_half_way_keeps_the_phase(loops):
    e = locked_engine(loops["clicks"])
    change = (300 * RATE_HZ // CHUNK) * CHUNK
    try:
        e.play_sample(0)
        found = render_peaks(e, 600 * RATE_HZ, at={change: lambda: e.set_master_bpm(140.0)})
    finally:
        e.shut_down()
    old = Fraction(RATE_HZ * 60, 128)
    new = Fraction(RATE_HZ * 60, 140)
    check_window(found, 0, 60 * RATE_HZ, 0, 0, old)
    # set_master_bpm keeps the position within the bar at the change.
    beat0 = Fraction(change) / old
    check_window(found, 540 * RATE_HZ, 600 * RATE_HZ, beat0, change, new)
    # And already a second after it (the glide and its catch-up take 100 ms).
    check_window(found, change + RATE_HZ, change + 61 * RATE_HZ, beat0, change, new)


def test_quantised_locked_start_puts_the_downbeat_on_the_grid(loops):
    e = locked_engine(loops["late"], master=97.3)
    try:
        e.set_pad_downbeat(0, 8000 / RATE_HZ)
        e.set_beats_per_bar(3)
        e.render(10007)
        e.play_sample(0, quantize="bar")
        found = render_peaks(e, 10 * RATE_HZ)
        started = [m for m in iter(e.receive_msg, None) if isinstance(m, AudioMessage.Started)]
    finally:
        e.shut_down()
    fpb = Fraction(RATE_HZ * 60 * 10, 973)
    bar = 3 * fpb
    grid = round(math.ceil(Fraction(10007) / bar) * bar)
    assert [m.frame for m in started] == [grid]
    # The first click is the pad's downbeat, on the grid frame; the rest on beats.
    assert abs(found[0] - grid) <= TOL_FRAMES, (found[0], grid)
    assert all(beat_error(f, 0, 0, fpb) <= TOL_FRAMES for f in found)
    assert len(found) >= math.floor((10 * RATE_HZ + 10007 - grid) / fpb) - 1


def test_locked_render_is_the_same_whatever_the_blocks(loops):
    """A locked voice's position is a pure function of the output frame: the same
    frames rendered in odd blocks are bit-identical, tempo change included."""
    outs = []
    for sizes in ([RATE_HZ * 2, RATE_HZ * 2], [1, 4095, 333, 91571, 4096, 91904]):
        e = locked_engine(loops["ramp"], master=133.3)
        try:
            e.set_pad_bpm(0, 101.0)
            e.play_sample(0)
            parts, done = [], 0
            for n in sizes:
                if done == 2 * RATE_HZ:
                    e.set_master_bpm(77.0)
                parts.append(e.render(n))
                done += n
            outs.append(numpy.concatenate(parts))
        finally:
            e.shut_down()
    assert outs[0].shape == outs[1].shape
    assert numpy.array_equal(outs[0], outs[1])
    assert numpy.abs(outs[0]).max() > 0.1


def test_paused_locked_pad_resumes_in_phase(loops):
    """Pause and resume keep a locked pad in phase with the transport: it runs on silently
    at its lock, through a tempo change while paused, and from the end of the resume's 5 ms
    fade it is sample for sample the pad that never paused; its clicks stay on the master
    beats."""
    fade = RATE_HZ // 200 + 1
    outs = []
    for pause in (False, True):
        e = locked_engine(loops["clicks"])
        try:
            e.play_sample(0)
            parts = [e.render(100003)]
            if pause:
                e.pause_sample(0)
            parts.append(e.render(50021))
            e.set_master_bpm(140.0)
            parts.append(e.render(70001))
            if pause:
                e.resume_sample(0)
            parts.append(e.render(4 * RATE_HZ))
            outs.append(numpy.concatenate(parts)[:, 0])
        finally:
            e.shut_down()
    played, paused = outs
    resume = 100003 + 50021 + 70001
    assert numpy.array_equal(paused[:100003], played[:100003])
    assert not paused[100003 + fade:resume].any(), "silent while paused"
    assert numpy.array_equal(paused[resume + fade:], played[resume + fade:])
    # On the beat: the master's beat at the tempo change, then 140 BPM.
    change = 100003 + 50021
    old, new = Fraction(RATE_HZ * 60, 128), Fraction(RATE_HZ * 60, 140)
    found = peaks(paused[resume + fade:], resume + fade)
    check_window(found, resume + fade + RATE_HZ, resume + 4 * RATE_HZ, Fraction(change) / old,
                 change, new)


def plain_render(path, calls, n_frames=3 * 9001 + 17):
    e = AudioEngine(device="offline")
    e.run()
    try:
        e.load_sample(0, path)
        e.load_sample(1, path)
        e.set_speed(1.25)
        e.set_pad_speed(1, 0.8)
        for call in calls:
            call(e)
        e.play_sample(0, 0.5)
        e.play_sample(1, 0.4)
        return e.render(n_frames)
    finally:
        e.shut_down()


@pytest.mark.parametrize("name, calls", [
    ("no bpm, lock on", [lambda e: e.set_bpm_lock(True)]),
    ("bpm, lock off", [lambda e: e.set_pad_bpm(0, 120.0), lambda e: e.set_pad_bpm(1, 60.0)]),
    ("bpm cleared", [lambda e: e.set_pad_bpm(0, 120.0), lambda e: e.set_bpm_lock(True),
                     lambda e: e.set_pad_bpm(0, None)]),
    ("lock off again", [lambda e: e.set_pad_bpm(0, 120.0), lambda e: e.set_bpm_lock(True),
                        lambda e: e.set_bpm_lock(False), lambda e: e.set_master_bpm(90.0)]),
])
def test_unlocked_pads_are_bit_identical_to_before(loops, name, calls):
    ref = plain_render(loops["ramp"], [])
    out = plain_render(loops["ramp"], calls)
    assert numpy.array_equal(ref, out), name
    assert numpy.abs(ref).max() > 0.1


def test_bad_input_raises_and_changes_nothing(loops):
    e = AudioEngine(device="offline")
    with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
        e.set_pad_bpm(0, 120.0)
    with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
        e.set_bpm_lock(True)
    with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
        e.set_pad_downbeat(0, 0.0)
    e.run()
    try:
        e.load_sample(0, loops["clicks"])
        for bad in (19.999, 300.001, 0.0, -120.0, math.nan, math.inf, -math.inf, 1e308):
            with pytest.raises(ValueError, match="bpm out of range"):
                e.set_pad_bpm(0, bad)
        for bad in ("120", b"1", True, [120.0]):
            with pytest.raises(TypeError):
                e.set_pad_bpm(0, bad)
        for bad_id in (-1, 216, 10**30):
            with pytest.raises(ValueError, match="id out of range"):
                e.set_pad_bpm(bad_id, 120.0)
            with pytest.raises(ValueError, match="id out of range"):
                e.set_pad_downbeat(bad_id, 0.0)
        with pytest.raises(TypeError):
            e.set_pad_bpm(1.0, 120.0)
        length_s = 4 * BEAT / RATE_HZ
        for bad in (length_s, length_s + 1.0, -0.001, math.nan, math.inf, 1e300):
            with pytest.raises(ValueError, match="offset_s out of range"):
                e.set_pad_downbeat(0, bad)
        with pytest.raises(ValueError, match="offset_s out of range"):
            e.set_pad_downbeat(5, 0.0)  # an empty slot
        for bad in ("0.5", None):
            with pytest.raises(TypeError):
                e.set_pad_downbeat(0, bad)
        for bad in (1, 0, 1.0, "yes", None):
            with pytest.raises(TypeError):
                e.set_bpm_lock(bad)
        with pytest.raises(TypeError):
            e.set_pad_bpm(0)
        # Nothing changed: the pad has no tempo and the lock is off, so it plays at
        # the global speed, exactly as a fresh engine renders it.
        e.set_speed(1.5)
        e.play_sample(0)
        out = e.render(3 * BEAT)
    finally:
        e.shut_down()
    ref_engine = AudioEngine(device="offline")
    ref_engine.run()
    try:
        ref_engine.load_sample(0, loops["clicks"])
        ref_engine.set_speed(1.5)
        ref_engine.play_sample(0)
        ref = ref_engine.render(3 * BEAT)
    finally:
        ref_engine.shut_down()
    assert numpy.array_equal(out, ref)


def test_lock_after_bad_downbeat_keeps_the_old_downbeat(loops):
    """A refused set_pad_downbeat leaves the last good one: the locked start still puts
    frame 8000 of the 'late' loop on the downbeat."""
    e = locked_engine(loops["late"], master=120.0)
    try:
        e.set_pad_downbeat(0, 8000 / RATE_HZ)
        with pytest.raises(ValueError, match="offset_s out of range"):
            e.set_pad_downbeat(0, 100.0)
        e.play_sample(0, quantize="bar")
        found = render_peaks(e, 4 * RATE_HZ)
    finally:
        e.shut_down()
    assert abs(found[0] - 0) <= TOL_FRAMES
    assert all(beat_error(f, 0, 0, Fraction(24000)) <= TOL_FRAMES for f in found)
    assert len(found) >= 7
