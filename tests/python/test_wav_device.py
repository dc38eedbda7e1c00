# SPDX-License-Identifier: MIT
"""AudioEngine(device="wav:PATH"): real-time playback paced by the monotonic
clock, every frame played written to PATH as a 32-bit float WAV. Needs no rig.

The content is compared with what an offline engine renders for the same
calls. A wav engine renders its first blocks before a play can reach it, so a
play lands at some block boundary k * period_frames, unknown in advance; the
loop used starts with a non-zero frame, so the first non-zero frame of the
file is where the play landed, and from there the file must equal the
offline render from frame 0, sample by sample."""

import time

import numpy
import pytest

from flitzis_looper_rs import AudioEngine, DeviceError

from conftest import RATE_HZ, read_float_wav, run_python, write_wav

N_FRAMES = 4800  # a 0.1 s loop
PERIOD = 128


def pattern():
    """Frame 0 is non-zero, every frame differs from its neighbours; values
    k * 8/32768 are exact floats."""
    return [((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(N_FRAMES)]


@pytest.fixture(scope="module")
def loop_wav(tmp_path_factory):
    d = tmp_path_factory.mktemp("wavdev")
    return write_wav(d / "pattern.wav", pattern())


def test_wav_equals_offline_render(tmp_path, loop_wav):
    out = tmp_path / "out.wav"
    e = AudioEngine(device="wav:%s" % out, channels=1, period_frames=PERIOD)
    e.run()
    e.load_sample(3, loop_wav)
    e.play_sample(3, 0.5)
    time.sleep(0.8)
    e.shut_down()

    rate, channels, got, riff_size, file_size = read_float_wav(out)
    assert (rate, channels) == (RATE_HZ, 1)
    # The header is finalised: the RIFF size covers the whole file.
    assert riff_size == file_size - 8
    got = got[:, 0]
    nz = numpy.flatnonzero(got)
    assert len(nz) > 0, "the play never reached the file"
    first = int(nz[0])
    assert not got[:first].any()
    assert first % PERIOD == 0, "a play applies at a block boundary"
    n = RATE_HZ // 2
    assert len(got) - first >= n, "less than 0.5 s after the play landed"

    with AudioEngine(device="offline", channels=1, period_frames=PERIOD) as off:
        off.load_sample(3, loop_wav)
        off.play_sample(3, 0.5)
        ref = off.render(n)[:, 0]
    assert ref[0] != 0.0
    assert numpy.max(numpy.abs(got[first:first + n] - ref)) <= 1e-6
    # One frame off would not pass.
    assert numpy.max(numpy.abs(got[first + 1:first + n] - ref[:-1])) > 1e-3


def test_wav_paced_by_the_clock(tmp_path):
    out = tmp_path / "paced.wav"
    e = AudioEngine(device="wav:%s" % out, channels=2, period_frames=256)
    t0 = time.monotonic()
    e.run()
    try:
        while e.stats()["frames"] < RATE_HZ:
            assert time.monotonic() - t0 < 30, "1 s of audio did not come within 30 s"
            time.sleep(0.01)
        took = time.monotonic() - t0
        st = e.stats()
    finally:
        e.shut_down()
    total = time.monotonic() - t0
    # Not faster than real time (a direction a loaded machine cannot break).
    assert took >= 0.9, "1.0 s of audio appeared in %.3f s" % took
    assert st["file_dropped_frames"] == 0 and st["file_write_errors"] == 0
    assert st["format"] == "FLOAT_LE" and st["device"] == "wav:%s" % out
    # One period rendered ahead of its deadline, and no mixer delay.
    assert st["latency_frames"] == 256
    assert abs(st["latency_ms"] - 1000.0 * 256 / RATE_HZ) < 1e-9
    _, channels, frames, _, _ = read_float_wav(out)
    assert channels == 2
    # Every frame played is in the file; no more than the clock allowed
    # (plus the one block rendered ahead of its deadline).
    assert RATE_HZ <= len(frames) <= total * RATE_HZ + 256


def test_wav_stats_zero_on_other_devices():
    with AudioEngine(device="offline") as e:
        st = e.stats()
    assert st["file_dropped_frames"] == 0 and st["file_write_errors"] == 0


def test_wav_unwritable_path_is_device_error(tmp_path):
    bad = tmp_path / "no-such-dir" / "x.wav"
    e = AudioEngine(device="wav:%s" % bad)
    with pytest.raises(DeviceError, match="no-such-dir/x.wav"):
        e.run()
    assert not e.running
    assert not bad.exists()


def test_wav_empty_path_is_value_error():
    # Refused at construction: there is no file to name at run().
    with pytest.raises(ValueError, match="wav:PATH"):
        AudioEngine(device="wav:")


def test_wav_restart_writes_a_new_file(tmp_path):
    out = tmp_path / "again.wav"
    e = AudioEngine(device="wav:%s" % out, channels=1)
    for _ in range(2):
        e.run()
        time.sleep(0.1)
        e.shut_down()
        _, _, frames, riff_size, file_size = read_float_wav(out)
        assert riff_size == file_size - 8 and len(frames) > 0


def test_wav_write_errors_counted_and_logged(tmp_path):
    # A file size limit makes the writes past it fail (EFBIG) like a full
    # disk: counted, logged once, and stop still finishes.
    code = r"""
import logging, resource, signal, sys, time
from flitzis_looper_rs import AudioEngine
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%%(message)s")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
e = AudioEngine(device="wav:%s")
e.run()
time.sleep(0.6)
st = e.stats()
e.shut_down()
print("ERRORS", st["file_write_errors"], st["file_dropped_frames"])
""" % (tmp_path / "full.wav")
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("ERRORS")][0]
    errors, dropped = map(int, line.split()[1:])
    assert errors >= 1 and dropped == 0
    logged = [x for x in proc.stdout.splitlines() if "cannot write to" in x]
    assert len(logged) == 1, proc.stdout
    assert "full.wav" in logged[0] and "file_write_errors" in logged[0]
