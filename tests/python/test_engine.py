# SPDX-License-Identifier: MIT
"""A running engine on the rig's real-time device: lifecycle, loading,
commands, messages, stats, threads, garbage collection and exit."""

import errno
import gc
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref

import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioEngine, AudioMessage

from conftest import (IN_RIG, NEEDS_RIG, collect_messages, n_tasks, run_python, sine,
                      wait_for, wait_message, write_wav)

pytestmark = NEEDS_RIG

FULL = "command buffer is full"


# -- lifecycle -------------------------------------------------------------------

def test_lifecycle_run_and_shut_down():
    before = n_tasks()
    e = AudioEngine()
    e.run()
    try:
        assert e.running is True
        assert n_tasks() > before  # the audio and housekeeping threads
        st = e.stats()
        assert st["running"] is True
        assert st["sample_rate"] == 48000 and st["channels"] == 2
        assert st["period_frames"] == 128 and st["periods"] == 2
        assert st["format"] and st["format"] != "UNKNOWN"
        assert st["latency_frames"] >= 256
        assert abs(st["latency_ms"] - 1000.0 * st["latency_frames"] / 48000) < 1e-6
        assert "running" in repr(e)
    finally:
        e.shut_down()
    assert e.running is False
    assert wait_for(lambda: n_tasks() <= before), "engine threads still alive after shut_down"
    e.shut_down()  # idempotent
    assert e.stats()["running"] is False


def _vm_locked_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmLck:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmLck in /proc/self/status")


def test_stats_memory_locked():
    """The audio thread's memory is locked where mlock is allowed (root here:
    CAP_IPC_LOCK), and given back at shut_down(); elsewhere either answer is
    right, but the keys are there with their types."""
    before = _vm_locked_bytes()
    e = AudioEngine()
    e.run()
    try:
        st = e.stats()
        during = _vm_locked_bytes()
    finally:
        e.shut_down()
    assert type(st["memory_locked"]) is bool
    assert type(st["locked_bytes"]) is int
    # Under ASan/TSan (scripts/sanitize.sh sets FLZ_INSTRUMENTED), mlock is
    # the sanitizer's, which locks nothing and succeeds: VmLck stays put.
    real_mlock = os.environ.get("FLZ_INSTRUMENTED", "") in ("", "0")
    if os.geteuid() == 0:
        assert st["memory_locked"] is True
        # rings, mixer buffers and tables, the 256 KiB stack
        assert st["locked_bytes"] > 256 * 1024
        if real_mlock:
            assert during - before >= st["locked_bytes"]
    if st["memory_locked"]:
        assert _vm_locked_bytes() == before
    stopped = e.stats()
    assert stopped["memory_locked"] is False and stopped["locked_bytes"] == 0


def test_lifecycle_second_run_raises(engine):
    with pytest.raises(RuntimeError) as info:
        engine.run()
    assert str(info.value) == "AudioEngine already running"
    engine.ping()  # still running and usable
    assert wait_message(engine, AudioMessage.Pong) is not None


def test_lifecycle_run_again_after_shut_down(audio_files):
    e = AudioEngine()
    for _ in range(3):
        e.run()
        e.load_sample(0, audio_files["wav"])
        e.play_sample(0, 0.2)
        e.ping()
        assert wait_message(e, AudioMessage.Pong) is not None
        e.shut_down()
        with pytest.raises(RuntimeError, match="^Audio engine not initialized$"):
            e.play_sample(0, 0.2)


def test_lifecycle_shut_down_frees_samples(audio_files):
    e = AudioEngine()
    e.run()
    e.load_sample(3, audio_files["wav"])
    e.shut_down()
    e.run()
    try:
        # The slot is empty after a restart: playing it starts no voice.
        e.play_sample(3, 0.5)
        e.ping()
        assert wait_message(e, AudioMessage.Pong) is not None
        assert e.stats()["voices_playing"] == 0
    finally:
        e.shut_down()


def test_lifecycle_context_manager():
    with AudioEngine() as e:
        assert isinstance(e, AudioEngine)
        assert e.running
        e.ping()
        assert wait_message(e, AudioMessage.Pong) is not None
    assert not e.running
    with pytest.raises(RuntimeError, match="^Audio engine not initialized$"):
        e.ping()


def test_lifecycle_context_manager_on_exception():
    with pytest.raises(KeyError):
        with AudioEngine() as e:
            raise KeyError("boom")
    assert not e.running


def test_lifecycle_bad_device_in_rig():
    e = AudioEngine(device="flz_not_defined_here")
    with pytest.raises(RuntimeError) as info:
        e.run()
    assert "flz_not_defined_here" in str(info.value)
    assert not e.running


def test_lifecycle_other_devices_of_the_rig():
    # The rig's integer-only and 16-bit PCMs: the engine converts its mix.
    for device in ("flzint", "flzs16"):
        with AudioEngine(device=device) as e:
            assert wait_for(lambda: e.stats()["frames"] > 4800, 3.0), device
            if device == "flzint":
                assert e.stats()["format"] in ("S32_LE", "S24_3LE", "S16_LE")


def test_lifecycle_rt_priority_zero():
    with AudioEngine(rt_priority=0) as e:
        st = e.stats()
        assert st["rt_priority"] == 0 and st["rt_error"] == 0


def test_lifecycle_rt_priority_granted_as_root(caplog):
    if os.geteuid() != 0:
        pytest.skip("SCHED_FIFO is granted here only to root")
    with caplog.at_level(logging.WARNING, logger="flitzis_looper_rs"):
        with AudioEngine(rt_priority=70) as e:
            st = e.stats()
    assert st["rt_priority"] == 70 and st["rt_error"] == 0
    assert not [r for r in caplog.records if "priority" in r.getMessage()]


def test_lifecycle_rt_refused_is_a_logged_warning():
    """Without CAP_SYS_NICE SCHED_FIFO is refused: run() still works, and says so
    once through logging (never an error)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop CAP_SYS_NICE")
    code = r"""
import logging, sys
records = []
class H(logging.Handler):
    def emit(self, r): records.append((r.levelno, r.name, r.getMessage()))
logging.getLogger("flitzis_looper_rs").addHandler(H())
logging.getLogger("flitzis_looper_rs").setLevel(logging.DEBUG)
import flitzis_looper_rs as fl
e = fl.AudioEngine(rt_priority=50)
e.run()
st = e.stats()
e.ping()
import time
t = time.monotonic()
while time.monotonic() - t < 3:
    m = e.receive_msg()
    if isinstance(m, fl.AudioMessage.Pong): break
    time.sleep(0.01)
e.shut_down()
warn = [r for r in records if r[0] == logging.WARNING and "priority" in r[2]]
print(st["rt_priority"], st["rt_error"], len(warn), isinstance(m, fl.AudioMessage.Pong))
print(warn)
"""
    p = subprocess.run(
        [setpriv, "--inh-caps=-sys_nice", "--bounding-set=-sys_nice", "--",
         sys.executable, "-c", code],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
        cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[0].split()
    assert first == ["0", str(errno.EPERM), "1", "True"], p.stdout + p.stderr
    assert "50" in p.stdout.splitlines()[1]


# -- loading ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["wav", "wav_stereo", "wav32", "wav44k", "flac", "aiff",
                                  "ogg", "mp3"])
def test_load_formats(engine, audio_files, kind):
    if kind not in audio_files:
        pytest.skip("no encoder for %s here" % kind)
    engine.load_sample(5, audio_files[kind])
    engine.play_sample(5, 0.3)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 1), kind
    engine.stop_sample(5)
    stopped = wait_message(engine, AudioMessage.Stopped)
    assert stopped is not None and stopped.id == 5


def test_load_path_types(engine, audio_files):
    engine.load_sample(0, pathlib.Path(audio_files["wav"]))
    engine.load_sample(1, os.fsencode(audio_files["wav"]))
    engine.load_sample(2, audio_files["wav"])


def test_load_missing_file(engine, audio_files):
    with pytest.raises(FileNotFoundError) as info:
        engine.load_sample(0, audio_files["missing"])
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == audio_files["missing"]
    assert isinstance(info.value, OSError)


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "dir"])
def test_load_undecodable(engine, audio_files, kind):
    with pytest.raises(ValueError) as info:
        engine.load_sample(0, audio_files[kind])
    assert str(info.value).strip(), "the reason is missing"


def test_load_error_leaves_slot_unchanged(engine, audio_files):
    engine.load_sample(4, audio_files["wav"])
    for kind in ("missing", "text", "truncated"):
        with pytest.raises((FileNotFoundError, ValueError)):
            engine.load_sample(4, audio_files[kind])
    engine.play_sample(4, 0.3)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 1)


def test_load_releases_the_gil(engine, tmp_path):
    # A long file: while it decodes, another Python thread keeps running.
    path = write_wav(tmp_path / "long.wav", sine(48000 * 20, amp=0.1), rate_hz=44100)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        start = time.monotonic()
        engine.load_sample(0, path)
        end = time.monotonic()
    finally:
        done.set()
        t.join()
    during = [x for x in ticks if start < x < end]
    if end - start > 0.05:
        assert len(during) >= 5, "no other thread ran during a %.3f s load" % (end - start)


def test_load_replaces_sample(engine, audio_files):
    engine.load_sample(0, audio_files["wav"])
    engine.play_sample(0, 0.3)
    engine.load_sample(0, audio_files["wav_stereo"])  # the old voice keeps playing
    engine.play_sample(0, 0.3)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 2)


# -- commands and messages -----------------------------------------------------

def test_ping_pong(engine):
    engine.ping()
    pong = wait_message(engine, AudioMessage.Pong)
    assert isinstance(pong, AudioMessage.Pong)
    assert isinstance(pong, AudioMessage)
    assert pong.frame >= 0


def test_pongs_in_order(engine):
    for _ in range(10):
        engine.ping()
    pongs = [m for m in collect_messages(engine, 0.3) if isinstance(m, AudioMessage.Pong)]
    assert len(pongs) == 10
    assert [p.seq for p in pongs] == sorted(p.seq for p in pongs)
    assert len({p.seq for p in pongs}) == 10


def test_receive_msg_none_when_empty(engine):
    collect_messages(engine, 0.1)
    # Nothing was asked of the audio thread: None, repeatedly, without blocking
    # (a blocking call would hang here until the test's timeout).
    assert [engine.receive_msg() for _ in range(1000)] == [None] * 1000


def test_play_empty_slot_is_ignored(engine):
    engine.play_sample(100, 1.0)
    engine.ping()
    assert wait_message(engine, AudioMessage.Pong) is not None
    assert engine.stats()["voices_playing"] == 0


def test_play_and_stop_sends_one_stopped(engine, audio_files):
    engine.load_sample(7, audio_files["wav"])
    engine.play_sample(7, 0.5)
    engine.play_sample(7, 0.5)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 2)
    engine.stop_sample(7)
    msgs = collect_messages(engine, 0.3)
    stopped = [m for m in msgs if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 1 and stopped[0].id == 7
    assert engine.stats()["voices_playing"] == 0


def test_stop_silent_slot_sends_nothing(engine, audio_files):
    engine.load_sample(8, audio_files["wav"])
    engine.stop_sample(8)          # loaded, not playing
    engine.stop_sample(9)          # empty
    engine.stop_all()              # nothing plays
    engine.unload_sample(8)        # loaded, not playing
    engine.ping()
    msgs = collect_messages(engine, 0.3)
    assert any(isinstance(m, AudioMessage.Pong) for m in msgs)
    assert not [m for m in msgs if isinstance(m, AudioMessage.Stopped)]


def test_second_stop_sends_nothing(engine, audio_files):
    engine.load_sample(1, audio_files["wav"])
    engine.play_sample(1, 0.5)
    engine.stop_sample(1)
    engine.stop_sample(1)
    stopped = [m for m in collect_messages(engine, 0.3) if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 1


def test_stop_all(engine, audio_files):
    for slot in (0, 1, 2):
        engine.load_sample(slot, audio_files["wav"])
        engine.play_sample(slot, 0.2)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 3)
    engine.stop_all()
    stopped = [m for m in collect_messages(engine, 0.3) if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 1 and stopped[0].id is None
    assert engine.stats()["voices_playing"] == 0


def test_unload_sample(engine, audio_files):
    engine.load_sample(10, audio_files["wav"])
    engine.play_sample(10, 0.5)
    engine.unload_sample(10)
    stopped = [m for m in collect_messages(engine, 0.3) if isinstance(m, AudioMessage.Stopped)]
    assert len(stopped) == 1 and stopped[0].id == 10
    engine.play_sample(10, 0.5)  # the slot is empty now
    engine.ping()
    assert wait_message(engine, AudioMessage.Pong) is not None
    assert engine.stats()["voices_playing"] == 0


def test_voice_limit(engine, audio_files):
    engine.load_sample(0, audio_files["wav"])
    for _ in range(fl.MAX_VOICES + 8):
        engine.play_sample(0, 0.01)
    engine.ping()
    assert wait_message(engine, AudioMessage.Pong) is not None
    assert engine.stats()["voices_playing"] == fl.MAX_VOICES


def test_volume_and_speed_accept_range(engine):
    for v in (0.0, 0.25, 1.0, 0, 1):
        engine.set_volume(v)
    for s in (0.5, 1.0, 2.0, 1):
        engine.set_speed(s)
    engine.play_sample(0, 0)
    engine.play_sample(0, 1)


def test_trace_commands(audio_files):
    with AudioEngine(_trace_commands=True) as e:
        e.load_sample(2, audio_files["wav"])
        e.play_sample(2, 0.25)
        e.set_speed(1.5)
        e.set_volume(0.75)
        e.stop_sample(2)
        e.ping()
        msgs = collect_messages(e, 0.4)
    applied = [m for m in msgs if isinstance(m, AudioMessage.Applied)]
    by_cmd = {}
    for m in applied:
        by_cmd.setdefault(m.cmd, []).append(m)
    assert by_cmd["play"][0].id == 2 and by_cmd["play"][0].value == 0.25
    assert by_cmd["stop"][0].id == 2
    assert by_cmd["speed"][-1].value == 1.5
    assert by_cmd["volume"][-1].value == 0.75
    frames = [m.frame for m in applied]
    assert frames == sorted(frames)


# -- stats -----------------------------------------------------------------------

def test_stats_frames_advance(engine):
    f0 = engine.stats()["frames"]
    assert wait_for(lambda: engine.stats()["frames"] >= f0 + 4800, 3.0)
    st = engine.stats()
    assert st["xruns"] >= 0 and 0.0 <= st["load"] <= 1.0
    assert st["messages_dropped"] == 0 and st["device_lost"] is False
    assert isinstance(st["frames"], int) and isinstance(st["latency_ms"], float)


def test_stats_voices_playing(engine, audio_files):
    engine.load_sample(0, audio_files["wav"])
    engine.load_sample(1, audio_files["flac"] if "flac" in audio_files else audio_files["wav"])
    engine.play_sample(0, 0.3)
    engine.play_sample(1, 0.3)
    assert wait_for(lambda: engine.stats()["voices_playing"] == 2)
    assert "2 voices" in repr(engine)


# -- pressure and threads --------------------------------------------------------

def test_rapid_calls_succeed_or_report_full(engine, audio_files):
    engine.load_sample(0, audio_files["wav"])
    ok = full = 0
    for i in range(2000):
        try:
            if i % 2:
                engine.play_sample(0, 0.01)
            else:
                engine.stop_sample(0)
            ok += 1
        except RuntimeError as e:
            assert FULL in str(e)
            full += 1
    assert ok + full == 2000 and ok > 0
    # set_volume/set_speed are never refused.
    for i in range(2000):
        engine.set_volume((i % 100) / 100.0)
        engine.set_speed(0.5 + (i % 100) / 66.0)
    assert wait_for(lambda: _ping_accepted(engine), 2.0)
    assert wait_message(engine, AudioMessage.Pong, timeout_s=3.0) is not None


def test_many_threads(engine, audio_files):
    engine.load_sample(0, audio_files["wav"])
    errors = []

    def worker(k):
        try:
            for i in range(300):
                try:
                    if i % 3 == 0:
                        engine.play_sample(k, 0.01)
                    elif i % 3 == 1:
                        engine.stop_sample(k)
                    else:
                        engine.ping()
                    engine.stats()
                except RuntimeError as e:
                    if FULL not in str(e):
                        raise
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    for k in range(1, 9):
        engine.load_sample(k, audio_files["wav"])
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
    drained = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        m = engine.receive_msg()
        if m is not None:
            drained.append(m)
    for t in threads:
        t.join()
    assert not errors, errors
    drained += collect_messages(engine, 0.3)
    assert sum(isinstance(m, AudioMessage.Pong) for m in drained) > 0


def test_shut_down_while_other_threads_call(audio_files):
    e = AudioEngine()
    e.run()
    e.load_sample(0, audio_files["wav"])
    stop = threading.Event()
    seen = set()

    def hammer():
        while not stop.is_set():
            try:
                e.play_sample(0, 0.01)
                e.stop_sample(0)
                e.receive_msg()
            except RuntimeError as x:
                seen.add(str(x).split(":")[0])

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    e.shut_down()
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert seen <= {"Audio engine not initialized", FULL}
    assert "Audio engine not initialized" in seen


# -- garbage collection and exit ------------------------------------------------

def test_gc_of_running_engine(audio_files):
    before = n_tasks()
    e = AudioEngine()
    e.run()
    e.load_sample(0, audio_files["wav"])
    e.play_sample(0, 0.1)
    ref = weakref.ref(e)
    del e
    gc.collect()
    assert ref() is None
    assert wait_for(lambda: n_tasks() <= before), "engine threads survived the engine"


def test_gc_of_engine_in_cycle():
    before = n_tasks()
    holder = {}
    e = AudioEngine()
    e.run()
    holder["self"] = holder
    holder["engine"] = e
    del e, holder
    gc.collect()
    assert wait_for(lambda: n_tasks() <= before)


@pytest.mark.parametrize("how", ["global", "cycle", "thread"])
def test_interpreter_exit_with_running_engine(audio_files, how):
    code = """
import threading, time
import flitzis_looper_rs as fl
e = fl.AudioEngine()
e.run()
e.load_sample(0, %r)
e.play_sample(0, 0.1)
""" % audio_files["wav"]
    if how == "cycle":
        code += "class Box: pass\nb = Box(); b.me = b; b.e = e; del e\n"
    if how == "thread":
        code += """
def spin():
    while True:
        try:
            e.play_sample(0, 0.01)
            e.stop_sample(0)
        except RuntimeError:
            pass
threading.Thread(target=spin, daemon=True).start()
time.sleep(0.2)
"""
    code += "print('bye', flush=True)\n"
    p = run_python(code, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "bye"
    assert "Fatal" not in p.stderr and "Segmentation" not in p.stderr


def test_messages_are_the_module_classes(engine):
    engine.ping()
    m = wait_message(engine, AudioMessage.Pong)
    assert type(m) is fl.AudioMessage.Pong


def test_queue_full_refuses_and_applies_nothing():
    """Thousands of triggers within one period fill the command ring: the
    surplus raises the buffer-full RuntimeError and is not applied; every
    accepted command is applied exactly once, in order."""
    with AudioEngine(_trace_commands=True) as e:
        ok = full = 0
        for _ in range(6000):
            try:
                e.play_sample(150, 0.5)  # empty slot: applied, plays nothing
                ok += 1
            except RuntimeError as x:
                assert type(x) is fl.QueueFullError
                assert str(x) == "command buffer is full: the audio thread is not keeping up"
                full += 1
        e.set_volume(0.3)  # never refused, even now
        assert full > 0, "6000 calls within a few periods did not fill the queue"
        assert wait_for(lambda: _ping_accepted(e), 2.0)
        msgs = []
        assert wait_message(e, AudioMessage.Pong, timeout_s=3.0, keep=msgs) is not None
        dropped = e.stats()["messages_dropped"]
    plays = [m for m in msgs if isinstance(m, AudioMessage.Applied) and m.cmd == "play"]
    assert len(plays) + dropped == ok
    assert all(m.id == 150 and m.value == 0.5 for m in plays)
    seqs = [m.seq for m in plays]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    volumes = [m for m in msgs if isinstance(m, AudioMessage.Applied) and m.cmd == "volume"]
    assert volumes and abs(volumes[-1].value - 0.3) < 1e-6


def _ping_accepted(e):
    try:
        e.ping()
        return True
    except RuntimeError as x:
        assert "command buffer is full" in str(x)
        return False


def test_engine_log_reaches_python_logging_on_calling_thread(caplog):
    """The engine's diagnostics reach the "flitzis_looper_rs" logger, emitted from a
    thread that called into the module (never from the engine's own threads)."""
    with caplog.at_level(logging.DEBUG, logger="flitzis_looper_rs"):
        with AudioEngine(device="flzint") as e:
            e.stats()
            e.receive_msg()
    records = [r for r in caplog.records if r.name == "flitzis_looper_rs"]
    assert records, "the engine logged nothing on start/stop"
    main = threading.current_thread().name
    assert {r.threadName for r in records} == {main}
    assert all(r.getMessage().strip() for r in records)


def test_device_lost(caplog):
    """The audio server dies under a running engine: a DeviceLost message, a
    logged error, stats() says so, commands fail with RuntimeError, and
    shut_down()/run() recover."""
    import rig as _rig  # tests/rig (conftest puts it on sys.path)
    rig = _rig.Rig(export_env=True)
    try:
        rig.start()
    except _rig.RigError as x:
        pytest.skip(str(x))
    try:
        with caplog.at_level(logging.WARNING, logger="flitzis_looper_rs"):
            e = AudioEngine()
            e.run()
            assert wait_for(lambda: e.stats()["frames"] > 4800, 3.0)
            rig._jackd.terminate()
            rig._jackd.wait()
            lost = wait_message(e, AudioMessage.DeviceLost, timeout_s=5.0)
            assert lost is not None, "no DeviceLost after the server died"
            assert lost.error < 0 and lost.reason
            st = e.stats()
            assert st["device_lost"] is True and st["running"] is True
            assert "device lost" in repr(e)
            with pytest.raises(fl.DeviceError, match="device lost"):
                e.play_sample(0, 0.5)
            e.shut_down()
            assert e.stats()["device_lost"] is False or not e.stats()["running"]
        assert any(r.levelno >= logging.ERROR and "lost" in r.getMessage()
                   for r in caplog.records)
    finally:
        rig.stop()
    # The outer rig's device works again for the same engine.
    e.run()
    try:
        e.ping()
        assert wait_message(e, AudioMessage.Pong) is not None
    finally:
        e.shut_down()
