# SPDX-License-Identifier: MIT
"""start_recording() / stop_recording() on the offline device (needs no rig):
render() feeds the recorder, so the file must hold exactly what render()
returned while recording, bit for bit."""
import os

import numpy
import pytest

import flitzis_looper_rs
from flitzis_looper_rs import AudioEngine
from conftest import read_float_wav, run_python

RATE_HZ = 48000


def loud_loop():
    """A stereo loop whose peaks exceed 1.0 (the recording must be the
    clipped mix, as render() returns it) and whose channels differ."""
    t = numpy.arange(4800, dtype=numpy.float64)
    left = 1.5 * numpy.sin(2 * numpy.pi * 440 * t / RATE_HZ)
    right = 0.25 * numpy.sin(2 * numpy.pi * 1000 * t / RATE_HZ)
    return numpy.stack([left, right], axis=1).astype(numpy.float32)


@pytest.fixture
def engine():
    e = AudioEngine(device="offline", sample_rate=RATE_HZ)
    e.run()
    e.load_sample_array(0, loud_loop(), RATE_HZ)
    yield e
    e.shut_down()


def test_recording_equals_render_bit_for_bit(engine, tmp_path):
    path = tmp_path / "rec.wav"
    engine.play_sample(0, 1.0)
    before = engine.render(500)  # not recorded
    assert numpy.any(before != 0)
    engine.start_recording(str(path))
    assert engine.stats()["recording"] is True
    # Uneven sizes: blocks are cut at the period, the recording at none.
    parts = [engine.render(n) for n in (1, 127, 128, 1000, 3001, 77)]
    written = engine.stop_recording()
    after = engine.render(300)  # not recorded either
    assert numpy.any(after != 0)
    expected = numpy.concatenate(parts)
    assert written == len(expected) == 4334
    st = engine.stats()
    assert st["recording"] is False
    assert st["record_dropped"] == 0 and st["record_write_errors"] == 0
    rate, channels, frames, riff_size, file_size = read_float_wav(path)
    assert (rate, channels) == (RATE_HZ, 2)
    # The header was finalised: RIFF size is the file's, less 8.
    assert riff_size == file_size - 8
    assert frames.shape == expected.shape
    # Bit for bit (tolerance 0), compared as integers so that -0.0 != 0.0.
    assert numpy.array_equal(frames.view(numpy.uint32), expected.view(numpy.uint32))
    # The loop's peaks were clipped to exactly 1.0 in both.
    assert frames[:, 0].max() == 1.0 and frames[:, 0].min() == -1.0


def test_a_second_recording_rewrites_and_counts_afresh(engine, tmp_path):
    engine.play_sample(0, 1.0)
    first = tmp_path / "a.wav"
    engine.start_recording(first)  # os.PathLike
    engine.render(1000)
    assert engine.stop_recording() == 1000
    second = tmp_path / "b.wav"
    engine.start_recording(os.fsencode(second))  # bytes
    out = engine.render(256)
    assert engine.stop_recording() == 256
    _, _, frames, _, _ = read_float_wav(second)
    assert numpy.array_equal(frames.view(numpy.uint32), out.view(numpy.uint32))
    assert read_float_wav(first)[2].shape == (1000, 2)


def test_start_while_recording_changes_nothing(engine, tmp_path):
    path = tmp_path / "rec.wav"
    other = tmp_path / "other.wav"
    engine.start_recording(str(path))
    a = engine.render(200)
    with pytest.raises(RuntimeError, match="^already recording$"):
        engine.start_recording(str(other))
    assert not other.exists()
    b = engine.render(100)
    assert engine.stop_recording() == 300
    _, _, frames, _, _ = read_float_wav(path)
    assert numpy.array_equal(frames, numpy.concatenate([a, b]))


def test_stop_when_not_recording_returns_zero(engine):
    assert engine.stop_recording() == 0
    assert engine.stats()["recording"] is False


def test_shut_down_finalises_the_recording(tmp_path):
    path = tmp_path / "rec.wav"
    e = AudioEngine(device="offline", sample_rate=RATE_HZ)
    e.run()
    e.load_sample_array(0, loud_loop(), RATE_HZ)
    e.play_sample(0, 1.0)
    e.start_recording(str(path))
    out = e.render(2000)
    e.shut_down()
    _, _, frames, riff_size, file_size = read_float_wav(path)
    assert riff_size == file_size - 8
    assert numpy.array_equal(frames, out)
    assert e.stats()["recording"] is False


def test_bad_paths_raise_and_change_nothing(engine, tmp_path):
    missing = tmp_path / "no-such-dir" / "rec.wav"
    with pytest.raises(FileNotFoundError) as info:
        engine.start_recording(str(missing))
    assert info.value.filename == str(missing) and "no-such-dir" in str(info.value)
    with pytest.raises(IsADirectoryError):
        engine.start_recording(str(tmp_path))
    with pytest.raises(ValueError, match="path must not be empty"):
        engine.start_recording("")
    with pytest.raises(TypeError, match="path must be str, bytes or os.PathLike"):
        engine.start_recording(3)
    with pytest.raises(TypeError):
        engine.start_recording()
    assert engine.stats()["recording"] is False
    assert engine.stop_recording() == 0
    # And a good path works afterwards.
    engine.start_recording(str(tmp_path / "ok.wav"))
    engine.render(10)
    assert engine.stop_recording() == 10


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_directory_is_permission_error(engine, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            engine.start_recording(str(locked / "rec.wav"))
    finally:
        locked.chmod(0o700)
    assert engine.stats()["recording"] is False


def test_not_running(tmp_path):
    e = AudioEngine(device="offline")
    with pytest.raises(flitzis_looper_rs.NotRunningError):
        e.start_recording(str(tmp_path / "rec.wav"))
    assert not (tmp_path / "rec.wav").exists()
    assert e.stop_recording() == 0


def test_full_disk_is_counted_logged_once_and_finalised(tmp_path):
    # RLIMIT_FSIZE makes writes past 64 KiB fail (EFBIG), as a full disk
    # would; in a child, so that the limit binds nothing else.
    path = tmp_path / "full.wav"
    code = r"""
import logging, resource, signal, sys
import numpy
from flitzis_looper_rs import AudioEngine
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%%(message)s")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
e = AudioEngine(device="offline")
e.run()
e.start_recording(%r)
for _ in range(20):
    e.render(4800)  # 20 * 4800 * 8 bytes: far past the limit
written = e.stop_recording()
st = e.stats()
print("RESULT", written, st["record_write_errors"], st["record_dropped"])
e.shut_down()
""" % str(path)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][0]
    written, errors, dropped = map(int, line.split()[1:])
    assert errors >= 1 and dropped == 0
    # What fitted was written and counted, no more (the header's 44+ bytes
    # and the frames below 64 KiB).
    assert 0 < written < 65536 // 8
    logged = [x for x in proc.stdout.splitlines() if "cannot write to" in x]
    assert len(logged) == 1, proc.stdout
    assert "full.wav" in logged[0] and "record_write_errors" in logged[0]
    # Finalised all the same: the header says what the file holds.
    rate, channels, frames, riff_size, file_size = read_float_wav(path)
    assert riff_size == file_size - 8 and len(frames) == written
