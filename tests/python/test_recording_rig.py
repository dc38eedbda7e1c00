# SPDX-License-Identifier: MIT
"""start_recording() through a real device: inside the rig, a second rig with
a tee (the ALSA file PCM in front of JACK, raw FLOAT_LE, 48 kHz, stereo)
captures every frame the engine commits. The recording, taken by the
recorder thread from the audio thread's ring, must be a run of consecutive
frames of the tee, bit for bit: the device gets the clipped float mix, and
so does the recorder."""
import numpy
import pytest

from flitzis_looper_rs import AudioEngine

from conftest import IN_RIG, NEEDS_RIG, read_float_wav, wait_for

pytestmark = NEEDS_RIG


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


def test_recording_equals_the_tee_bit_for_bit(tee_rig, tmp_path):
    import rig as _rig
    # 0.5 s of stereo noise reaching +-1.5: clipped on the way, and no block
    # of it looks like another, so the recording's place in the tee is one.
    rnd = numpy.random.default_rng(15)
    noise = rnd.uniform(-1.5, 1.5, size=(24000, 2)).astype(numpy.float32)
    path = tmp_path / "rec.wav"
    with AudioEngine(device="default") as e:
        assert e.stats()["format"] == "FLOAT_LE"
        e.load_sample_array(0, noise, 48000)
        e.play_sample(0, 1.0)
        f0 = e.stats()["frames"]
        assert wait_for(lambda: e.stats()["frames"] > f0 + 4800, 5.0)
        e.start_recording(path)
        f1 = e.stats()["frames"]
        assert wait_for(lambda: e.stats()["frames"] > f1 + 0.3 * 48000, 5.0)
        written = e.stop_recording()
        st = e.stats()
        assert st["record_dropped"] == 0 and st["record_write_errors"] == 0
        # Frames after the recording, so that its end lies inside the tee.
        f2 = e.stats()["frames"]
        assert wait_for(lambda: e.stats()["frames"] > f2 + 4800, 5.0)
    rate, channels, rec, riff_size, file_size = read_float_wav(path)
    assert (rate, channels) == (48000, 2) and riff_size == file_size - 8
    assert len(rec) == written >= 0.3 * 48000
    tee = numpy.asarray(_rig.read_raw(tee_rig.tee_path), dtype=numpy.float32).reshape(-1, 2)
    assert len(tee) > len(rec)
    assert numpy.abs(rec).max() == 1.0  # the clipped peaks are in it
    head = rec[:256].view(numpy.uint32)
    tee_bits = tee.view(numpy.uint32)
    at = [i for i in range(len(tee) - len(rec) + 1)
          if numpy.array_equal(tee_bits[i:i + 256], head)]
    assert len(at) == 1, at[:5]
    # Bit for bit over the whole recording (tolerance 0).
    assert numpy.array_equal(tee_bits[at[0]:at[0] + len(rec)], rec.view(numpy.uint32))
