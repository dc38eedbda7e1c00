# SPDX-License-Identifier: MIT
"""load_sample_data(), load_sample_array() and waveform() on the offline device
(no rig): content compared sample by sample with the file path, exactly (the
same frames go through the same conversion), and the waveform against a
numpy scan of every column."""

import logging
import shutil
import struct
import subprocess
import sys

import numpy
import pytest

from flitzis_looper_rs import AudioEngine

RATE = 48000


def write_float_wav(path, frames):
    """A 32-bit float WAV (WAVE_FORMAT_IEEE_FLOAT) of a (frames, channels) float32 array."""
    frames = numpy.ascontiguousarray(frames, dtype="<f4")
    n_ch = frames.shape[1]
    data = frames.tobytes()
    fmt = struct.pack("<HHIIHH", 3, n_ch, RATE_IN, RATE_IN * 4 * n_ch, 4 * n_ch, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)
    return str(path)


def write_int16_wav(path, frames, rate=None):
    frames = numpy.ascontiguousarray(frames, dtype="<i2")
    n_ch = frames.shape[1]
    data = frames.tobytes()
    rate = rate or RATE_IN
    fmt = struct.pack("<HHIIHH", 1, n_ch, rate, rate * 2 * n_ch, 2 * n_ch, 16)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)
    return str(path)


RATE_IN = 44100
N_IN = 6000  # more than one 4096-frame chunk of the loader's pipeline


def noise(n_frames, n_ch, seed, dtype):
    rng = numpy.random.default_rng(seed)
    x = rng.uniform(-0.9, 0.9, size=(n_frames, n_ch)).astype(numpy.float32)
    if dtype == numpy.int16:
        return numpy.round(x * 32000).astype(numpy.int16)
    return x


def render_slot(load, n_frames):
    """Load with load(engine, slot), play at full volume and render n_frames."""
    with AudioEngine(device="offline", channels=2) as e:
        load(e, 7)
        info = e.sample_info(7)
        e.play_sample(7, 1.0)
        return info, e.render(n_frames)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int16])
@pytest.mark.parametrize("n_ch", [1, 2, 6])
def test_array_equals_the_same_frames_as_a_wav(tmp_path, dtype, n_ch):
    x = noise(N_IN, n_ch, 10 + n_ch, dtype)
    if dtype == numpy.float32:
        path = write_float_wav(tmp_path / "x.wav", x)
    else:
        path = write_int16_wav(tmp_path / "x.wav", x)
    array = x[:, 0] if n_ch == 1 else x  # shape (frames,) for mono
    info_f, from_file = render_slot(lambda e, s: e.load_sample(s, path), 7000)
    info_a, from_array = render_slot(lambda e, s: e.load_sample_array(s, array, RATE_IN), 7000)
    assert info_a.n_frames == info_f.n_frames == round(N_IN * RATE / RATE_IN)
    assert info_a.source_sample_rate == RATE_IN
    assert numpy.abs(from_file).max() > 0.1  # the sample sounds (a loop past its end)
    # Bit for bit: the same frames through the same pipeline in the same chunks.
    assert numpy.array_equal(from_array, from_file)


def test_array_with_nonfinite_values_is_refused(tmp_path):
    # A NaN or an infinity in the caller's own array is a bug in its data:
    # refused, naming where (a file's are replaced and logged instead).
    for value, word in ((numpy.nan, "NaN"), (numpy.inf, "+inf"), (-numpy.inf, "-inf")):
        with AudioEngine(device="offline", channels=2) as e:
            e.load_sample_array(2, noise(500, 2, 1, numpy.float32), RATE)
            before = snapshot(e, 2)
            x = noise(N_IN, 2, 3, numpy.float32)
            x[20, 1] = value
            x[30, 0] = numpy.nan
            with pytest.raises(ValueError) as exc:
                e.load_sample_array(2, x, RATE_IN)
            assert str(exc.value) == "array contains %s at frame 20, channel 1" % word
            assert_unchanged(e, before)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    d = tmp_path_factory.mktemp("encoded")
    x = noise(N_IN, 2, 5, numpy.int16)
    wav = write_int16_wav(d / "x.wav", x)
    files = {"wav": wav}
    if shutil.which("sox"):
        flac = str(d / "x.flac")
        subprocess.run(["sox", wav, flac], check=True)
        files["flac"] = flac
    return files


@pytest.mark.parametrize("kind", ["wav", "flac"])
@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_data_equals_load_sample(encoded, kind, wrap):
    if kind not in encoded:
        pytest.skip("sox is needed to make the FLAC file")
    path = encoded[kind]
    with open(path, "rb") as f:
        data = wrap(f.read())
    info_f, from_file = render_slot(lambda e, s: e.load_sample(s, path), 7000)
    info_d, from_data = render_slot(lambda e, s: e.load_sample_data(s, data), 7000)
    assert info_d.n_frames == info_f.n_frames and info_d.source_sample_rate == RATE_IN
    assert numpy.abs(from_file).max() > 0.1
    assert numpy.array_equal(from_data, from_file)


def brute_force(frames, start, end, width):
    """Min and max of the mono mix (sum of channels in order, times 1/channels) per column."""
    mono = frames[:, 0].copy()
    for c in range(1, frames.shape[1]):
        mono = mono + frames[:, c]
    if frames.shape[1] > 1:
        mono = mono * numpy.float32(1.0 / frames.shape[1])
    n = end - start
    out = numpy.empty((width, 2), dtype=numpy.float32)
    for i in range(width):
        a = start + i * n // width
        b = max(start + (i + 1) * n // width, a + 1)
        out[i] = (mono[a:b].min(), mono[a:b].max())
    return out


def test_waveform_equals_a_scan_of_every_column():
    n = 100003
    x = noise(n, 2, 9, numpy.float32)
    x[n // 3] = (1.5, 1.5)  # isolated peaks, where a wrong block shows
    x[n - 1] = (-1.25, -1.25)
    with AudioEngine(device="offline", channels=2) as e:
        # At the engine's rate and channels the sample holds the frames as given.
        e.load_sample_array(3, x, RATE)
        cases = [(0, n, 1), (0, n, 800), (0, n, 150000), (n - 1, n, 1), (n - 1, n, 5),
                 (n // 2, n // 2 + 1, 3), (12345, 67890, 777), (64, 128, 1), (63, 129, 2)]
        rng = numpy.random.default_rng(1)
        for _ in range(30):
            a = int(rng.integers(0, n))
            cases.append((a, int(rng.integers(a + 1, n + 1)), int(rng.integers(1, 2000))))
        for start, end, width in cases:
            got = e.waveform(3, width, start / RATE, end / RATE)
            assert got.shape == (width, 2) and got.dtype == numpy.float32
            want = brute_force(x, start, end, width)
            assert numpy.array_equal(got, want), (start, end, width)
        whole = e.waveform(3, 10)
        assert numpy.array_equal(whole, brute_force(x, 0, n, 10))
        assert whole.max() == numpy.float32(1.5) and whole.min() == numpy.float32(-1.25)
        assert numpy.array_equal(e.waveform(3, 10, start_s=0.5), brute_force(x, RATE // 2, n, 10))


def test_waveform_exact_with_odd_edges_at_every_level():
    """Column edges on, one before and one after a multiple of each level's
    block of the summary (16, 256, 4096, 65536 frames), with columns of
    about one block and of 17 blocks (pairs at both ends of that level and
    of those below), and to the sample's end: equal to numpy's scan."""
    n = 18 * 65536 + 4096 + 256 + 16 + 5
    x = noise(n, 2, 15, numpy.float32)
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample_array(0, x, RATE)
        for size in (16, 256, 4096, 65536):
            for d0 in (-1, 0, 1):
                for d1 in (-1, 0, 1):
                    for length in (size + d1, 17 * size + d1):
                        start = size + d0
                        width = min(12, (n - start) // length)
                        end = start + width * length
                        got = e.waveform(0, width, start / RATE, end / RATE)
                        assert numpy.array_equal(got, brute_force(x, start, end, width)), \
                            (size, start, end, width)
                start = (n - 1) // size * size - 17 * size + d0
                got = e.waveform(0, 3, start / RATE, None)
                assert numpy.array_equal(got, brute_force(x, start, n, 3)), (size, start)


def test_waveform_of_converted_samples(tmp_path):
    """A converted sample's summary is the summary of what the slot holds: the
    file and the array of the same frames, equal as stored, give equal
    waveforms, and a mono source mapped to stereo gives the mono source's
    own converted waveform on both channels' mean."""
    x = noise(N_IN, 2, 21, numpy.int16)
    path = write_int16_wav(tmp_path / "s.wav", x)
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample(0, path)
        e.load_sample_array(1, x, RATE_IN)
        for width in (1, 300, 10000):
            a, b = e.waveform(0, width), e.waveform(1, width)
            assert numpy.array_equal(a, b)
            assert (a[:, 0] <= a[:, 1]).all()
        assert e.waveform(0, 1).max() > 0.3
        # Mono to stereo copies the channel: the mean is the channel itself,
        # so its waveform equals the one of a stereo array of two equal channels.
        m = numpy.ascontiguousarray(x[:, :1])
        e.load_sample_array(2, m, RATE_IN)
        e.load_sample_array(3, numpy.repeat(m, 2, axis=1), RATE_IN)
        assert numpy.array_equal(e.waveform(2, 500), e.waveform(3, 500))


def snapshot(e, slot):
    info = e.sample_info(slot)
    return info, (e.waveform(slot, 16) if info is not None else None)


def assert_unchanged(e, before):
    info, wave = snapshot(e, 2)
    assert info == before[0]
    assert numpy.array_equal(wave, before[1])


BAD_ARRAYS = [
    (numpy.zeros((100, 2), dtype=numpy.float64), "dtype must be float32 or int16"),
    (numpy.zeros((100, 2), dtype=numpy.int32), "dtype must be float32 or int16"),
    (numpy.zeros((10, 2, 2), dtype=numpy.float32), "shape (frames,) or (frames, channels)"),
    (numpy.zeros((), dtype=numpy.float32), "shape (frames,) or (frames, channels)"),
    (numpy.zeros((200, 2), dtype=numpy.float32)[::2], "C-contiguous"),
    (numpy.zeros((100, 4), dtype=numpy.float32)[:, :2], "C-contiguous"),
    (numpy.zeros((100, 2), dtype=numpy.int16)[:, :1], "C-contiguous"),
    (memoryview(numpy.zeros((200, 2), dtype=numpy.float32))[::2], "C-contiguous"),
    (numpy.asfortranarray(numpy.zeros((100, 2), dtype=numpy.float32)), "C-contiguous"),
    (numpy.zeros((0, 2), dtype=numpy.float32), "empty"),
    (numpy.zeros(0, dtype=numpy.int16), "empty"),
    (numpy.zeros((100, 9), dtype=numpy.float32), "9 channels"),
    (numpy.zeros((100, 0), dtype=numpy.float32), "0 channels"),
]


@pytest.mark.parametrize("array,phrase", BAD_ARRAYS)
def test_bad_arrays_raise_value_error_and_change_nothing(array, phrase):
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample_array(2, noise(500, 2, 1, numpy.float32), RATE)
        before = snapshot(e, 2)
        with pytest.raises(ValueError) as exc:
            e.load_sample_array(2, array, RATE)
        assert phrase in str(exc.value)
        assert str(exc.value).startswith("array ")  # ours, naming the argument
        assert_unchanged(e, before)


def test_bad_arguments_of_load_sample_array():
    x = noise(500, 2, 1, numpy.float32)
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample_array(2, x, RATE)
        before = snapshot(e, 2)
        for rate in (0, 7999, 384001, -1, 2**70):
            with pytest.raises(ValueError, match="sample_rate out of range"):
                e.load_sample_array(2, x, rate)
        for rate in (48000.0, True, "48000", None):
            with pytest.raises(TypeError, match="sample_rate must be an int"):
                e.load_sample_array(2, x, rate)
        for bad in ("abc", b"\0" * 8, bytearray(8), [0.0, 1.0], None):
            with pytest.raises(TypeError, match="array must be"):
                e.load_sample_array(2, bad, RATE)
        with pytest.raises(ValueError, match="id out of range"):
            e.load_sample_array(216, x, RATE)
        assert_unchanged(e, before)


def test_bad_data_raises_value_error_and_changes_nothing():
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample_array(2, noise(500, 2, 1, numpy.float32), RATE)
        before = snapshot(e, 2)
        cases = [(b"", "empty file"), (bytearray(), "empty file"),
                 (b"not audio at all" * 10, "not an audio file"),
                 (memoryview(b"RIFF" * 64)[::2], "contiguous")]
        for data, phrase in cases:
            with pytest.raises(ValueError) as exc:
                e.load_sample_data(2, data)
            assert phrase in str(exc.value), str(exc.value)
            assert_unchanged(e, before)
        for bad in ("RIFF", 123, None, [1, 2]):
            with pytest.raises(TypeError, match="data must be bytes, bytearray or memoryview"):
                e.load_sample_data(2, bad)
        assert_unchanged(e, before)


def test_waveform_bad_arguments():
    with AudioEngine(device="offline", channels=2) as e:
        e.load_sample_array(2, noise(4800, 2, 1, numpy.float32), RATE)  # 0.1 s
        for width in (0, -1, 2**20 + 1):
            with pytest.raises(ValueError, match="width out of range"):
                e.waveform(2, width)
        with pytest.raises(TypeError, match="width must be an int"):
            e.waveform(2, 10.0)
        for start in (0.1, 0.2, -0.01, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="start_s out of range"):
                e.waveform(2, 10, start)
        for start, end in ((0.05, 0.05), (0.05, 0.04), (0.0, 0.11), (0.0, float("nan"))):
            with pytest.raises(ValueError, match="end_s out of range"):
                e.waveform(2, 10, start, end)
        with pytest.raises(ValueError, match="slot 5 is empty"):
            e.waveform(5, 10)
        e.unload_sample(2)
        with pytest.raises(ValueError, match="slot 2 is empty"):
            e.waveform(2, 10)
