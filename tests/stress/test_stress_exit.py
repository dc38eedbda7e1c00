# SPDX-License-Identifier: MIT
"""Engines that are never shut down: dropped by the garbage collector, or
left playing when the interpreter exits.

The API promises that garbage collection and interpreter exit do what
shut_down() does. Here that means: the engine's threads (flz-audio,
flz-house) are gone after the collection, the device can be opened again,
and an interpreter that exits while audio plays returns 0 promptly (a
subprocess with a timeout) without an error on stderr.
"""

import gc
import subprocess
import sys
import tempfile
import time

import pytest

from stresskit import applied, assert_xruns_recovered, fl, pump, thread_names, wait_until, write_wav

EXIT_TIMEOUT_S = 30


def engine_threads():
    """Names of this process's threads that belong to an engine."""
    return sorted(name for name in thread_names().values() if name.startswith("flz-"))


def test_stress_engine_dropped_without_shut_down(rig_env, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 4800, 2)
    assert engine_threads() == [], "an engine of an earlier test is still running"
    for _ in range(3):
        engine = fl.AudioEngine(_trace_commands=True)
        engine.run()
        engine.load_sample(0, path)
        engine.play_sample(0, 0.3)
        msgs = pump(engine, 0.2)
        assert [m.cmd for m in applied(msgs)] == ["load", "play"]
        # The audio and housekeeping threads and the loader pool's workers
        # (load_workers, 2 by default) are all the engine's.
        assert engine_threads() == ["flz-audio", "flz-house", "flz-load", "flz-load"]
        # A reference cycle, so that only the collector can free it.
        holder = {"engine": engine}
        holder["self"] = holder
        del engine, holder
        gc.collect()
        assert wait_until(lambda: engine_threads() == [], 5.0), (
            "engine threads survive the collection: %r" % engine_threads())

    # The device is free again.
    engine = fl.AudioEngine()
    engine.run()
    try:
        engine.load_sample(0, path)
        engine.play_sample(0, 0.3)
        pump(engine, 0.2)
        stats = engine.stats()
    finally:
        engine.shut_down()
    assert stats["voices_playing"] == 1, stats
    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats)


EXIT_SCRIPT = r"""
import sys, threading, time
import flitzis_looper_rs as fl

ending = sys.argv[1]
path = sys.argv[2]
engine = fl.AudioEngine()
engine.run()
engine.load_sample(0, path)
engine.load_sample(1, path)
engine.play_sample(0, 0.3)
engine.play_sample(0, 0.2)

deadline = time.monotonic() + 0.3
while time.monotonic() < deadline:
    engine.receive_msg()
    time.sleep(0.01)
stats = engine.stats()
assert stats["voices_playing"] == 2, stats
print("playing", stats["frames"], flush=True)

if ending == "busy-thread":
    # A daemon thread keeps calling the engine while the interpreter exits.
    def hammer():
        while True:
            try:
                engine.play_sample(1, 0.1)
                engine.stop_sample(1)
                engine.receive_msg()
            except RuntimeError:
                pass  # shut down under our feet: expected at exit
    threading.Thread(target=hammer, daemon=True).start()
    time.sleep(0.2)


if ending == "exit":
    sys.exit(0)
elif ending == "cycle":
    holder = {"engine": engine}
    holder["self"] = holder
    del engine, holder
# "fall-off", "busy-thread", "cycle": the script ends here with audio playing.
"""


@pytest.mark.parametrize("ending", ["fall-off", "exit", "cycle", "busy-thread"])
def test_stress_interpreter_exits_while_playing(rig_env, tmp_path, ending):
    path = write_wav(tmp_path / "loop.wav", 4800, 2)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, ending, path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=EXIT_TIMEOUT_S, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        pytest.fail("the interpreter did not exit within %d s (ending %s)"
                    % (EXIT_TIMEOUT_S, ending))
    took_s = time.monotonic() - t0
    print("\nexit (%s): rc %d in %.2f s" % (ending, proc.returncode, took_s))
    assert proc.returncode == 0, "rc %d\nstdout: %s\nstderr: %s" % (
        proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout.startswith("playing "), proc.stdout
    for bad in ("Traceback", "Fatal Python error", "Segmentation", "Exception ignored"):
        assert bad not in proc.stderr, proc.stderr
