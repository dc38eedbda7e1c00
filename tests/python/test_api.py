# SPDX-License-Identifier: MIT
"""The module's surface: names, constants, message classes, argument checking.

None of these tests needs an audio device.
"""

import inspect
import math
import os
import pathlib

import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

MESSAGE_KINDS = ("Ping", "Pong", "Stopped", "XRun", "DeviceLost", "Applied", "Started")


# -- module ------------------------------------------------------------------

def test_api_constants():
    assert fl.NUM_SAMPLES == 216 and isinstance(fl.NUM_SAMPLES, int)
    assert fl.MAX_VOICES == 32 and isinstance(fl.MAX_VOICES, int)
    assert fl.SPEED_MIN == 0.5 and isinstance(fl.SPEED_MIN, float)
    assert fl.SPEED_MAX == 2.0 and isinstance(fl.SPEED_MAX, float)
    assert fl.VOLUME_MIN == 0.0 and isinstance(fl.VOLUME_MIN, float)
    assert fl.VOLUME_MAX == 1.0 and isinstance(fl.VOLUME_MAX, float)


def test_api_all_names():
    for name in ("AudioEngine", "AudioMessage", "SampleInfo", "NUM_SAMPLES", "MAX_VOICES",
                 "SPEED_MIN", "SPEED_MAX", "VOLUME_MIN", "VOLUME_MAX"):
        assert name in fl.__all__
        assert hasattr(fl, name)


def test_api_installed_package_files():
    pkg = pathlib.Path(fl.__file__).parent
    assert (pkg / "py.typed").is_file()
    stub = (pkg / "__init__.pyi").read_text()
    for name in ("class AudioEngine", "class AudioMessage", "def play_sample",
                 "def receive_msg", "NUM_SAMPLES: int"):
        assert name in stub
    for name in ("__main__.py", "player.py"):
        assert (pkg / name).is_file()
    # The JACK rig is a test tool (tests/rig/rig.py), not part of the package.
    assert not (pkg / "_rig.py").exists()
    assert list(pkg.glob("_native*.so")), "the C extension is not installed"


def test_api_engine_is_c_type():
    # play_sample is a C method (no Python wrapper in between).
    assert type(AudioEngine.play_sample).__name__ == "method_descriptor"
    assert not inspect.isfunction(AudioEngine.play_sample)


def test_api_docstrings():
    assert fl.__doc__ and AudioEngine.__doc__ and AudioMessage.__doc__
    for name in ("run", "shut_down", "load_sample", "play_sample", "stop_sample", "stop_all",
                 "unload_sample", "set_volume", "set_speed", "ping", "receive_msg", "stats"):
        doc = getattr(AudioEngine, name).__doc__
        assert doc and len(doc) > 20, name
    for kind in MESSAGE_KINDS:
        assert getattr(AudioMessage, kind).__doc__, kind


def test_api_signatures():
    sig = inspect.signature(AudioEngine.play_sample)
    assert list(sig.parameters)[1:] == ["id", "volume", "at_frame", "quantize"]
    assert sig.parameters["volume"].default == 1.0
    for name in ("at_frame", "quantize"):
        assert sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert sig.parameters[name].default is None
    assert inspect.signature(AudioEngine.anchor_transport).parameters["frame"].default is None
    for name, params in (("play_sample_exclusive", ["id", "volume"]),
                         ("set_master_bpm", ["bpm"]), ("set_beats_per_bar", ["n"]),
                         ("anchor_transport", ["frame"]), ("transport", []),
                         ("set_trigger_quantization", ["mode"]),
                         ("pause_sample", ["id"]), ("resume_sample", ["id"]),
                         ("seek_sample", ["id", "position_s"]),
                         ("set_pad_gain", ["id", "gain_db"]),
                         ("set_pad_speed", ["id", "speed"]),
                         ("set_pad_loop_region", ["id", "start_s", "end_s"]),
                         ("sample_info", ["id"])):
        sig = inspect.signature(getattr(AudioEngine, name))
        assert list(sig.parameters)[1:] == params, name
        assert len(getattr(AudioEngine, name).__doc__) > 20, name
    assert inspect.signature(AudioEngine.set_pad_loop_region).parameters["end_s"].default is None
    sig = inspect.signature(AudioEngine.load_sample)
    assert list(sig.parameters)[1:] == ["id", "path"]


# -- AudioMessage ---------------------------------------------------------------

@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_message_kinds(kind):
    cls = getattr(AudioMessage, kind)
    assert issubclass(cls, AudioMessage)
    msg = cls()
    assert isinstance(msg, AudioMessage)
    assert isinstance(msg, cls)
    assert cls.__qualname__ == "AudioMessage." + kind
    assert cls.__module__ == "flitzis_looper_rs"
    assert repr(msg).startswith("AudioMessage.%s(" % kind)
    for other in MESSAGE_KINDS:
        if other != kind:
            assert not isinstance(msg, getattr(AudioMessage, other))


def test_message_fields_and_defaults():
    assert AudioMessage.Pong().seq == 0 and AudioMessage.Pong().frame == 0
    s = AudioMessage.Stopped()
    assert s.id is None and s.seq == 0 and s.frame == 0
    s = AudioMessage.Stopped(id=7, seq=3, frame=480)
    assert (s.id, s.seq, s.frame) == (7, 3, 480)
    assert repr(s) == "AudioMessage.Stopped(id=7, seq=3, frame=480)"
    a = AudioMessage.Applied(cmd="play", id=1, value=0.5, frame=128, seq=9)
    assert (a.cmd, a.id, a.value, a.frame, a.seq) == ("play", 1, 0.5, 128, 9)
    d = AudioMessage.DeviceLost(error=-19, reason="No such device")
    assert (d.error, d.reason) == (-19, "No such device")
    assert AudioMessage.XRun(frame=64).frame == 64


def test_message_equality_and_hash():
    assert AudioMessage.Pong(seq=1) == AudioMessage.Pong(seq=1)
    assert AudioMessage.Pong(seq=1) != AudioMessage.Pong(seq=2)
    assert AudioMessage.Ping() != AudioMessage.Pong()
    assert len({AudioMessage.Stopped(id=1), AudioMessage.Stopped(id=1),
                AudioMessage.Stopped(id=None)}) == 2


def test_message_fields_are_read_only():
    s = AudioMessage.Stopped(id=1)
    with pytest.raises(AttributeError):
        s.id = 2


def test_message_constructor_errors():
    with pytest.raises(TypeError):
        AudioMessage.Pong(1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        AudioMessage.Pong(id=3)
    with pytest.raises(TypeError):
        AudioMessage.Stopped(id="three")


# -- AudioEngine construction -------------------------------------------------

def test_engine_construct_defaults(monkeypatch):
    monkeypatch.delenv("FLITZIS_AUDIO_DEVICE", raising=False)
    e = AudioEngine()
    assert e.device == "default"
    assert (e.sample_rate, e.channels, e.period_frames, e.periods, e.rt_priority) == \
        (48000, 2, 128, 2, 70)
    assert e.running is False
    r = repr(e)
    assert "AudioEngine" in r and "'default'" in r and "stopped" in r


def test_engine_construct_opens_nothing(monkeypatch):
    # A device that cannot exist: construction must still succeed.
    before = len(os.listdir("/proc/self/task"))
    e = AudioEngine(device="flz_no_such_pcm")
    assert e.device == "flz_no_such_pcm"
    assert len(os.listdir("/proc/self/task")) == before
    assert e.stats()["running"] is False


def test_engine_device_from_environment(monkeypatch):
    monkeypatch.setenv("FLITZIS_AUDIO_DEVICE", "plughw:7")
    assert AudioEngine().device == "plughw:7"
    assert AudioEngine(device="hw:0,0").device == "hw:0,0"
    monkeypatch.setenv("FLITZIS_AUDIO_DEVICE", "")
    assert AudioEngine().device == "default"


def test_engine_construct_all_keywords():
    e = AudioEngine(device="default", sample_rate=44100, channels=1, period_frames=256,
                    periods=3, rt_priority=0, _trace_commands=True)
    assert (e.sample_rate, e.channels, e.period_frames, e.periods, e.rt_priority) == \
        (44100, 1, 256, 3, 0)


def test_engine_keywords_only():
    with pytest.raises(TypeError):
        AudioEngine("default")
    with pytest.raises(TypeError):
        AudioEngine(bogus=1)


@pytest.mark.parametrize("kwargs, name", [
    ({"sample_rate": 0}, "sample_rate"),
    ({"sample_rate": 7999}, "sample_rate"),
    ({"sample_rate": 10**6}, "sample_rate"),
    ({"sample_rate": -48000}, "sample_rate"),
    ({"channels": 0}, "channels"),
    ({"channels": 9}, "channels"),
    ({"period_frames": 0}, "period_frames"),
    ({"period_frames": 1 << 20}, "period_frames"),
    ({"periods": 1}, "periods"),
    ({"periods": 1000}, "periods"),
    ({"rt_priority": -1}, "rt_priority"),
    ({"rt_priority": 100}, "rt_priority"),
    ({"device": ""}, "device"),
    ({"device": "de\0fault"}, "device"),
])
def test_engine_construct_value_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AudioEngine(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"sample_rate": 48000.0}, {"sample_rate": "48000"}, {"channels": True},
    {"period_frames": None}, {"periods": 2.5}, {"device": 0}, {"device": b"default"},
])
def test_engine_construct_type_errors(kwargs):
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        AudioEngine(**kwargs)


# -- argument checking (independent of the running state) -------------------

@pytest.fixture
def stopped():
    return AudioEngine(device="flz_no_such_pcm")


SLOT_METHODS = ("stop_sample", "unload_sample")


@pytest.mark.parametrize("bad", [-1, 216, 1000, -(10**30), 10**30])
def test_id_out_of_range(stopped, bad):
    msg = "id out of range (expected 0..215, got %d)" % bad
    with pytest.raises(ValueError) as info:
        stopped.play_sample(bad, 0.5)
    assert str(info.value) == msg
    for name in SLOT_METHODS:
        with pytest.raises(ValueError) as info:
            getattr(stopped, name)(bad)
        assert str(info.value) == msg
    with pytest.raises(ValueError) as info:
        stopped.load_sample(bad, "x.wav")
    assert str(info.value) == msg


@pytest.mark.parametrize("bad", [1.0, 0.0, "1", None, True, False, [1], b"\x01"])
def test_id_wrong_type(stopped, bad):
    with pytest.raises(TypeError, match="id"):
        stopped.play_sample(bad, 0.5)
    for name in SLOT_METHODS:
        with pytest.raises(TypeError, match="id"):
            getattr(stopped, name)(bad)
    with pytest.raises(TypeError, match="id"):
        stopped.load_sample(bad, "x.wav")


def test_id_accepts_index_objects(stopped):
    class Slot:
        def __index__(self):
            return 300

    # __index__ objects (numpy integers, ...) are ints: range-checked, not refused.
    with pytest.raises(ValueError, match=r"got 300\)"):
        stopped.play_sample(Slot(), 0.5)


@pytest.mark.parametrize("bad", [-0.01, 1.01, 2, -1, math.nan, math.inf, -math.inf, 10**400])
def test_volume_out_of_range(stopped, bad):
    with pytest.raises(ValueError) as info:
        stopped.play_sample(0, bad)
    assert str(info.value) == "volume out of range"
    with pytest.raises(ValueError) as info:
        stopped.set_volume(bad)
    assert str(info.value) == "volume out of range"


@pytest.mark.parametrize("bad", [0.49, 2.01, 0, 3, math.nan, math.inf, -math.inf])
def test_speed_out_of_range(stopped, bad):
    with pytest.raises(ValueError) as info:
        stopped.set_speed(bad)
    assert str(info.value) == "speed out of range"


@pytest.mark.parametrize("bad", ["0.5", None, True, [0.5], b"x"])
def test_volume_speed_wrong_type(stopped, bad):
    with pytest.raises(TypeError, match="volume"):
        stopped.play_sample(0, bad)
    with pytest.raises(TypeError, match="volume"):
        stopped.set_volume(bad)
    with pytest.raises(TypeError, match="speed"):
        stopped.set_speed(bad)


def test_path_wrong_type(stopped):
    for bad in (None, 3, 1.5, ["a.wav"]):
        with pytest.raises(TypeError, match="path"):
            stopped.load_sample(0, bad)


def test_argument_count_and_keywords(stopped):
    with pytest.raises(TypeError, match="missing required argument 'id'"):
        stopped.play_sample()
    with pytest.raises(TypeError, match="missing required argument 'start_s'"):
        stopped.set_pad_loop_region(0)
    with pytest.raises(TypeError, match="positional"):
        stopped.play_sample(0, 0.5, 1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        stopped.play_sample(0, gain=0.5)
    with pytest.raises(TypeError, match="multiple values"):
        stopped.play_sample(0, 0.5, id=1)
    with pytest.raises(TypeError):
        stopped.stop_all(1)
    with pytest.raises(TypeError):
        stopped.ping(1)
    # Keywords by their documented names reach the running check.
    with pytest.raises(RuntimeError, match="^Audio engine not initialized$"):
        stopped.play_sample(id=0, volume=0.5)
    with pytest.raises(RuntimeError, match="^Audio engine not initialized$"):
        stopped.load_sample(path="x.wav", id=0)


# -- not running ----------------------------------------------------------------

NOT_RUNNING_CALLS = [
    ("load_sample", (0, "x.wav")),
    ("play_sample", (0, 0.5)),
    ("stop_sample", (0,)),
    ("stop_all", ()),
    ("unload_sample", (0,)),
    ("set_volume", (0.5,)),
    ("set_speed", (1.0,)),
    ("ping", ()),
    ("receive_msg", ()),
    ("play_sample", (0,)),
    ("play_sample_exclusive", (0, 0.5)),
    ("pause_sample", (0,)),
    ("resume_sample", (0,)),
    ("seek_sample", (0, 0.0)),
    ("set_pad_gain", (0, -6.0)),
    ("set_pad_speed", (0, 1.5)),
    ("set_pad_loop_region", (0, 0.0, None)),
    ("sample_info", (0,)),
]


@pytest.mark.parametrize("name, args", NOT_RUNNING_CALLS)
def test_not_initialized(stopped, name, args):
    with pytest.raises(fl.NotRunningError) as info:
        getattr(stopped, name)(*args)
    assert str(info.value) == "Audio engine not initialized"


def test_error_types_are_runtime_errors():
    # API.md Part 2: subclasses, so that `except RuntimeError` keeps working.
    for exc in (fl.QueueFullError, fl.NotRunningError, fl.DeviceError):
        assert issubclass(exc, RuntimeError) and exc is not RuntimeError
        assert exc.__module__ == "flitzis_looper_rs"
        assert exc.__name__ in fl.__all__
        assert exc.__doc__
    assert len({fl.QueueFullError, fl.NotRunningError, fl.DeviceError}) == 3


def test_shut_down_when_never_run(stopped):
    stopped.shut_down()
    stopped.shut_down()
    assert stopped.running is False


def test_stats_when_stopped(stopped):
    st = stopped.stats()
    for key in ("sample_rate", "channels", "format", "period_frames", "periods",
                "latency_frames", "latency_ms", "xruns", "xruns_stalled", "rt_priority", "rt_error",
                "voices_playing", "load", "frames", "messages_dropped", "device_lost",
                "running", "memory_locked", "locked_bytes"):
        assert key in st, key
    assert st["running"] is False and st["device_lost"] is False
    assert st["memory_locked"] is False and st["locked_bytes"] == 0
    assert st["voices_playing"] == 0 and st["frames"] == 0 and st["xruns"] == 0
    assert st["xruns_stalled"] == 0


def test_run_bad_device_names_device():
    e = AudioEngine(device="flz_no_such_pcm")
    with pytest.raises(fl.DeviceError) as info:
        e.run()
    text = str(info.value)
    assert "flz_no_such_pcm" in text
    # ALSA's reason follows the device name.
    assert len(text) > len("flz_no_such_pcm") + 10
    assert e.running is False
    with pytest.raises(fl.NotRunningError, match="^Audio engine not initialized$"):
        e.ping()
    e.shut_down()


def test_context_manager_propagates_run_error():
    with pytest.raises(fl.DeviceError, match="flz_no_such_pcm"):
        with AudioEngine(device="flz_no_such_pcm"):
            pytest.fail("the body must not run")  # pragma: no cover
