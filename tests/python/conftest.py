# SPDX-License-Identifier: MIT
"""Shared fixtures of the pytest suite.

The suite tests the INSTALLED package (pip install .), never the source tree.
Tests that need a running engine need a real-time audio device: run the
suite inside the headless rig, which points ALSA at a private JACK server:

    python3 tests/rig/rig.py -- python -m pytest tests/python

Outside the rig those tests are skipped with the reason.
"""

import array
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The rig (tests/rig/rig.py) is part of the test tree, not of the package:
# the tests that start one import it as `rig`.
sys.path.insert(0, os.path.join(REPO, "tests", "rig"))

import flitzis_looper_rs  # noqa: E402  (after REPO: the check below needs both)

_pkg_dir = os.path.dirname(os.path.abspath(flitzis_looper_rs.__file__))
if _pkg_dir.startswith(os.path.join(REPO, "pymodule")):
    raise pytest.UsageError(
        "flitzis_looper_rs was imported from the source tree (%s); the suite tests the "
        "installed wheel: pip install . and run pytest from elsewhere" % _pkg_dir)

RIG_KEYS = ("FLITZIS_AUDIO_DEVICE", "ALSA_CONFIG_PATH")
IN_RIG = all(os.environ.get(k) for k in RIG_KEYS)
NEEDS_RIG = pytest.mark.skipif(
    not IN_RIG,
    reason="needs a real-time audio device: run the suite inside the rig "
           "(python3 tests/rig/rig.py -- python -m pytest tests/python); "
           "FLITZIS_AUDIO_DEVICE and ALSA_CONFIG_PATH are not set")

RATE_HZ = 48000


def wait_for(predicate, timeout_s=2.0, interval_s=0.005):
    """Poll predicate() until it returns a true value or timeout_s passes; return its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def collect_messages(engine, duration_s):
    """All messages that arrive within duration_s."""
    msgs = []
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        m = engine.receive_msg()
        if m is None:
            time.sleep(0.005)
        else:
            msgs.append(m)
    return msgs


def wait_message(engine, kind, timeout_s=2.0, keep=None):
    """The first message of the kind within timeout_s (others go to keep), else None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        m = engine.receive_msg()
        if m is None:
            time.sleep(0.002)
        elif isinstance(m, kind):
            return m
        elif keep is not None:
            keep.append(m)
    return None


def n_tasks():
    """Threads of this process (the engine's C threads included)."""
    return len(os.listdir("/proc/self/task"))


def write_wav(path, samples, n_channels=1, rate_hz=RATE_HZ, sampwidth=2):
    """Write interleaved float samples in [-1, 1] as 16-bit (or 32-bit) PCM WAV."""
    if sampwidth == 2:
        data = array.array("h", [int(round(max(-1.0, min(1.0, x)) * 32767)) for x in samples])
    else:
        data = array.array("i", [int(round(max(-1.0, min(1.0, x)) * 2147483647))
                                 for x in samples])
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(n_channels)
        w.setsampwidth(sampwidth)
        w.setframerate(rate_hz)
        w.writeframes(data.tobytes())
    return str(path)


def sine(n_frames, freq_hz=440.0, amp=0.5, rate_hz=RATE_HZ):
    return [amp * math.sin(2 * math.pi * freq_hz * i / rate_hz) for i in range(n_frames)]


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory):
    """Small test files: WAV (16-bit, 32-bit), and FLAC/AIFF/Ogg/MP3 made with the CLIs
    that are present; also a missing path, a text file, an empty and a truncated WAV."""
    d = tmp_path_factory.mktemp("audio")
    files = {}
    files["wav"] = write_wav(d / "tone.wav", sine(4800))
    files["wav_stereo"] = write_wav(
        d / "stereo.wav", [x for s in sine(2400) for x in (s, -s)], n_channels=2)
    files["wav32"] = write_wav(d / "tone32.wav", sine(4800), sampwidth=4)
    files["wav44k"] = write_wav(d / "tone44k.wav", sine(4410, rate_hz=44100), rate_hz=44100)
    if shutil.which("flac"):
        out = str(d / "tone.flac")
        subprocess.run(["flac", "-s", "-f", "-o", out, files["wav"]], check=True)
        files["flac"] = out
    if shutil.which("sox"):
        out = str(d / "tone.aiff")
        subprocess.run(["sox", files["wav"], out], check=True)
        files["aiff"] = out
    if shutil.which("oggenc"):
        out = str(d / "tone.ogg")
        subprocess.run(["oggenc", "-Q", "-o", out, files["wav"]], check=True)
        files["ogg"] = out
    if shutil.which("lame"):
        out = str(d / "tone.mp3")
        subprocess.run(["lame", "--quiet", files["wav"], out], check=True)
        files["mp3"] = out
    files["missing"] = str(d / "does-not-exist.wav")
    text = d / "notes.txt"
    text.write_text("this is not audio\n" * 20)
    files["text"] = str(text)
    empty = d / "empty.wav"
    empty.write_bytes(b"")
    files["empty"] = str(empty)
    with open(files["wav"], "rb") as f:
        blob = f.read()
    truncated = d / "truncated.wav"
    # The header still claims 4800 frames; only a few remain.
    truncated.write_bytes(blob[:44 + 64])
    files["truncated"] = str(truncated)
    files["dir"] = str(d)
    return files


@pytest.fixture
def engine():
    """A running engine on the rig's device; shut down afterwards."""
    if not IN_RIG:
        pytest.skip(NEEDS_RIG.kwargs["reason"])
    e = flitzis_looper_rs.AudioEngine()
    e.run()
    try:
        yield e
    finally:
        e.shut_down()


def run_python(code, env=None, timeout=60, **kwargs):
    """Run code in a fresh interpreter; returns the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=tempfile.gettempdir(), **kwargs)


def unpack_f32(blob):
    return struct.unpack("<%df" % (len(blob) // 4), blob[: len(blob) - len(blob) % 4])


def read_float_wav(path):
    """(rate, channels, frames as an (n, channels) float32 array, riff_size,
    file_size), checking the RIFF structure by hand: the stdlib wave module
    reads no float WAVs."""
    blob = open(path, "rb").read()
    assert blob[:4] == b"RIFF" and blob[8:12] == b"WAVE"
    riff_size = struct.unpack_from("<I", blob, 4)[0]
    pos = 12
    fmt = data = None
    while pos + 8 <= len(blob):
        cid, size = struct.unpack_from("<4sI", blob, pos)
        body = blob[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", body)
        elif cid == b"data":
            data = body
            assert len(body) == size, "data chunk size past the end of the file"
        pos += 8 + size + (size & 1)
    assert fmt is not None and data is not None
    tag, channels, rate, _, block_align, bits = fmt
    assert tag in (3, 0xFFFE) and bits == 32 and block_align == 4 * channels
    import numpy
    frames = numpy.frombuffer(data, dtype="<f4").reshape(-1, channels)
    return rate, channels, frames, riff_size, len(blob)
