# SPDX-License-Identifier: MIT
"""The transport and scheduled starts, offline (no rig): render() sample by sample.

Every expected frame is computed here on its own, with fractions.Fraction
from the API's definition (a tempo is round(bpm * 10**6) micro-BPM, a grid
step of "1/N" is 4/N beats, "bar" beats_per_bar beats, the k-th grid frame is
floor(downbeat + k * step + 1/2)); the tests then ask for 0 frames of error:
the first non-zero output frame, the Started message and the content after
it must all sit on exactly that frame."""

import math
import random
from fractions import Fraction

import numpy
import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import RATE_HZ, write_wav

N_FRAMES = 4800
#: Beats per grid step of each mode, as the API defines them.
STEP_BEATS = {"1/64": Fraction(1, 16), "1/32": Fraction(1, 8), "1/16": Fraction(1, 4),
              "1/8": Fraction(1, 2), "1/4": Fraction(1), "1/2": Fraction(2)}


def pattern():
    """Non-zero at frame 0 (the start is visible), every frame differs from its
    neighbours, values k * 8/32768 are exact floats."""
    return [((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(N_FRAMES)]


REF = numpy.array(pattern(), dtype=numpy.float32)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("transport") / "pattern.wav", pattern())


def frames_per_beat(bpm):
    return Fraction(RATE_HZ * 60 * 10**6, round(bpm * 10**6))


def step_frames(bpm, mode, beats_per_bar=4):
    beats = Fraction(beats_per_bar) if mode == "bar" else STEP_BEATS[mode]
    return beats * frames_per_beat(bpm)


def grid_frame(downbeat, step, k):
    return math.floor(downbeat + k * step + Fraction(1, 2))


def next_grid(frame, downbeat, step):
    """The first grid frame at or after frame, by search from an estimate."""
    k = math.floor((frame - downbeat) / step) - 1
    while grid_frame(downbeat, step, k) < frame:
        k += 1
    return grid_frame(downbeat, step, k)


def messages(e):
    out = []
    while True:
        m = e.receive_msg()
        if m is None:
            return out
        out.append(m)


def started(msgs):
    return [m for m in msgs if isinstance(m, AudioMessage.Started)]


def first_sound(x):
    nz = numpy.flatnonzero(x)
    return int(nz[0]) if len(nz) else None


def engine():
    return AudioEngine(device="offline", channels=1)


@pytest.mark.parametrize("bpm", [120.0, 128.0, 97.3])
@pytest.mark.parametrize("mode", ["1/16", "1/4", "bar"])
def test_quantised_starts_land_exactly_on_the_grid(loop, bpm, mode):
    rng = random.Random("%s %s" % (bpm, mode))
    step = step_frames(bpm, mode)
    with engine() as e:
        e.load_sample(0, loop)
        if bpm != 120.0:
            e.set_master_bpm(bpm)
        e.render(rng.randint(1, 999))
        messages(e)
        for trial in range(16):
            # Silence before the trigger: the last voice faded out.
            quiet = e.render(rng.randint(300, 7000))[:, 0]
            assert not quiet[-60:].any()
            issued = e.frame  # the command reaches the audio side at this frame
            e.play_sample(0, quantize=mode)
            expect = next_grid(issued, 0, step)
            out = []
            while sum(len(c) for c in out) < expect - issued + N_FRAMES:
                out.append(e.render(rng.randint(1, 5000))[:, 0])
            out = numpy.concatenate(out)
            at = first_sound(out)
            assert at is not None and issued + at == expect, (
                "trial %d: issued at %d, grid frame %d, first sound at %d"
                % (trial, issued, expect, issued + (at if at is not None else -1)))
            numpy.testing.assert_array_equal(out[at:at + N_FRAMES], REF)
            got = started(messages(e))
            assert [(m.id, m.frame) for m in got] == [(0, expect)]
            e.stop_sample(0)


def test_default_quantization_and_per_call_override(loop):
    step = step_frames(120.0, "1/4")
    with engine() as e:
        e.load_sample(0, loop)
        e.set_trigger_quantization("1/4")
        e.render(1001)
        e.play_sample(0)  # the default: the next beat
        e.render(30000)
        e.stop_sample(0)
        e.render(2000)
        issued = e.frame
        e.play_sample(0, quantize="off")  # overridden: at once
        e.render(10)
        e.stop_sample(0)
        e.render(2000)
        e.set_trigger_quantization("off")
        issued2 = e.frame
        e.play_sample(0)
        e.render(10)
        got = [m.frame for m in started(messages(e))]
        assert got == [next_grid(1001, 0, step), issued, issued2]


def test_at_frame_starts_exactly_there_and_in_the_past_at_once(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.load_sample(1, loop)
        e.render(500)
        e.play_sample(0, 0.5, at_frame=12345)
        out = numpy.concatenate([e.render(n)[:, 0] for n in (1000, 7, 9000, 4321, 3000)])
        assert first_sound(out) == 12345 - 500
        numpy.testing.assert_array_equal(out[12345 - 500:][:N_FRAMES], 0.5 * REF)
        assert [(m.id, m.frame) for m in started(messages(e))] == [(0, 12345)]
        e.stop_sample(0)
        e.render(1000)
        past = e.frame
        e.play_sample(1, at_frame=100)  # long past: at once
        out = e.render(64)[:, 0]
        assert first_sound(out) == 0
        numpy.testing.assert_array_equal(out, REF[:64])
        assert [(m.id, m.frame) for m in started(messages(e))] == [(1, past)]


def test_several_starts_in_one_block_each_on_its_frame(loop):
    """One render spanning many pending starts: the block is split at each."""
    frames = [3000, 3001, 3128, 3500, 9999]
    with engine() as e:
        e.load_sample(0, loop)
        for k, f in enumerate(frames):
            e.play_sample(0, 0.125, at_frame=f)
        out = e.render(20000)[:, 0]
        expect = numpy.zeros(20000, dtype=numpy.float64)
        for f in frames:
            n = 20000 - f
            expect[f:] += 0.125 * numpy.tile(REF, n // N_FRAMES + 1)[:n]
        assert numpy.max(numpy.abs(out - expect)) <= 1e-6
        assert [m.frame for m in started(messages(e))] == frames


@pytest.mark.parametrize("cancel", ["stop_sample", "unload_sample", "stop_all", "exclusive"])
def test_a_stop_before_the_grid_frame_cancels_the_start(loop, cancel):
    with engine() as e:
        e.load_sample(0, loop)
        e.load_sample(1, loop)
        e.render(100)
        e.play_sample(0, quantize="bar")  # frame 96000
        e.play_sample(0, at_frame=50000)
        e.render(20000)
        if cancel == "stop_sample":
            e.stop_sample(0)
        elif cancel == "unload_sample":
            e.unload_sample(0)
        elif cancel == "stop_all":
            e.stop_all()
        else:
            e.play_sample_exclusive(1)
        out = e.render(100000)[:, 0]
        got = started(messages(e))
        if cancel == "exclusive":
            assert [(m.id, m.frame) for m in got] == [(1, 20100)]
            numpy.testing.assert_array_equal(out[:N_FRAMES], REF)
            numpy.testing.assert_array_equal(out[:80000], numpy.tile(REF, 17)[:80000])
        else:
            assert got == []
            assert not out.any()
        assert e.stats()["voices_playing"] == (1 if cancel == "exclusive" else 0)


def test_a_stop_cancels_only_its_pad(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.load_sample(1, loop)
        e.play_sample(0, at_frame=5000)
        e.play_sample(1, at_frame=6000)
        e.render(100)
        e.stop_sample(0)
        e.render(10000)
        assert [(m.id, m.frame) for m in started(messages(e))] == [(1, 6000)]


def test_the_257th_pending_start_raises_queue_full_and_changes_nothing(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.ping()
        e.render(10)
        pong = [m for m in messages(e) if isinstance(m, AudioMessage.Pong)][0]
        far = 10**9
        for k in range(256):
            e.play_sample(0, at_frame=far + k)
        with pytest.raises(fl.QueueFullError, match="buffer is full"):
            e.play_sample(0, at_frame=100)
        with pytest.raises(fl.QueueFullError, match="buffer is full"):
            e.play_sample(0, quantize="1/4")
        with pytest.raises(RuntimeError):
            e.play_sample(0, at_frame=100)
        # A start at once is no pending start: still accepted.
        e.play_sample(0)
        e.ping()
        out = e.render(200)[:, 0]
        msgs = messages(e)
        # The refused calls took no sequence number and started nothing:
        # 256 plays, the play at once, then the ping.
        pong2 = [m for m in msgs if isinstance(m, AudioMessage.Pong)][0]
        assert pong2.seq == pong.seq + 258
        assert [m.frame for m in started(msgs)] == [10]
        numpy.testing.assert_array_equal(out, REF[:200])
        # Cancelled ones no longer count; started ones neither.
        e.stop_all()
        e.render(1000)
        base = e.frame
        for k in range(256):
            e.play_sample(1, at_frame=base + 10)  # an empty slot: starts nothing
        with pytest.raises(fl.QueueFullError):
            e.play_sample(1, at_frame=base + 10)
        e.render(20)
        for k in range(256):
            e.play_sample(1, quantize="1/64")
        with pytest.raises(fl.QueueFullError):
            e.play_sample(1, at_frame=0)


def beats_at(t):
    return t.bar * t.beats_per_bar + t.beat


def test_tempo_change_keeps_the_bar_position_and_the_grid_follows(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.render(70001)
        before = e.transport()
        assert before.frame == 70001 and before.bpm == 120.0
        exact = Fraction(70001) / frames_per_beat(120.0)
        assert abs(beats_at(before) - float(exact)) < 1e-9
        e.set_master_bpm(97.3)
        e.render(1)
        after = e.transport()
        assert after.bpm == 97.3
        # One frame on at the new tempo: the position at 70001 was kept.
        moved = exact + 1 / frames_per_beat(97.3)
        assert abs(beats_at(after) - float(moved)) < 1e-9
        # The downbeat moved so that 70001 keeps its beat.
        downbeat = 70001 - exact * frames_per_beat(97.3)
        assert after.downbeat_frame == math.floor(downbeat + Fraction(1, 2))
        # Quantised starts lie on the new tempo's grid through it.
        for mode in ("1/16", "1/4", "bar"):
            issued = e.frame
            e.play_sample(0, quantize=mode)
            expect = next_grid(issued, downbeat, step_frames(97.3, mode))
            out = e.render(expect - issued + 10)[:, 0]
            assert first_sound(out) == expect - issued
            assert [m.frame for m in started(messages(e))] == [expect]
            e.stop_sample(0)
            e.render(500)


def test_anchor_and_beats_per_bar(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.render(1000)
        e.anchor_transport(30000)
        e.set_beats_per_bar(3)
        e.render(10)
        t = e.transport()
        assert (t.frame, t.beats_per_bar, t.downbeat_frame) == (1010, 3, 30000)
        assert t.bar == -1  # before the downbeat
        assert abs(beats_at(t) - float((Fraction(1010) - 30000) / frames_per_beat(120.0))) < 1e-9
        e.play_sample(0, quantize="bar")
        e.render(80000)
        step = step_frames(120.0, "bar", beats_per_bar=3)  # 72000 frames
        assert [m.frame for m in started(messages(e))] == [next_grid(1010, 30000, step)]
        assert next_grid(1010, 30000, step) == 30000
        e.stop_sample(0)
        # anchor_transport(): the frame at which it reaches the audio side.
        e.render(333)
        now = e.frame
        e.anchor_transport()
        e.render(5)
        t = e.transport()
        assert t.downbeat_frame == now and t.bar == 0
        assert abs(t.beat - 5 / float(frames_per_beat(120.0))) < 1e-12


def test_transport_defaults_and_named_tuple():
    with engine() as e:
        t = e.transport()
        assert isinstance(t, fl.Transport) and isinstance(t, tuple)
        assert t == (0, 120.0, 4, 0, 0.0, 0)
        assert t._fields == ("frame", "bpm", "beats_per_bar", "bar", "beat", "downbeat_frame")
        e.render(24000)
        assert e.transport().beat == 1.0
        e.set_master_bpm(128.0)
        e.set_beats_per_bar(7)
        e.anchor_transport(5)
    with engine() as e:  # run() starts a new transport
        assert e.transport() == (0, 120.0, 4, 0, 0.0, 0)


def test_bad_input_raises_and_changes_nothing(loop):
    with engine() as e:
        e.load_sample(0, loop)
        e.render(10)
        e.ping()
        e.render(1)
        seq0 = [m.seq for m in messages(e) if isinstance(m, AudioMessage.Pong)][0]
        t0 = e.transport()
        for bad in (19.99, 300.01, float("nan"), float("inf"), -120.0):
            with pytest.raises(ValueError, match="bpm out of range"):
                e.set_master_bpm(bad)
        for bad in ("120", None, True, [120]):
            with pytest.raises(TypeError):
                e.set_master_bpm(bad)
        for bad in (0, 17, -4, 2**70):
            with pytest.raises(ValueError, match="beats_per_bar out of range"):
                e.set_beats_per_bar(bad)
        for bad in (4.0, "4", True, None):
            with pytest.raises(TypeError):
                e.set_beats_per_bar(bad)
        for bad in (-1, 2**53 + 1, 2**80):
            with pytest.raises(ValueError, match="frame out of range"):
                e.anchor_transport(bad)
        for bad in (1.5, "0", True):
            with pytest.raises(TypeError):
                e.anchor_transport(bad)
        for bad in ("1/3", "OFF", "", "1/128", "bars"):
            with pytest.raises(ValueError, match="mode out of range") as info:
                e.set_trigger_quantization(bad)
            assert repr(bad) in str(info.value)
        for bad in (4, None, b"bar"):
            with pytest.raises(TypeError):
                e.set_trigger_quantization(bad)
        with pytest.raises(ValueError, match="quantize out of range") as info:
            e.play_sample(0, quantize="1/5")
        assert "'1/5'" in str(info.value)
        for bad in (4, b"1/4", 1.0):
            with pytest.raises(TypeError):
                e.play_sample(0, quantize=bad)
        for bad in (-1, 2**53 + 1, 2**64):
            with pytest.raises(ValueError, match="at_frame out of range"):
                e.play_sample(0, at_frame=bad)
        for bad in (1.0, "5", True):
            with pytest.raises(TypeError):
                e.play_sample(0, at_frame=bad)
        with pytest.raises(ValueError, match="at_frame and quantize"):
            e.play_sample(0, at_frame=5, quantize="1/4")
        with pytest.raises(TypeError):
            e.play_sample(0, 1.0, 100)  # at_frame is keyword-only
        with pytest.raises(TypeError):
            e.play_sample_exclusive(0, at_frame=100)
        with pytest.raises(ValueError, match="volume out of range"):
            e.play_sample(0, 1.5, at_frame=100)
        with pytest.raises(ValueError, match="id out of range"):
            e.play_sample(216, quantize="bar")
        # Nothing was queued or changed: the next command takes the next seq,
        # the transport is the same, nothing started.
        e.ping()
        out = e.render(20000)
        msgs = messages(e)
        assert [m.seq for m in msgs if isinstance(m, AudioMessage.Pong)] == [seq0 + 1]
        assert started(msgs) == []
        assert not out.any()
        t1 = e.transport()
        assert (t1.bpm, t1.beats_per_bar, t1.downbeat_frame) == (
            t0.bpm, t0.beats_per_bar, t0.downbeat_frame)
        # The default quantisation is unchanged ("off"): at once.
        issued = e.frame
        e.play_sample(0)
        e.render(5)
        assert [m.frame for m in started(messages(e))] == [issued]


def test_not_running():
    e = engine()
    for call in (lambda: e.set_master_bpm(120.0), lambda: e.set_beats_per_bar(4),
                 lambda: e.anchor_transport(), lambda: e.transport(),
                 lambda: e.set_trigger_quantization("bar"),
                 lambda: e.play_sample(0, at_frame=5), lambda: e.play_sample(0, quantize="1/4")):
        with pytest.raises(fl.NotRunningError, match="Audio engine not initialized"):
            call()
