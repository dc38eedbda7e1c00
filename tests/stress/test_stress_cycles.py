# SPDX-License-Identifier: MIT
"""Repetition without leaks: FLZ_STRESS_CYCLES (500) run()/shut_down() cycles,
and as many load/unload cycles of a 10 s stereo sample while it plays.

Resident memory (/proc/self/statm) is measured after a warm-up of a few
cycles (allocator arenas, the JACK client library, the decoder's tables) and
must grow by less than 2 MiB over the remaining cycles: one leaked 10 s
stereo sample alone is 3.8 MB, and one leaked engine (rings, mixer, JACK
client) per cycle adds up to far more than that over 500 cycles.
"""

import time

from stresskit import (CYCLES, RATE_HZ, applied, assert_xruns_recovered, drain, fl, pump, rss_bytes,
                       settle_memory, write_wav)

WARMUP_CYCLES = 10
MAX_GROWTH_BYTES = 2 * 1024 * 1024


def test_stress_run_shut_down_cycles(rig_env, tmp_path):
    path = write_wav(tmp_path / "short.wav", 2400, 2)
    engine = fl.AudioEngine(_trace_commands=True)
    base = None
    t0 = time.monotonic()
    for cycle in range(CYCLES + WARMUP_CYCLES):
        engine.run()
        try:
            # Leave something for shut_down() to free: a sample, a voice, a
            # queued ping and its messages.
            engine.load_sample(cycle % fl.NUM_SAMPLES, path)
            engine.play_sample(cycle % fl.NUM_SAMPLES, 0.1)
            engine.ping()
            assert engine.running
        finally:
            engine.shut_down()
        assert not engine.running
        if cycle + 1 == WARMUP_CYCLES:
            settle_memory()
            base = rss_bytes()
    elapsed = time.monotonic() - t0
    settle_memory()
    growth = rss_bytes() - base

    # The engine still works after all that, and plays what it is told.
    engine.run()
    try:
        engine.load_sample(0, path)
        engine.play_sample(0, 0.5)
        engine.ping()
        msgs = pump(engine, 0.3)
        stats = engine.stats()
    finally:
        engine.shut_down()
    print("\nrun/shut_down: %d cycles in %.1f s, RSS growth after warm-up %+d bytes"
          % (CYCLES, elapsed, growth))
    assert [m.cmd for m in applied(msgs)] == ["load", "play", "ping"], msgs
    assert stats["voices_playing"] == 1, stats
    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats)
    assert growth < MAX_GROWTH_BYTES, (
        "RSS grew by %d bytes over %d run/shut_down cycles" % (growth, CYCLES))


def test_stress_load_unload_cycles_large_sample(rig_env, tmp_path):
    n_frames = 10 * RATE_HZ
    big = write_wav(tmp_path / "big.wav", n_frames, 2)
    small = write_wav(tmp_path / "small.wav", 4800, 2, freq_hz=660.0)
    engine = fl.AudioEngine(_trace_commands=True)
    msgs = []
    base = None
    engine.run()
    try:
        # Something plays the whole time in another slot.
        engine.load_sample(200, small)
        engine.play_sample(200, 0.2)
        t0 = time.monotonic()
        for cycle in range(CYCLES + WARMUP_CYCLES):
            engine.load_sample(5, big)
            if cycle % 2 == 0:
                # Every other cycle the sample also plays before it goes.
                engine.play_sample(5, 0.3)
            engine.unload_sample(5)
            drain(engine, msgs)
            if cycle + 1 == WARMUP_CYCLES:
                pump(engine, 0.1, msgs)
                settle_memory()
                base = rss_bytes()
        elapsed = time.monotonic() - t0
        engine.ping()
        pump(engine, 0.2, msgs)
        settle_memory()
        growth = rss_bytes() - base
        stats = engine.stats()
    finally:
        engine.shut_down()
    n_cycles = CYCLES + WARMUP_CYCLES
    print("\nload/unload: %d cycles of a %.1f MB sample in %.1f s, RSS growth after warm-up "
          "%+d bytes, xruns %d" % (CYCLES, n_frames * 2 * 4 / 1e6, elapsed, growth,
                                   stats["xruns"]))
    assert len(applied(msgs, "load")) == 1 + n_cycles
    assert len(applied(msgs, "unload")) == n_cycles
    # Each played-then-unloaded sample reports its silenced voice.
    n_stopped = sum(isinstance(m, fl.AudioMessage.Stopped) and m.id == 5 for m in msgs)
    assert n_stopped == (n_cycles + 1) // 2, n_stopped
    assert stats["voices_playing"] == 1, stats
    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats)
    assert stats["messages_dropped"] == 0, stats
    assert growth < MAX_GROWTH_BYTES, (
        "RSS grew by %d bytes over %d load/unload cycles of a %d-frame stereo sample"
        % (growth, CYCLES, n_frames))
