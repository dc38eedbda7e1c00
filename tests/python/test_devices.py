# SPDX-License-Identifier: MIT
"""AudioEngine.list_devices(): the ALSA PCMs that can play, and that a listed
device really is the one the engine opens.

The hermetic tests write their own ALSA configuration and run in a fresh
interpreter (ALSA reads its configuration once per process and caches it);
the others run inside the rig, whose configuration defines default,
flzjack, flzint, flzs16 and flznull (and flztee with a tee).
"""

import json
import textwrap

import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, Device

from conftest import IN_RIG, NEEDS_RIG, run_python, wait_for, wait_message, write_wav

RIG_DEVICES = {
    "default": "Rig: default output",
    "flzjack": "Rig: the JACK server, FLOAT_LE only",
    "flzint": "Rig: JACK behind integer formats only",
    "flzs16": "Rig: JACK through 16-bit samples",
    "flznull": "Rig: discards everything, not paced",
}


# -- the record type -----------------------------------------------------------

def test_devices_record_type():
    d = Device(("hw:0,0", "Card 0"))
    assert isinstance(d, tuple) and len(d) == 2
    assert (d.name, d.description) == ("hw:0,0", "Card 0")
    name, description = d
    assert (name, description) == ("hw:0,0", "Card 0")
    assert d == ("hw:0,0", "Card 0")
    assert repr(d) == "flitzis_looper_rs.Device(name='hw:0,0', description='Card 0')"
    with pytest.raises(AttributeError):
        d.name = "other"
    assert "Device" in fl.__all__


def test_devices_api_surface():
    assert AudioEngine.list_devices.__doc__ and "Device" in AudioEngine.list_devices.__doc__
    # A staticmethod: callable on the class and on an instance alike.
    assert isinstance(AudioEngine().list_devices(), list)
    stub = __import__("pathlib").Path(fl.__file__).with_name("__init__.pyi").read_text()
    assert "def list_devices() -> List[Device]" in stub
    assert "class Device(Tuple[str, Optional[str]])" in stub


def test_devices_listing_shape():
    devices = AudioEngine.list_devices()
    assert isinstance(devices, list)
    for d in devices:
        assert type(d) is Device
        assert isinstance(d.name, str) and d.name
        assert d.description is None or isinstance(d.description, str)


def test_devices_device_argument_takes_a_record():
    e = AudioEngine(device=Device(("flzjack", "anything")))
    assert e.device == "flzjack"
    with pytest.raises(TypeError, match="Device"):
        AudioEngine(device=3)
    with pytest.raises(TypeError):
        AudioEngine(device=Device((3, None)))


# -- a configuration of our own (no rig needed) ------------------------------------

LIST_SCRIPT = textwrap.dedent("""
    import json, flitzis_looper_rs as fl
    try:
        print(json.dumps([list(d) for d in fl.AudioEngine.list_devices()]))
    except RuntimeError as e:
        print(json.dumps({"error": str(e)}))
""")


def list_with_config(tmp_path, text):
    conf = tmp_path / "asound.conf"
    conf.write_text(text)
    r = run_python(LIST_SCRIPT, env={"ALSA_CONFIG_PATH": str(conf)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_devices_hinted_pcms_in_order(tmp_path):
    got = list_with_config(tmp_path, textwrap.dedent("""
        pcm.first { type null hint.description "First one" }
        pcm.second { type null hint { show on description "Second one" } }
        pcm.unlisted { type null }
        pcm.hidden { type null hint { show off description "not shown" } }
        pcm.!default { type plug slave.pcm "first" hint.description "The default" }
    """))
    assert got == [["first", "First one"], ["second", "Second one"],
                   ["default", "The default"]]


def test_devices_showall_lists_pcms_without_hint(tmp_path):
    got = list_with_config(tmp_path, textwrap.dedent("""
        defaults.namehint.showall on
        pcm.plain { type null }
        pcm.described { type null hint.description "Described" }
    """))
    assert got == [["plain", None], ["described", "Described"]]


def test_devices_empty_configuration(tmp_path):
    assert list_with_config(tmp_path, "# nothing defined\n") == []


def test_devices_broken_configuration_raises(tmp_path):
    got = list_with_config(tmp_path, "pcm.broken { type null \n")
    assert isinstance(got, dict), got
    assert got["error"].startswith("cannot list the ALSA devices: ")


# -- the rig -----------------------------------------------------------------------

@NEEDS_RIG
def test_devices_rig_pcms_listed():
    listed = {d.name: d.description for d in AudioEngine.list_devices()}
    for name, description in RIG_DEVICES.items():
        assert listed.get(name) == description, (name, listed)


@NEEDS_RIG
@pytest.mark.parametrize("name", ["default", "flzjack", "flzint", "flzs16"])
def test_devices_listed_name_runs(name):
    device = next(d for d in AudioEngine.list_devices() if d.name == name)
    with AudioEngine(device=device) as e:
        assert e.device == name
        assert wait_for(lambda: e.stats()["frames"] >= 4800, 3.0), name
        e.ping()
        assert wait_message(e, fl.AudioMessage.Pong) is not None
        st = e.stats()
        assert st["device"] == name and not st["device_lost"]
        if name == "flzjack":
            assert st["format"] == "FLOAT_LE"
        if name == "flzint":
            assert st["format"] != "FLOAT_LE"


@NEEDS_RIG
def test_devices_listed_null_pcm_opens():
    # The null PCM is not paced in real time: open, configure and close only.
    with AudioEngine(device="flznull") as e:
        assert e.stats()["running"] is True
    assert not e.running


N_FRAMES = 4800
TOL = 1e-5  # float32 products of exactly representable values


def ramp_pattern():
    # Multiples of 8/32768: exact in 16-bit WAV and in float32.
    return [((i * 53) % 1601 - 800) * 8 / 32768.0 for i in range(N_FRAMES)]


@NEEDS_RIG
def test_devices_listed_tee_plays_the_sample(tmp_path):
    """A rig with a tee adds flztee to the listing; the engine on that listed
    name writes, frame by frame, the sample it was told to play."""
    import rig as _rig  # tests/rig (conftest puts it on sys.path)

    wav = write_wav(tmp_path / "ramp.wav", ramp_pattern())
    rig = _rig.Rig(tee=True, export_env=True)
    try:
        rig.start()
    except _rig.RigError as err:
        pytest.skip(str(err))
    try:
        listed = {d.name: d for d in AudioEngine.list_devices()}
        assert "flztee" in listed, sorted(listed)
        with AudioEngine(device=listed["flztee"]) as e:
            e.load_sample(0, wav)
            e.play_sample(0, 0.5)
            assert wait_for(lambda: e.stats()["frames"] >= 3 * N_FRAMES, 3.0)
        data = _rig.read_raw(rig.tee_path)
    finally:
        rig.stop()

    left = data[0::2]
    ref = ramp_pattern()
    start = next((i for i, x in enumerate(left) if x != 0.0), None)
    assert start is not None, "the tee holds only silence"
    # Skip the voice's start ramp; then every frame is half the sample's.
    lo, hi = 600, 2 * N_FRAMES
    assert len(left) >= start + hi
    bad = [k for k in range(lo, hi) if abs(left[start + k] - 0.5 * ref[k % N_FRAMES]) > TOL]
    assert not bad, "first mismatch at frame %d: %r vs %r" % (
        bad[0], left[start + bad[0]], 0.5 * ref[bad[0] % N_FRAMES])
