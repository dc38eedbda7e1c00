# SPDX-License-Identifier: MIT
"""Per-pad control and inspection (API.md Part 2), on the offline device.

Everything is rendered with AudioEngine(device="offline") and compared sample
by sample. The reference for a sample's frames is what the engine itself
plays of it with no pad setting (a plain play_sample at volume 1), so that
the comparisons test the pad controls, not the loader. Ramps: pad gain 10 ms
(480 frames at 48 kHz), voice fades 5 ms (240 frames).
"""

import math

import numpy
import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import RATE_HZ, write_wav

N_FRAMES = 4800  # the pattern: a 0.1 s loop
VOICE_RAMP = RATE_HZ * 5 // 1000
PAD_GAIN_RAMP = RATE_HZ * 10 // 1000
#: Float rounding of a sum of a few voices; far below any audible change.
EXACT = 1e-6


def pattern():
    """Every frame differs from its neighbours (as in test_offline.py)."""
    return [((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(N_FRAMES)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pads")
    return {
        "pattern": write_wav(d / "pattern.wav", pattern()),
        "dc": write_wav(d / "dc.wav", [0.5] * 333),
        "sine1k": write_wav(d / "sine1k.wav", [
            0.5 * math.sin(2 * math.pi * 1000 * i / RATE_HZ) for i in range(RATE_HZ)]),
        "sine44k": write_wav(d / "sine44k.wav", [
            0.5 * math.sin(2 * math.pi * 440 * i / 44100) for i in range(44100 // 2)],
            rate_hz=44100),
    }


def offline(**kw):
    kw.setdefault("channels", 1)
    return AudioEngine(device="offline", **kw)


@pytest.fixture(scope="module")
def ref(files):
    """The pattern as the engine plays it: two loops of it."""
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.play_sample(0, 1.0)
        out = e.render(2 * N_FRAMES)[:, 0].copy()
    assert numpy.max(numpy.abs(out[:N_FRAMES] - out[N_FRAMES:])) == 0.0
    assert numpy.max(numpy.abs(out[:N_FRAMES] - numpy.array(pattern()))) < 1e-4
    return out[:N_FRAMES]


def messages(e):
    out = []
    while True:
        m = e.receive_msg()
        if m is None:
            return out
        out.append(m)


def loop_of(ref, start, n, lo=0, hi=N_FRAMES):
    """n frames of ref starting at sample frame start, looping over [lo, hi)."""
    idx = []
    p = start
    for _ in range(n):
        idx.append(p)
        p += 1
        if p >= hi:
            p = lo
    return ref[numpy.array(idx)]


# -- pad gain ------------------------------------------------------------------

def test_pad_gain_db_exact_after_its_ramp(files):
    with offline() as e:
        e.load_sample(0, files["dc"])
        e.play_sample(0, 1.0)
        before = e.render(100)[:, 0]
        e.set_pad_gain(0, -6.0206)
        out = e.render(PAD_GAIN_RAMP + 500)[:, 0]
    level = float(before[50])
    assert level == pytest.approx(0.5, abs=1e-4)
    # After the 10 ms glide: exactly half, to 1e-4 of the voice's level.
    assert numpy.max(numpy.abs(out[PAD_GAIN_RAMP:] - 0.5 * level)) <= 1e-4 * level
    # A glide, not a step: half way it is between the two.
    mid = float(out[PAD_GAIN_RAMP // 2])
    assert 0.5 * level + 0.05 < mid < level - 0.05


def test_pad_gain_ends_mute_and_plus_12_db(files):
    with offline() as e:
        e.load_sample(0, files["dc"])
        e.load_sample(1, files["dc"])
        e.set_pad_gain(0, -60.0)
        e.set_pad_gain(1, 12.0)
        e.play_sample(0, 1.0)
        e.play_sample(1, 0.2)
        e.render(PAD_GAIN_RAMP)
        both = e.render(1000)[:, 0]
        e.stop_sample(1)
        e.render(2 * VOICE_RAMP)
        alone = e.render(1000)[:, 0]
    # -60 dB is silence, exactly; +12 dB is 10**(12/20) on a later trigger too.
    assert not alone.any()
    assert numpy.max(numpy.abs(both - 0.2 * 0.5 * 10 ** 0.6)) <= 1e-4


def test_pad_gain_belongs_to_the_pad(files):
    """Set before the play, it applies to the trigger; other pads are untouched."""
    with offline() as e:
        e.load_sample(0, files["dc"])
        e.load_sample(1, files["dc"])
        e.set_pad_gain(1, -6.0206)
        e.play_sample(0, 1.0)
        e.render(PAD_GAIN_RAMP)
        a = e.render(500)[:, 0]
        e.play_sample(1, 1.0)
        e.render(PAD_GAIN_RAMP)
        b = e.render(500)[:, 0]
    assert numpy.max(numpy.abs(a - 0.5)) <= 1e-4
    assert numpy.max(numpy.abs(b - 0.75)) <= 1e-4


# -- pad speed -------------------------------------------------------------------

def peak_hz(x):
    spectrum = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x))))
    k = int(numpy.argmax(spectrum))
    # Parabolic interpolation of the peak between its neighbours.
    a, b, c = spectrum[k - 1], spectrum[k], spectrum[k + 1]
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * RATE_HZ / len(x), spectrum


def test_two_pads_at_their_own_speeds_play_at_their_own_pitch(files):
    with offline() as e:
        e.load_sample(0, files["sine1k"])
        e.load_sample(1, files["sine1k"])
        e.set_pad_speed(0, 0.5)
        e.set_pad_speed(1, 1.5)
        e.play_sample(0, 1.0)
        e.render(RATE_HZ // 10)
        slow = e.render(RATE_HZ // 2)[:, 0]
        e.stop_sample(0)
        e.play_sample(1, 1.0)
        e.render(RATE_HZ // 10)
        fast = e.render(RATE_HZ // 2)[:, 0]
        e.play_sample(0, 1.0)
        e.render(RATE_HZ // 10)
        both = e.render(RATE_HZ // 2)[:, 0]
    f_slow, _ = peak_hz(slow)
    f_fast, _ = peak_hz(fast)
    assert f_slow == pytest.approx(500.0, abs=0.5)
    assert f_fast == pytest.approx(1500.0, abs=0.5)
    # Together, each keeps its own pitch: peaks at 500 and 1500 Hz, none at 1 kHz.
    _, spectrum = peak_hz(both)
    bin_hz = RATE_HZ / len(both)
    level = lambda hz: spectrum[int(round(hz / bin_hz)) - 2:int(round(hz / bin_hz)) + 3].max()
    assert level(500) > 1000 * level(1000) and level(1500) > 1000 * level(1000)


def test_pad_speed_multiplies_the_global_speed(files):
    with offline() as e:
        e.load_sample(0, files["sine1k"])
        e.set_speed(1.5)
        e.set_pad_speed(0, 0.5)
        e.play_sample(0, 1.0)
        e.render(RATE_HZ // 10)
        out = e.render(RATE_HZ // 2)[:, 0]
    assert peak_hz(out)[0] == pytest.approx(750.0, abs=0.5)


# -- loop region -------------------------------------------------------------------

def test_loop_region_repeats_its_frames_exactly(files, ref):
    start, end = 480, 960
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.set_pad_loop_region(0, start / RATE_HZ, end / RATE_HZ)
        e.play_sample(0, 1.0)
        out = e.render(5 * (end - start) + 7)[:, 0]
    expect = loop_of(ref, start, len(out), start, end)
    assert numpy.max(numpy.abs(out - expect)) <= EXACT
    # One frame off would not pass.
    assert numpy.max(numpy.abs(out[1:] - expect[:-1])) > 1e-3


def test_loop_region_end_none_is_the_sample_end_and_load_resets_it(files, ref):
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.set_pad_loop_region(0, 0.09)  # frames 4320.. to the end
        e.play_sample(0, 1.0)
        a = e.render(3 * 480)[:, 0]
        e.stop_sample(0)
        e.render(2 * VOICE_RAMP)
        e.load_sample(0, files["pattern"])  # the region is the whole sample again
        e.play_sample(0, 1.0)
        b = e.render(N_FRAMES + 10)[:, 0]
    assert numpy.max(numpy.abs(a - loop_of(ref, 4320, len(a), 4320, N_FRAMES))) <= EXACT
    assert numpy.max(numpy.abs(b - loop_of(ref, 0, len(b)))) <= EXACT


# -- pause, resume, seek ---------------------------------------------------------------

def test_pause_holds_and_resume_continues(files, ref):
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.play_sample(0, 1.0)
        head = e.render(1000)[:, 0]
        e.pause_sample(0)
        e.pause_sample(0)  # pausing a paused pad does nothing
        paused = e.render(3000)[:, 0]
        e.resume_sample(0)
        e.resume_sample(0)  # resuming a playing pad does nothing
        resumed = e.render(3000)[:, 0]
    assert numpy.max(numpy.abs(head - ref[:1000])) <= EXACT
    # Faded out over 5 ms, then silence, exactly.
    assert paused[0] != 0.0
    assert not paused[2 * VOICE_RAMP:].any()
    # After the 5 ms fade in it continues from where it held, with no frame
    # skipped during the pause: the held position lies within the fade out.
    tail = resumed[VOICE_RAMP:]
    held = [p for p in range(1000, 1000 + VOICE_RAMP + 1)
            if numpy.max(numpy.abs(tail - loop_of(ref, p + VOICE_RAMP, len(tail)))) <= EXACT]
    assert len(held) == 1, held
    assert abs(float(resumed[0])) <= float(abs(ref).max()) / VOICE_RAMP * 2


def test_paused_voice_counts_against_max_voices(files):
    """A play beyond MAX_VOICES steals a paused voice (the earliest started)."""
    def run(extra_play):
        with offline() as e:
            e.load_sample(0, files["dc"])
            e.load_sample(1, files["dc"])
            for _ in range(fl.MAX_VOICES):
                e.play_sample(0, 0.01)
            e.render(100)
            e.pause_sample(0)
            e.render(2 * VOICE_RAMP)
            silent = e.render(100)[:, 0]
            if extra_play:
                e.play_sample(1, 0.5)
            e.resume_sample(0)
            e.render(2 * VOICE_RAMP)
            return silent, e.render(100)[:, 0]
    silent, out = run(True)
    assert not silent.any()
    # 31 paused voices came back (one was stolen) beside the new one.
    assert numpy.max(numpy.abs(out - (0.25 + (fl.MAX_VOICES - 1) * 0.005))) <= 1e-5
    silent, out = run(False)
    assert numpy.max(numpy.abs(out - fl.MAX_VOICES * 0.005)) <= 1e-5


def test_seek_lands_exactly(files, ref):
    target = 2400
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.play_sample(0, 1.0)
        e.render(1000)
        e.seek_sample(0, target / RATE_HZ)
        out = e.render(2000)[:, 0]
    # A 5 ms crossfade, after which the voice plays from the target on.
    expect = loop_of(ref, target, len(out))
    assert numpy.max(numpy.abs(out[VOICE_RAMP:] - expect[VOICE_RAMP:])) <= EXACT
    # Crossfaded, so the start is neither the old nor the new position alone.
    assert numpy.max(numpy.abs(out[1:VOICE_RAMP // 2] - expect[1:VOICE_RAMP // 2])) > 1e-3


def test_seek_rounds_seconds_to_the_nearest_frame(files, ref):
    with offline() as e:
        e.load_sample(0, files["pattern"])
        e.play_sample(0, 1.0)
        e.seek_sample(0, 1234.4 / RATE_HZ)
        out = e.render(1000)[:, 0]
    expect = loop_of(ref, 1234, len(out))
    assert numpy.max(numpy.abs(out[VOICE_RAMP:] - expect[VOICE_RAMP:])) <= EXACT


# -- exclusive play, Started ------------------------------------------------------------------

def test_exclusive_silences_the_others_and_starts_in_one_block(files, ref):
    with offline(_trace_commands=True) as e:
        e.load_sample(0, files["dc"])
        e.load_sample(1, files["dc"])
        e.load_sample(2, files["pattern"])
        e.play_sample(0, 0.5)
        e.play_sample(1, 0.5)
        e.render(500)
        messages(e)
        at = e.frame
        e.play_sample_exclusive(2, 1.0)
        out = e.render(2000)[:, 0]
        msgs = messages(e)
    # Its first frame is the block's first frame, beside the others' fade out.
    assert out[0] == pytest.approx(0.5 + ref[0], abs=0.01)
    # Once they have faded (5 ms), only the new voice sounds.
    assert numpy.max(numpy.abs(out[VOICE_RAMP:] - ref[VOICE_RAMP:2000])) <= EXACT
    applied = [m for m in msgs if isinstance(m, AudioMessage.Applied)]
    assert [m.cmd for m in applied] == ["play_exclusive"]
    assert applied[0].value == 1.0 and applied[0].frame == at
    seq = applied[0].seq
    started = [m for m in msgs if isinstance(m, AudioMessage.Started)]
    assert started == [AudioMessage.Started(id=2, frame=at, seq=seq)]
    stopped = [m for m in msgs if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 1 and stopped[0].seq == seq and stopped[0].id is None


def test_exclusive_on_an_empty_slot_does_nothing(files):
    def run(exclusive):
        with offline() as e:
            e.load_sample(0, files["pattern"])
            e.play_sample(0, 1.0)
            e.render(300)
            if exclusive:
                e.play_sample_exclusive(9, 1.0)
            out = e.render(1000)
            return out, messages(e)
    plain, plain_msgs = run(False)
    excl, excl_msgs = run(True)
    assert numpy.array_equal(plain, excl)
    assert not [m for m in excl_msgs if isinstance(m, AudioMessage.Stopped)]


def test_started_frame_is_the_first_sounding_frame(files):
    with offline(_trace_commands=True) as e:
        e.load_sample(5, files["pattern"])
        e.render(333)
        e.play_sample(5)  # volume defaults to 1.0
        out = numpy.concatenate([e.render(17)[:, 0], e.render(100)[:, 0]])
        e.play_sample(5, 0.0)  # silent, but it starts a voice all the same
        e.play_sample(9, 1.0)  # an empty slot starts nothing
        e.render(100)
        msgs = messages(e)
    started = [m for m in msgs if isinstance(m, AudioMessage.Started)]
    plays = [m for m in msgs if isinstance(m, AudioMessage.Applied) and m.cmd == "play"]
    assert [m.id for m in started] == [5, 5]
    assert [m.seq for m in started] == [m.seq for m in plays[:2]]
    # Started.frame (counted from run()) is the index of the voice's first
    # non-zero output frame: the pattern's first frame is not zero.
    assert started[0].frame == 333 + int(numpy.flatnonzero(out)[0]) == 333
    assert started[1].frame == 450
    assert repr(started[0]) == "AudioMessage.Started(id=5, frame=333, seq=%d)" % started[0].seq


def test_started_message_type():
    m = AudioMessage.Started(id=3, frame=10, seq=4)
    assert isinstance(m, AudioMessage) and (m.id, m.frame, m.seq) == (3, 10, 4)
    assert AudioMessage.Started() == AudioMessage.Started(id=None, frame=0, seq=0)


# -- inspection ----------------------------------------------------------------------------

def test_sample_info(files):
    with offline(channels=2) as e:
        assert e.sample_info(3) is None
        e.load_sample(3, files["sine44k"])
        info = e.sample_info(3)
        assert isinstance(info, fl.SampleInfo) and isinstance(info, tuple)
        assert info._fields == ("n_frames", "channels", "sample_rate", "duration_s",
                                "source_sample_rate", "source")
        assert info.n_frames == round(22050 * 48000 / 44100) == 24000
        assert info.channels == 2
        assert info.sample_rate == 48000
        assert info.duration_s == 24000 / 48000
        assert info.source_sample_rate == 44100
        assert info.source == files["sine44k"]
        assert tuple(info) == (24000, 2, 48000, 0.5, 44100, files["sine44k"])
        e.load_sample(3, files["dc"])
        assert e.sample_info(3) == (333, 2, 48000, 333 / 48000, 48000, files["dc"])
        e.unload_sample(3)
        assert e.sample_info(3) is None
    with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
        e.sample_info(3)


def test_frame_advances_by_what_was_rendered():
    e = offline()
    with pytest.raises(fl.NotRunningError):
        e.frame
    e.run()
    try:
        assert e.frame == 0
        e.render(1000)
        assert e.frame == 1000
        e.render(17)
        assert e.frame == 1017
        assert e.stats()["frames"] == 1017
    finally:
        e.shut_down()
    e.run()
    try:
        assert e.frame == 0  # counted from run()
    finally:
        e.shut_down()


# -- bad arguments: the right type and phrase, and nothing changes ------------------------------

NAN = float("nan")
INF = float("inf")

BAD_CALLS = [
    # (method, args, kwargs, exception, phrase)
    ("play_sample", (216,), {}, ValueError, "id out of range"),
    ("play_sample", (0, 1.5), {}, ValueError, "volume out of range"),
    ("play_sample", (0,), {"volume": NAN}, ValueError, "volume out of range"),
    ("play_sample", (0, "1"), {}, TypeError, "volume"),
    ("play_sample", (0, 1.0, 2.0), {}, TypeError, "positional"),
    ("play_sample", (), {"volume": 1.0}, TypeError, "id"),
    ("play_sample_exclusive", (-1,), {}, ValueError, "id out of range"),
    ("play_sample_exclusive", (0, -0.1), {}, ValueError, "volume out of range"),
    ("play_sample_exclusive", (0, INF), {}, ValueError, "volume out of range"),
    ("play_sample_exclusive", (0.0,), {}, TypeError, "id"),
    ("play_sample_exclusive", (0,), {"gain": 1.0}, TypeError, "gain"),
    ("pause_sample", (216,), {}, ValueError, "id out of range"),
    ("pause_sample", (True,), {}, TypeError, "id"),
    ("pause_sample", (), {}, TypeError, "id"),
    ("resume_sample", (-5,), {}, ValueError, "id out of range"),
    ("resume_sample", ("0",), {}, TypeError, "id"),
    ("seek_sample", (0, -0.001), {}, ValueError, "position_s out of range"),
    ("seek_sample", (0, 0.1), {}, ValueError, "position_s out of range"),  # the end
    ("seek_sample", (0, 100.0), {}, ValueError, "position_s out of range"),
    ("seek_sample", (0, 1e300), {}, ValueError, "position_s out of range"),
    ("seek_sample", (0, NAN), {}, ValueError, "position_s out of range"),
    ("seek_sample", (0, INF), {}, ValueError, "position_s out of range"),
    ("seek_sample", (7, 0.0), {}, ValueError, "position_s out of range"),  # empty slot
    ("seek_sample", (216, 0.0), {}, ValueError, "id out of range"),
    ("seek_sample", (0, None), {}, TypeError, "position_s"),
    ("seek_sample", (0,), {}, TypeError, "position_s"),
    ("set_pad_gain", (0, -60.001), {}, ValueError, "gain_db out of range"),
    ("set_pad_gain", (0, 12.001), {}, ValueError, "gain_db out of range"),
    ("set_pad_gain", (0, NAN), {}, ValueError, "gain_db out of range"),
    ("set_pad_gain", (0, -INF), {}, ValueError, "gain_db out of range"),
    ("set_pad_gain", (0, "0"), {}, TypeError, "gain_db"),
    ("set_pad_gain", (216, 0.0), {}, ValueError, "id out of range"),
    ("set_pad_speed", (0, 0.49), {}, ValueError, "speed out of range"),
    ("set_pad_speed", (0, 2.01), {}, ValueError, "speed out of range"),
    ("set_pad_speed", (0, NAN), {}, ValueError, "speed out of range"),
    ("set_pad_speed", (0, None), {}, TypeError, "speed"),
    ("set_pad_speed", (-1, 1.0), {}, ValueError, "id out of range"),
    ("set_pad_loop_region", (0, 0.05, 0.05), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, 0.06, 0.05), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, 0.0, 0.2), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, 0.1), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, -0.01), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, NAN), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, 0.0, INF), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (7, 0.0), {}, ValueError, "loop region out of range"),
    ("set_pad_loop_region", (0, "0"), {}, TypeError, "start_s"),
    ("set_pad_loop_region", (0, 0.0, "x"), {}, TypeError, "end_s"),
    ("set_pad_loop_region", (216, 0.0), {}, ValueError, "id out of range"),
    ("sample_info", (216,), {}, ValueError, "id out of range"),
    ("sample_info", (None,), {}, TypeError, "id"),
]


def _scenario(files, bad=None):
    """A pad playing with settings; a bad call (if any) between two renders."""
    with offline(_trace_commands=True) as e:
        e.load_sample(0, files["pattern"])
        e.set_pad_gain(0, -3.0)
        e.set_pad_loop_region(0, 0.01, 0.05)
        e.play_sample(0, 0.8)
        first = e.render(700)
        if bad is not None:
            method, args, kwargs, exc, phrase = bad
            with pytest.raises(exc, match=phrase):
                getattr(e, method)(*args, **kwargs)
        second = e.render(1500)
        # The bad call queued nothing: the next command takes the next number.
        e.ping()
        e.render(1)
        seqs = [m.seq for m in messages(e) if isinstance(m, AudioMessage.Applied)]
        return first, second, seqs


@pytest.fixture(scope="module")
def untouched(files):
    return _scenario(files)


@pytest.mark.parametrize("bad", BAD_CALLS, ids=["%s%r" % (b[0], b[1]) for b in BAD_CALLS])
def test_bad_argument_raises_and_changes_nothing(files, untouched, bad):
    first, second, seqs = _scenario(files, bad)
    assert numpy.array_equal(first, untouched[0])
    assert numpy.array_equal(second, untouched[1])
    assert seqs == untouched[2]


NEW_CALLS = [
    ("play_sample_exclusive", (0,)), ("pause_sample", (0,)), ("resume_sample", (0,)),
    ("seek_sample", (0, 0.0)), ("set_pad_gain", (0, 0.0)), ("set_pad_speed", (0, 1.0)),
    ("set_pad_loop_region", (0, 0.0)), ("sample_info", (0,)),
]


@pytest.mark.parametrize("method,args", NEW_CALLS, ids=[c[0] for c in NEW_CALLS])
def test_not_running(method, args):
    e = offline()
    with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
        getattr(e, method)(*args)


def test_queue_full_changes_nothing(files):
    with offline(_trace_commands=True) as e:
        e.load_sample(0, files["pattern"])
        e.play_sample(0, 1.0)
        n = 0
        with pytest.raises(fl.QueueFullError, match="buffer is full"):
            for n in range(fl._native.QUEUE_CAPACITY + 1):
                e.ping()
        for method, args in NEW_CALLS[:-1]:
            with pytest.raises(fl.QueueFullError, match="buffer is full"):
                getattr(e, method)(*args)
        assert e.sample_info(0) is not None
        out = e.render(1000)[:, 0]
        applied = [m.cmd for m in messages(e) if isinstance(m, AudioMessage.Applied)]
    assert set(applied) == {"load", "play", "ping"}
    assert out.any()
