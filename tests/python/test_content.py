# SPDX-License-Identifier: MIT
"""What the engine actually plays, sample by sample.

A second rig with a tee (the ALSA file PCM in front of JACK) captures every
frame the engine commits, bit-exact, as raw FLOAT_LE at 48 kHz, 2 channels.
It records frames as they are committed, so a block that misses its
deadline (an underrun, as under pytest-asan) changes when they are played,
never what the tee holds: these tests check content only, no deadline, and
run the same instrumented.
"""

import math
import os

import pytest

from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import IN_RIG, NEEDS_RIG, wait_for, wait_message, write_wav

pytestmark = NEEDS_RIG

N_FRAMES = 4800  # 0.1 s loop
TOL = 1e-5       # float32 gain products of exactly representable values


def pattern():
    """A loop whose every frame differs from its neighbours: a 16-bit ramp pattern.

    Values are multiples of 8/32768, exactly representable as floats, so the
    gain products below are exact up to float32 rounding."""
    return [((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(N_FRAMES)]


@pytest.fixture(scope="module")
def tee_rig():
    if not IN_RIG:
        pytest.skip("not in the rig")
    import rig as _rig  # tests/rig (conftest puts it on sys.path)
    rig = _rig.Rig(tee=True, export_env=True)
    try:
        rig.start()
    except _rig.RigError as e:
        pytest.skip(str(e))
    yield rig
    rig.stop()


@pytest.fixture(scope="module")
def loop_file(tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("content") / "pattern.wav", pattern())


def capture(tee_rig):
    import rig as _rig  # tests/rig (conftest puts it on sys.path)
    data = _rig.read_raw(tee_rig.tee_path)
    left = data[0::2]
    right = data[1::2]
    return list(left), list(right)


def align(out, ref, gain, search_from, search_len=64, check=(600, 1800)):
    """The offset s such that out[s + k] == gain * ref[k % len(ref)] over the check window."""
    for s in range(max(0, search_from - 4), search_from + search_len):
        ok = True
        for k in range(*check):
            if s + k >= len(out) or abs(out[s + k] - gain * ref[k % len(ref)]) > TOL:
                ok = False
                break
        if ok:
            return s
    return None


def render_more(e, n_frames):
    """Wait (5 s at most) until the engine has rendered n_frames more frames."""
    f0 = e.stats()["frames"]
    assert wait_for(lambda: e.stats()["frames"] > f0 + n_frames, 5.0)


def first_nonzero(xs):
    for i, x in enumerate(xs):
        if x != 0.0:
            return i
    return None


def test_content_voice_plays_sample_scaled(tee_rig, loop_file):
    ref = pattern()
    with AudioEngine(device="default") as e:
        e.load_sample(0, loop_file)
        e.play_sample(0, 0.5)
        assert wait_for(lambda: e.stats()["frames"] > 48000 * 0.4, 5.0)
    left, right = capture(tee_rig)
    assert len(left) > 48000 * 0.3
    start = first_nonzero(left)
    assert start is not None, "nothing was played"
    # Before the trigger: exact silence.
    assert all(x == 0.0 for x in left[:start]) and all(x == 0.0 for x in right[:start])
    s = align(left, ref, 0.5, start)
    assert s is not None, "the output is not the sample at half gain"
    # Mono file on a stereo device: the same signal on both channels, and it
    # loops: check three full periods after the first, frame by frame.
    end = min(len(left) - 256, s + 4 * N_FRAMES)
    for j in range(s + N_FRAMES, end):
        want = 0.5 * ref[(j - s) % N_FRAMES]
        assert abs(left[j] - want) <= TOL, (j, left[j], want)
        assert abs(right[j] - want) <= TOL, (j, right[j], want)


def test_content_master_volume(tee_rig, loop_file):
    ref = pattern()
    with AudioEngine() as e:
        e.load_sample(0, loop_file)
        e.play_sample(0, 1.0)
        render_more(e, 9600)
        e.set_volume(0.25)
        render_more(e, 48000 * 0.3)
    left, _ = capture(tee_rig)
    s = align(left, ref, 1.0, first_nonzero(left))
    assert s is not None
    # Long after the change (the master ramp is ~10 ms): a quarter of the sample.
    tail_end = len(left) - 512
    for j in range(tail_end - 2 * N_FRAMES, tail_end):
        want = 0.25 * ref[(j - s) % N_FRAMES]
        assert abs(left[j] - want) <= TOL, (j, left[j], want)


def zero_crossings(xs):
    return sum(1 for a, b in zip(xs, xs[1:]) if (a < 0.0) != (b < 0.0))


def test_content_speed_doubles_pitch(tee_rig, tmp_path):
    freq = 600.0
    tone = write_wav(tmp_path / "tone.wav",
                     [0.5 * math.sin(2 * math.pi * freq * i / 48000) for i in range(48000)])
    with AudioEngine() as e:
        e.load_sample(0, tone)
        e.play_sample(0, 1.0)
        render_more(e, 12000)
        e.set_speed(2.0)
        render_more(e, 24000)
    left, _ = capture(tee_rig)
    start = first_nonzero(left)
    # 0.1 s at speed 1 (600 Hz: 120 crossings) and the last 0.1 s at speed 2.
    before = zero_crossings(left[start + 2400:start + 7200])
    after = zero_crossings(left[len(left) - 6000:len(left) - 1200])
    assert abs(before - 2 * freq * 0.1) <= 3, before
    assert abs(after - 4 * freq * 0.1) <= 4, after


def test_content_stop_fades_to_silence(tee_rig, loop_file):
    with AudioEngine() as e:
        e.load_sample(0, loop_file)
        e.play_sample(0, 1.0)
        assert wait_for(lambda: e.stats()["frames"] > 9600, 5.0)
        e.stop_sample(0)
        stopped = wait_message(e, AudioMessage.Stopped)
        assert stopped is not None and stopped.id == 0
        f_stop = stopped.frame
        render_more(e, 9600)
    left, right = capture(tee_rig)
    assert any(x != 0.0 for x in left)
    # From the Stopped message's frame on, the output is exact silence.
    assert 0 < f_stop < len(left)
    assert all(x == 0.0 for x in left[f_stop:]) and all(x == 0.0 for x in right[f_stop:])
    # The fade is short: the sample was still sounding within ~50 ms before it.
    assert any(x != 0.0 for x in left[max(0, f_stop - 2400):f_stop])


def test_content_quantised_starts_land_on_grid_frames(tee_rig, loop_file):
    """Quantised and at-frame starts through a real device: the tee (every
    frame committed, index = output frame) shows each start's first frame
    exactly on the grid frame computed here with Fraction, as offline: the
    device path adds no error."""
    from fractions import Fraction
    ref = pattern()
    bpm = 97.3
    beat = Fraction(48000 * 60 * 10**6, round(bpm * 10**6))
    steps = {"1/16": beat / 4, "1/4": beat, "1/8": beat / 2}
    plays = []  # (kind, issued frame, Started message)
    with AudioEngine() as e:
        e.load_sample(0, loop_file)
        e.set_master_bpm(bpm)
        e.anchor_transport(0)  # the grid of 97.3 BPM from frame 0
        render_more(e, 2000)
        for kind in ("1/16", "1/4", "at", "1/8"):
            issued = e.frame  # the command reaches the audio thread at or after it
            if kind == "at":
                e.play_sample(0, 0.5, at_frame=issued + 7777)
            else:
                e.play_sample(0, 0.5, quantize=kind)
            started = wait_message(e, AudioMessage.Started, timeout_s=5.0)
            assert started is not None and started.id == 0, kind
            plays.append((kind, issued, started.frame))
            render_more(e, N_FRAMES + 100)
            e.stop_sample(0)
            assert wait_message(e, AudioMessage.Stopped, timeout_s=5.0) is not None
            render_more(e, 3000)
        assert e.transport().bpm == bpm
    left, right = capture(tee_rig)
    prev_end = 0
    for kind, issued, frame in plays:
        if kind == "at":
            assert frame == issued + 7777
        else:
            k = math.ceil((frame - Fraction(1, 2)) / steps[kind])
            grid = math.floor(k * steps[kind] + Fraction(1, 2))
            assert frame == grid, (kind, frame, grid)
            assert frame >= issued and frame - issued <= steps[kind] + 4096, (kind, issued, frame)
        start = first_nonzero(left[prev_end:])
        assert start is not None, kind
        assert prev_end + start == frame, (kind, prev_end + start, frame)
        for j in range(N_FRAMES):
            want = 0.5 * ref[j]
            assert abs(left[frame + j] - want) <= TOL, (kind, j, left[frame + j], want)
            assert abs(right[frame + j] - want) <= TOL
        # Silent again (faded) before the next start.
        prev_end = frame + next(i for i in range(N_FRAMES, len(left) - frame)
                                if all(x == 0.0 for x in left[frame + i:frame + i + 1200]))


# --- Bad sample values never reach the device -------------------------------

BAD_N = 9600                   # 0.2 s loop
BAD_AT = {4800: math.nan, 4801: math.nan, 5400: math.inf, 6000: -math.inf,
          6600: 8.0, 7200: -8.0}
START_MARK = 0.0625            # frame 0: each voice's entry shows as a multiple of it


def write_float_wav(path, samples, rate_hz=48000):
    """A mono 32-bit float WAV (WAVE_FORMAT_IEEE_FLOAT) holding the values as given."""
    import struct
    data = struct.pack("<%df" % len(samples), *samples)
    fmt = struct.pack("<HHIIHHH", 3, 1, rate_hz, rate_hz * 4, 4, 32, 0)
    fact = struct.pack("<I", len(samples))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<I", len(fact)) + fact
            + b"data" + struct.pack("<I", len(data)) + data)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    return str(path)


def bad_source():
    """Multiples of 1/65536 (|x| < 0.016): sums of eight are exact in float32."""
    xs = [((i * 37) % 2001 - 1000) / 65536.0 for i in range(BAD_N)]
    xs[0] = START_MARK
    for i, v in BAD_AT.items():
        xs[i] = v
    return xs


def sanitized(v):
    if math.isnan(v):
        return 0.0
    if math.isinf(v):
        return 1.0 if v > 0 else -1.0
    return v


def test_content_bad_values_are_clamped(tee_rig, tmp_path, caplog):
    import logging
    caplog.set_level(logging.WARNING, logger="flitzis_looper_rs")
    src = bad_source()
    ref = [sanitized(v) for v in src]
    path = write_float_wav(tmp_path / "bad.wav", src)
    with AudioEngine() as e:
        assert e.stats()["format"] == "FLOAT_LE"
        e.load_sample(0, path)
        for _ in range(8):
            e.play_sample(0, 1.0)
        render_more(e, 3 * BAD_N)

    # The load said what it replaced, with the counts, before it returned.
    lines = [r.getMessage() for r in caplog.records
             if r.name == "flitzis_looper_rs" and r.levelno == logging.WARNING
             and "non-finite" in r.getMessage()]
    assert lines == ['slot 0: 4 non-finite sample values replaced (NaN -> 0: 2, '
                     '+Inf -> +1: 1, -Inf -> -1: 1, rate-conversion overflow: 0) '
                     'in "%s"' % path], lines

    left, right = capture(tee_rig)
    n = len(left) - 512                 # leave out the tail the jack PCM may replay
    assert n > 2 * BAD_N
    # Nothing non-finite and nothing beyond full scale reached the device.
    bad = [(j, v) for j, v in enumerate(left + right) if not (-1.0 <= v <= 1.0)]
    assert not bad, bad[:10]

    # Where each voice entered: voices start at full gain on frame 0 (START_MARK),
    # so the first frame that the voices found so far do not explain is the
    # next entry, and its value says how many voices entered together.
    s1 = first_nonzero(left)
    assert s1 is not None, "nothing was played"
    starts = []
    j = s1
    while len(starts) < 8 and j < s1 + 4800:       # all entries precede frame 4800
        have = sum(ref[(j - s) % BAD_N] for s in starts)
        if left[j] != have:
            m = (left[j] - have) / START_MARK
            assert m == round(m) and 1 <= m <= 8 - len(starts), (j, left[j], have)
            starts += [j] * int(round(m))
        j += 1
    assert len(starts) == 8, "voices entered at %s" % starts

    # Every frame, sample by sample: the eight sanitised copies summed, then
    # clipped to full scale. Only the 8.0 and -8.0 frames (and a +-1 from an
    # infinity next to the others' sum) need the clip; everything else is exact.
    for j in range(s1, n):
        total = sum(ref[(j - s) % BAD_N] for s in starts if j >= s)
        want = max(-1.0, min(1.0, total))
        assert left[j] == want and right[j] == want, (j, left[j], right[j], want)
    # Where a voice plays its 8.0 (or -8.0) the output is exactly full scale.
    for s in starts:
        assert left[s + 6600] == 1.0 and right[s + 6600] == 1.0, s
        assert left[s + 7200] == -1.0 and right[s + 7200] == -1.0, s
