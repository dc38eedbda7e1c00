# SPDX-License-Identifier: MIT
"""Bad files loaded while samples play.

Truncated WAVs, random bytes, headers that claim huge sizes or nonsense
formats, a text file named .wav, an empty file, a directory and a missing
path are loaded over and over into an occupied slot while two voices play.
Each load must raise FileNotFoundError (missing) or ValueError whose message
names the file and says what is wrong; the slot keeps its sample; playback
goes on without an xrun. The fuzzers' regression and seed files
(tests/fuzz/) are loaded too: each either loads or raises ValueError.
"""

import glob
import os
import random
import struct

import pytest

from stresskit import ROOT, applied, assert_xruns_recovered, drain, fl, pump, write_wav

ROUNDS = 10


def wav_header(n_channels=2, rate_hz=48000, bits=16, data_bytes=0, riff_bytes=None,
               fmt_tag=1):
    block_align = n_channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, n_channels, rate_hz, rate_hz * block_align,
                      block_align, bits)
    if riff_bytes is None:
        riff_bytes = 4 + 8 + len(fmt) + 8 + data_bytes
    return (b"RIFF" + struct.pack("<I", riff_bytes & 0xFFFFFFFF) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_bytes & 0xFFFFFFFF))


def make_bad_files(d, good_path):
    """{name: (path, exception type, words one of which the message must contain)}."""
    rng = random.Random(7)
    with open(good_path, "rb") as f:
        good = f.read()
    bad = {}

    def put(name, blob, exc=ValueError, words=("corrupt", "truncated", "not", "unsupported",
                                                 "invalid", "error", "empty", "no audio")):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(blob)
        bad[name] = (path, exc, words)

    # The header announces 48000 frames; 1200 remain.
    put("truncated-data.wav", good[:44 + 1200 * 4], words=("truncated",))
    put("truncated-header.wav", good[:30])
    put("random-bytes.wav", bytes(rng.randrange(256) for _ in range(65536)))
    put("random-after-header.wav", good[:12] + bytes(rng.randrange(256) for _ in range(4096)))
    # Sizes far beyond what the file holds (0xFFFFFFFF itself means
    # "unknown length" to streaming writers and is accepted).
    put("huge-data-size.wav", wav_header(data_bytes=0xFFFFFFF0) + good[44:44 + 4096],
        words=("truncated",))
    put("huge-riff-and-data.wav",
        wav_header(data_bytes=0x7FFFFFF0, riff_bytes=0xFFFFFFF0) + good[44:44 + 4096],
        words=("truncated",))
    put("zero-channels.wav", wav_header(n_channels=0, data_bytes=4096) + bytes(4096))
    put("zero-rate.wav", wav_header(rate_hz=0, data_bytes=4096) + bytes(4096))
    put("absurd-channels.wav", wav_header(n_channels=4000, data_bytes=64000) + bytes(64000))
    put("bad-format-tag.wav", wav_header(fmt_tag=0x7777, data_bytes=4096) + bytes(4096))
    put("header-only.wav", wav_header(data_bytes=0))
    put("text-named.wav", b"this is a shopping list, not audio\n" * 40)
    put("empty.wav", b"")
    bad["directory.wav"] = (os.path.join(d, "directory.wav"), ValueError,
                            ("directory", "not a regular file"))
    os.mkdir(bad["directory.wav"][0])
    bad["missing.wav"] = (os.path.join(d, "missing.wav"), FileNotFoundError,
                          ("no such file", "not found", "does not exist"))
    return bad


def fuzz_files():
    """The fuzzers' regression files and, when present, their seed corpora."""
    found = []
    for pattern in ("tests/fuzz/regressions/*", "tests/fuzz/seeds/*", "tests/fuzz/corpus/*"):
        found += glob.glob(os.path.join(ROOT, pattern))
    extra = os.environ.get("FLZ_FUZZ_SEEDS")
    if extra:
        found += glob.glob(os.path.join(extra, "*"))
    return sorted(p for p in found if os.path.isfile(p))


def test_stress_bad_files_while_playing(rig_env, tmp_path):
    good = write_wav(tmp_path / "good.wav", 48000, 2)
    loop = write_wav(tmp_path / "loop.wav", 9600, 2, freq_hz=330.0)
    bad = make_bad_files(str(tmp_path), good)
    fuzz = fuzz_files()
    engine = fl.AudioEngine(_trace_commands=True)
    msgs = []
    outcomes = {}
    fuzz_loaded = 0
    engine.run()
    try:
        engine.load_sample(0, loop)
        engine.load_sample(5, good)
        engine.play_sample(0, 0.3)
        engine.play_sample(5, 0.3)
        pump(engine, 0.2, msgs)
        frames0 = engine.stats()["frames"]
        for _ in range(ROUNDS):
            for name, (path, exc_type, words) in bad.items():
                with pytest.raises(Exception) as info:
                    engine.load_sample(5, path)
                outcomes[name] = info.value
                drain(engine, msgs)
        for path in fuzz:
            # Into an empty slot: a file that does decode must not replace slot 5.
            try:
                engine.load_sample(9, path)
                fuzz_loaded += 1
            except ValueError as exc:
                assert str(exc), "empty message for %s" % path
            drain(engine, msgs)
        # Slot 5 still holds the good sample: a new trigger plays it.
        engine.play_sample(5, 0.3)
        engine.ping()
        pump(engine, 0.3, msgs)
        stats = engine.stats()
    finally:
        engine.shut_down()

    print("\nbad files: %d kinds x %d rounds refused, %d fuzz files (%d loaded), xruns %d"
          % (len(bad), ROUNDS, len(fuzz), fuzz_loaded, stats["xruns"]))
    for name, exc in outcomes.items():
        path, exc_type, words = bad[name]
        text = str(exc)
        assert type(exc) is exc_type, "%s: %r" % (name, exc)
        assert any(w in text.lower() for w in words), "%s: unclear reason %r" % (name, text)
        if exc_type is FileNotFoundError:
            assert exc.filename == path, exc
        else:
            assert name in text, "%s: the message does not name the file: %r" % (name, text)
    # Only the good loads were applied; failed loads changed nothing.
    assert len(applied(msgs, "load")) == 2 + fuzz_loaded
    assert [m.id for m in applied(msgs, "play")] == [0, 5, 5]
    assert stats["voices_playing"] == 3, stats
    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats)
    assert stats["messages_dropped"] == 0 and not stats["device_lost"], stats
    assert stats["frames"] > frames0
