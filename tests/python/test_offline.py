# SPDX-License-Identifier: MIT
"""AudioEngine(device="offline"): render() on the calling thread, no device, no rig.

Expectations are those of libmixer's own tests (tests/mixer/test-mixer.c): a
play sounds from the next output frame, a stop fades linearly over the 5 ms
voice ramp to exact silence, the master volume glides over 10 ms."""

import math

import numpy
import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import RATE_HZ, write_wav

N_FRAMES = 4800  # a 0.1 s loop


def pattern():
    """Every frame differs from its neighbours; values k * 8/32768 are exact floats."""
    return [((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(N_FRAMES)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("offline")
    return {
        "pattern": write_wav(d / "pattern.wav", pattern()),
        "dc": write_wav(d / "dc.wav", [0.5] * 333),
        "sine1k": write_wav(d / "sine1k.wav", [
            0.5 * math.sin(2 * math.pi * 1000 * i / RATE_HZ) for i in range(RATE_HZ)]),
    }


def offline(**kw):
    """An offline engine, not yet run (the with statement runs it)."""
    return AudioEngine(device="offline", **kw)


def mixer_latency(e):
    # Offline there is no device buffer: the latency is the mixer's delay alone.
    return e.stats()["latency_frames"]


def test_render_shape_dtype_silence():
    with AudioEngine(device="offline", channels=2) as e:
        out = e.render(1000)
        assert isinstance(out, numpy.ndarray)
        assert out.shape == (1000, 2) and out.dtype == numpy.float32
        assert out.flags["C_CONTIGUOUS"] and out.flags["WRITEABLE"]
        assert not out.any()
        assert e.stats()["frames"] == 1000
        assert e.stats()["device"] == "offline"
        # No device buffer, and the mixer adds no delay.
        assert e.stats()["latency_frames"] == 0 and e.stats()["latency_ms"] == 0.0
    with AudioEngine(device="offline", channels=1) as e:
        assert e.render(7).shape == (7, 1)


def test_play_is_sample_exact_from_the_next_render(files):
    ref = numpy.array(pattern(), dtype=numpy.float32)
    with offline(channels=1) as e:
        e.render(333)  # not at frame 0: the play applies at the next render's first frame
        e.load_sample(5, files["pattern"])
        e.play_sample(5, 0.5)
        out = e.render(2 * N_FRAMES + 17)[:, 0]
    expect = 0.5 * numpy.tile(ref, 3)[:len(out)]
    assert numpy.max(numpy.abs(out - expect)) <= 1e-6
    assert out[0] != 0.0
    # One frame late would not pass.
    assert numpy.max(numpy.abs(out[1:] - expect[:-1])) > 1e-3


def run_script(files):
    """A fixed set of calls; returns the concatenated render and the messages."""
    e = offline()
    e.run()
    chunks = []
    msgs = []
    e.load_sample(0, files["pattern"])
    e.load_sample(1, files["sine1k"])
    e.play_sample(0, 0.7)
    e.ping()
    chunks.append(e.render(1000))
    e.play_sample(1, 0.3)
    e.set_speed(1.37)
    chunks.append(e.render(4099))
    e.set_volume(0.5)
    e.stop_sample(0)
    chunks.append(e.render(2048))
    e.stop_all()
    chunks.append(e.render(3000))
    while (m := e.receive_msg()) is not None:
        msgs.append(m)
    e.shut_down()
    return numpy.concatenate(chunks), msgs


def test_same_calls_bit_identical(files):
    a, msgs_a = run_script(files)
    b, msgs_b = run_script(files)
    assert a.tobytes() == b.tobytes()
    assert a.any()
    assert [type(m) for m in msgs_a] == [type(m) for m in msgs_b]
    assert isinstance(msgs_a[0], AudioMessage.Pong)
    stopped = [m for m in msgs_a if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 2


def test_stop_fades_like_libmixer(files):
    g, v, ramp, before = 0.8, 0.5, 240, 1000
    with offline(channels=1) as e:
        lat = mixer_latency(e)
        e.load_sample(4, files["dc"])
        e.play_sample(4, g)
        head = e.render(before)[:, 0]
        e.stop_sample(4)
        tail = e.render(lat + ramp + 400)[:, 0]
        kinds = []
        while (m := e.receive_msg()) is not None:
            kinds.append(type(m))
    assert numpy.max(numpy.abs(head[lat:] - g * v)) <= 1e-6
    first_fade = lat  # fade frame k = 1, counted from the stop
    for i, x in enumerate(tail):
        if i < first_fade:
            expect = g * v
        elif i <= first_fade + ramp - 2:
            expect = g * v * (ramp - (i - first_fade + 1)) / ramp
        else:
            expect = 0.0
        if expect == 0.0:
            assert x == 0.0, "frame %d not exactly zero: %g" % (i, x)
        else:
            assert abs(x - expect) <= 1e-6, "frame %d: %g vs %g" % (i, x, expect)
    # The play's Started (in the first render), then the stop's Stopped.
    assert kinds == [AudioMessage.Started, AudioMessage.Stopped]


def test_master_volume_glides_like_libmixer(files):
    ramp, before = 480, 1000
    with offline(channels=1) as e:
        e.load_sample(0, files["dc"])
        e.play_sample(0, 1.0)
        e.render(before)
        e.set_volume(0.0)
        out = e.render(1000)[:, 0]
    for i, x in enumerate(out):
        expect = 1.0 - (i + 1) / ramp if i + 1 < ramp else 0.0
        expect *= 0.5
        if expect == 0.0:
            assert x == 0.0
        else:
            assert abs(x - expect) <= 1e-6, "frame %d: %g vs %g" % (i, x, expect)


def test_speed_doubles_pitch(files):
    with offline(channels=1) as e:
        e.load_sample(0, files["sine1k"])
        e.set_speed(2.0)
        e.play_sample(0, 1.0)
        e.render(4800)  # past the 20 ms glide
        out = e.render(RATE_HZ)[:, 0].astype(numpy.float64)
    spectrum = numpy.abs(numpy.fft.rfft(out))
    assert numpy.argmax(spectrum) == 2000  # 1 Hz bins: 1 kHz played at x2
    # Still the sine's level (RMS of amplitude 0.5): the resampler passes 2 kHz.
    assert abs(math.sqrt(numpy.mean(out * out)) - 0.5 / math.sqrt(2)) <= 1e-3


def errors_of(e):
    """The exception (type, text) of each invalid call."""
    calls = [
        lambda: e.play_sample(fl.NUM_SAMPLES, 0.5),
        lambda: e.play_sample(-1, 0.5),
        lambda: e.play_sample(0, float("nan")),
        lambda: e.play_sample(0, 2.0),
        lambda: e.play_sample("0", 0.5),
        lambda: e.stop_sample(True),
        lambda: e.set_speed(0.0),
        lambda: e.set_speed(float("inf")),
        lambda: e.set_volume(-0.1),
        lambda: e.unload_sample(999),
    ]
    out = []
    for call in calls:
        with pytest.raises(Exception) as info:
            call()
        out.append((type(info.value), str(info.value)))
    return out


def test_invalid_calls_raise_as_on_a_device():
    device = AudioEngine(device="flz_no_such_pcm")
    with offline() as e:
        assert errors_of(e) == errors_of(device)
        assert all(t in (ValueError, TypeError) for t, _ in errors_of(e))
        with pytest.raises(FileNotFoundError):
            e.load_sample(0, "/nonexistent/x.wav")
        with pytest.raises(RuntimeError, match="already running"):
            e.run()


def test_render_arguments_and_states():
    e = AudioEngine(device="offline")
    with pytest.raises(fl.NotRunningError):
        e.render(64)
    with pytest.raises(fl.NotRunningError):
        e.play_sample(0, 0.5)
    e.run()
    for bad in (0, -1, 2**24 + 1, 2**80):
        with pytest.raises(ValueError, match=r"^n_frames out of range \(expected 1\.\."):
            e.render(bad)
    for bad in (1.0, "64", None, True):
        with pytest.raises(TypeError):
            e.render(bad)
    assert e.render(n_frames=3).shape == (3, 2)
    e.shut_down()
    with pytest.raises(fl.NotRunningError):
        e.render(64)


def test_render_on_a_device_raises_runtime_error():
    e = AudioEngine(device="flz_no_such_pcm")
    with pytest.raises(RuntimeError, match="offline") as info:
        e.render(64)
    assert not isinstance(info.value, fl.NotRunningError)
