# SPDX-License-Identifier: MIT
"""The audio server stalls or dies under a playing engine, or the engine's
audio thread loses its CPU.

Each test runs its own JACK server (fixed name, see stresskit.FaultRig) so
that it can SIGSTOP, SIGCONT or SIGKILL it and start a new one of the same
name.

The engine's contract (engine/include/flz/engine.h): commands travel through
a queue of 1024; when it is full the call raises RuntimeError ("command
buffer is full") and is not applied; volume and speed are never refused. A
device that makes no progress for about one second counts as lost: the
audio thread ends, posts DeviceLost and sets stats()['device_lost'];
commands then raise RuntimeError until shut_down(), after which run() may
be called again. So a stall shorter than that (here: about 0.1 s, enough
to fill the queue many times over) must lose nothing, and a longer one is
reported as a lost device. An audio thread held off its CPU long enough for
the device to run dry must count and report the underrun, recover the device
and play on.
"""

import array
import errno
import os
import signal
import subprocess
import sys
import time
import wave

import pytest

from stresskit import (FaultRig, LostWatch, _rig, applied, assert_frames_follow_seq,
                       assert_xruns_recovered, call_with_timeout, drain, fl, pump, thread_names,
                       wait_until, write_wav)

#: FLZ_QUEUE_CAPACITY (common/include/flz/constants.h): commands the queue holds.
QUEUE_CAPACITY = 1024
#: shut_down() after a fault must return well within this (not a timing
#: assertion: a guard against a hang).
SHUTDOWN_GUARD_S = 5.0


def call(engine, cmd, slot, path=None):
    if cmd == "play":
        engine.play_sample(slot, 0.2)
    elif cmd == "stop":
        engine.stop_sample(slot)
    elif cmd == "stop_all":
        engine.stop_all()
    elif cmd == "unload":
        engine.unload_sample(slot)
    elif cmd == "load":
        engine.load_sample(slot, path)
    elif cmd == "ping":
        engine.ping()
    else:
        raise AssertionError(cmd)


def trace_of(msgs):
    """(cmd, id) of the applied commands in sequence order."""
    return [(m.cmd, m.id) for m in applied(msgs)]


def play_briefly(engine, path, msgs):
    """Load and play slot 0 for 0.3 s; returns the stats."""
    engine.load_sample(0, path)
    engine.play_sample(0, 0.3)
    pump(engine, 0.3, msgs)
    return engine.stats()


def run_and_play_briefly(engine, path):
    """run(), play_briefly(), 0.1 s more, shut_down(): (messages, stats after
    play_briefly, stats at the end)."""
    engine.run()
    try:
        msgs = []
        stats0 = play_briefly(engine, path, msgs)
        pump(engine, 0.1, msgs)
        stats1 = engine.stats()
    finally:
        engine.shut_down()
    return msgs, stats0, stats1


def test_stress_stalled_server_fills_queue_then_applies_in_order(fault_rig, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 9600, 2)
    engine = fl.AudioEngine(_trace_commands=True)
    issued = []
    msgs = []
    engine.run()
    try:
        for slot in (1, 2, 3):
            engine.load_sample(slot, path)
            issued.append(("load", slot))
        engine.play_sample(1, 0.3)
        issued.append(("play", 1))
        pump(engine, 0.3, msgs)

        pattern = [("play", 2), ("stop", 1), ("ping", None), ("play", 1), ("play", 3),
                   ("stop_all", None), ("unload", 3), ("stop", 2)]
        pid = fault_rig.server_pid
        refusal = None
        refused_more = []
        os.kill(pid, signal.SIGSTOP)
        t_stop = time.monotonic()
        try:
            # The engine fills what is left of its device buffer, then waits.
            time.sleep(0.05)
            frames_at_stall = engine.stats()["frames"]
            for i in range(4 * QUEUE_CAPACITY):
                cmd, slot = pattern[i % len(pattern)]
                try:
                    call(engine, cmd, slot)
                except RuntimeError as exc:
                    refusal = exc
                    break
                issued.append((cmd, slot))
            n_queued = len(issued) - 4
            # While full, every queued kind is refused (a load after decoding).
            for cmd, slot in (("play", 1), ("stop", 1), ("stop_all", None), ("unload", 1),
                              ("ping", None), ("load", 4)):
                try:
                    call(engine, cmd, slot, path)
                except RuntimeError as exc:
                    refused_more.append((cmd, str(exc)))
                else:
                    issued.append((cmd, slot))
            # Latest-value parameters are never refused.
            engine.set_volume(0.375)
            issued.append(("volume", None))
            engine.set_speed(1.25)
            issued.append(("speed", None))
            frames_during = engine.stats()["frames"]
        finally:
            os.kill(pid, signal.SIGCONT)
        stall_s = time.monotonic() - t_stop

        # Everything queued reaches the audio thread once the server runs again.
        def n_applied():
            drain(engine, msgs)
            return len(applied(msgs))

        n_expected = len(issued)
        wait_until(lambda: n_applied() >= n_expected, 3.0)
        engine.ping()
        issued.append(("ping", None))
        wait_until(lambda: n_applied() >= len(issued), 3.0)
        t_end = engine.stats()["frames"]
        pump(engine, 0.2, msgs)
        stats = engine.stats()
    finally:
        engine.shut_down()

    print("\nstall: %.3f s, %d commands queued before the refusal, xruns after resume %d"
          % (stall_s, n_queued, stats["xruns"]))
    assert frames_during == frames_at_stall, "the audio thread was not stalled"
    assert isinstance(refusal, fl.QueueFullError) and "buffer is full" in str(refusal), refusal
    assert n_queued == QUEUE_CAPACITY, "the queue took %d commands" % n_queued
    assert [c for c, _ in refused_more] == ["play", "stop", "stop_all", "unload", "ping",
                                            "load"], refused_more
    assert all("buffer is full" in text for _, text in refused_more), refused_more
    assert not stats["device_lost"], "a %.2f s stall was taken for a lost device" % stall_s
    assert stats["messages_dropped"] == 0, stats
    # Every queued command applied, exactly once, in call order.
    assert trace_of(msgs) == issued
    assert_frames_follow_seq(msgs)
    volume = applied(msgs, "volume")
    speed = applied(msgs, "speed")
    assert [m.value for m in volume] == [0.375] and [m.value for m in speed] == [1.25]
    # And the engine plays on.
    assert stats["frames"] > t_end, stats


def test_stress_long_stall_is_reported_as_lost_device(fault_rig, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 9600, 2)
    engine = fl.AudioEngine(_trace_commands=True)
    msgs = []
    engine.run()
    try:
        play_briefly(engine, path, msgs)
        pid = fault_rig.server_pid
        os.kill(pid, signal.SIGSTOP)
        try:
            watch = LostWatch(engine).wait(5.0)
            with pytest.raises(RuntimeError):
                engine.play_sample(0, 0.5)
        finally:
            os.kill(pid, signal.SIGCONT)
        # The loss is final for this run even though the server came back.
        time.sleep(0.2)
        assert engine.stats()["device_lost"] is True
        with pytest.raises(RuntimeError):
            engine.ping()
    finally:
        done, took_s, exc = call_with_timeout(engine.shut_down, SHUTDOWN_GUARD_S)
    assert done, "shut_down() hung after a lost device"
    assert exc is None, exc
    assert watch.stats_lost, "a stall of 5 s was not reported as a lost device"

    # run() works again on the resumed server.
    msgs2, stats0, stats1 = run_and_play_briefly(engine, path)
    print("\nlong stall: lost after %.2f s, shut_down %.3f s" % (watch.elapsed_s, took_s))
    assert [m.cmd for m in applied(msgs2)] == ["load", "play"]
    assert stats1["frames"] > stats0["frames"] > 0 and not stats1["device_lost"]
    assert stats1["voices_playing"] == 1, stats1
    assert isinstance(watch.message, fl.AudioMessage.DeviceLost), watch.receive_errors
    assert abs(watch.message.error) == errno.ENODEV, watch.message
    assert watch.message.reason, watch.message


def test_stress_killed_server_is_a_lost_device_then_run_again(fault_rig, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 9600, 2)
    engine = fl.AudioEngine(_trace_commands=True)
    msgs = []
    engine.run()
    try:
        before = play_briefly(engine, path, msgs)
        assert before["voices_playing"] == 1 and not before["device_lost"], before
        os.kill(fault_rig.server_pid, signal.SIGKILL)
        watch = LostWatch(engine).wait(5.0)
        with pytest.raises(RuntimeError):
            engine.play_sample(0, 0.5)
        assert engine.running, "the engine stays running until shut_down()"
    finally:
        done, took_s, exc = call_with_timeout(engine.shut_down, SHUTDOWN_GUARD_S)
    assert done, "shut_down() hung after the server was killed"
    assert exc is None, exc
    assert not engine.running
    assert watch.stats_lost, "stats()['device_lost'] still false 5 s after the server died"

    # A new server of the same name; the same engine object runs again.
    fault_rig.restart()
    msgs2, stats0, stats1 = run_and_play_briefly(engine, path)
    print("\nkilled server: lost after %s s, shut_down %.3f s, after restart %r"
          % (watch.elapsed_s, took_s, stats1))
    assert [m.cmd for m in applied(msgs2)] == ["load", "play"]
    assert stats1["frames"] > stats0["frames"] > 0
    assert not stats1["device_lost"], stats1
    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats1)
    assert stats1["voices_playing"] == 1, stats1
    assert isinstance(watch.message, fl.AudioMessage.DeviceLost), watch.receive_errors
    assert watch.message.error != 0 and watch.message.reason, watch.message


# -- an underrun forced on the engine's own audio thread -----------------------------

#: Run in a child process: pin itself to one CPU at SCHED_FIFO 99 (above the
#: audio thread's 70) and spin for the given seconds. A child, not a thread,
#: so that the GIL cannot hand the CPU back to this process.
SPIN_CHILD = r"""
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(99))
if float(sys.argv[2]) > 0:
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        pass
"""

#: Frames of the capture checked before the starvation and after recovery (0.2 s).
CHECK_FRAMES = 9600


def follows_loop(x, loop, start, end, tol=1e-6):
    """Whether capture frames [start, end) are the loop, repeated from one phase.

    x holds one channel of the capture. Returns (True, phase) or (False, the
    first frame that breaks the loop)."""
    n = len(loop)
    for phase in range(n):
        if all(abs(x[start + i] - loop[(phase + i) % n]) <= tol for i in range(n)):
            break
    else:
        return False, start
    for i in range(end - start):
        if abs(x[start + i] - loop[(phase + i) % n]) > tol:
            return False, start + i
    return True, phase


def test_stress_starved_audio_thread_underruns_then_plays_on(tmp_path):
    """A higher-priority process takes the audio thread's CPU for 0.1-0.4 s.

    The device runs dry: the engine must count the underrun, report it as an
    XRun message, recover the device (prepare, refill, start) and play on
    with the same content, and still apply commands. flz-jack-rec records
    what the server heard; a 48-frame 1 kHz loop at gain 1 reaches it
    unchanged (float end to end), so the capture is compared sample by sample
    (tolerance 1e-6) with the loop before the starvation and after recovery,
    and must break in between, where the underrun was heard.

    The two windows are compared only if the JACK server itself was on time
    in them: a server xrun there (its timer late on a loaded machine) can
    break the capture whatever the engine does, so the measurement is then
    taken again with a new server, up to 3 times, and skipped naming the
    server's xruns if it stays late (rig.rerun_while_server_late()). A
    window that breaks while the server was on time fails.
    """
    # Skipped instrumented: the capture must follow the loop in the windows
    # before and after the starvation, so an underrun of a slow instrumented
    # block there would fail it; real-time recovery is the normal build's.
    if _rig.instrumented():
        pytest.skip("real-time fault test: not run instrumented (FLZ_INSTRUMENTED)")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs 2 CPUs: the audio server runs on the one not taken")
    recorder = _rig.find_recorder()
    if not recorder:
        pytest.skip("flz-jack-rec not found (build it; FLZ_JACK_REC names it)")
    probe = subprocess.run([sys.executable, "-c", SPIN_CHILD, "0", "0"],
                           stderr=subprocess.PIPE, text=True)
    if probe.returncode != 0:
        pytest.skip("cannot run a SCHED_FIFO 99 process here: %s"
                    % probe.stderr.strip().splitlines()[-1:])
    path = write_wav(tmp_path / "loop.wav", 48, 2, freq_hz=1000.0, amp=0.4)
    with wave.open(path, "rb") as w:
        pcm = array.array("h", w.readframes(48))
    if sys.byteorder == "big":
        pcm.byteswap()
    loop = [v / 32768.0 for v in pcm[0::2]]  # the left channel, as the loader converts it
    _rig.rerun_while_server_late(
        lambda attempt: starve_and_check(attempt, tmp_path, path, loop, recorder),
        skip=pytest.skip)


def window_ns(times, frame0, frame1, period_frames):
    """The CLOCK_MONOTONIC span in which capture frames [frame0, frame1) arrived."""
    last = len(times) - 1
    return (times[min(max(frame0, 0) // period_frames, last)],
            times[min(max(frame1 - 1, 0) // period_frames, last)])


def starve_and_check(attempt, tmp_path, path, loop, recorder):
    """One measurement of test_stress_starved_audio_thread_underruns_then_plays_on."""
    cap_path = str(tmp_path / ("capture%d.raw" % attempt.number))
    rig = FaultRig(record=cap_path, recorder=recorder)
    rig.start()
    inner = rig.rig  # its server's xruns stay readable after stop()
    attempt.source = inner.server_xruns
    msgs = []
    try:
        engine = fl.AudioEngine()
        engine.run()
        try:
            engine.load_sample(0, path)
            engine.play_sample(0, 1.0)
            pump(engine, 0.4, msgs)
            before_at = os.path.getsize(cap_path) // 8
            tids = [t for t, name in thread_names().items() if name == "flz-audio"]
            assert len(tids) == 1, "flz-audio threads: %r" % tids
            tid = tids[0]
            cpus = os.sched_getaffinity(tid)
            cpu = min(cpus)
            os.sched_setaffinity(tid, {cpu})
            try:
                spins = []
                for spin_s in (0.1, 0.2, 0.4):  # each well under the 1 s of a lost device
                    spins.append(spin_s)
                    subprocess.run([sys.executable, "-c", SPIN_CHILD, str(cpu), str(spin_s)],
                                   check=True)
                    pump(engine, 0.1, msgs)
                    if engine.stats()["xruns"] > 0:
                        break
            finally:
                try:
                    os.sched_setaffinity(tid, cpus)
                except ProcessLookupError:
                    pass  # the audio thread ended: device_lost tells below
            pump(engine, 0.5, msgs)
            after_at = os.path.getsize(cap_path) // 8
            engine.stop_sample(0)
            engine.ping()
            wait_until(lambda: any(isinstance(m, fl.AudioMessage.Pong)
                                   for m in drain(engine, msgs)), 3.0)
            wait_until(lambda: any(isinstance(m, fl.AudioMessage.Stopped)
                                   for m in msgs + drain(engine, msgs)), 3.0)
            stats = engine.stats()
        finally:
            engine.shut_down()
    finally:
        rig.stop()

    x = _rig.read_raw(cap_path)[0::2]
    times = _rig.read_times(inner.record_times_path)
    attempt.window(*window_ns(times, before_at - CHECK_FRAMES, before_at, inner.period_frames))
    attempt.window(*window_ns(times, after_at - CHECK_FRAMES, after_at, inner.period_frames))
    xrun_msgs = [m for m in msgs if isinstance(m, fl.AudioMessage.XRun)]
    ok_before, where_before = follows_loop(x, loop, before_at - CHECK_FRAMES, before_at)
    ok_after, where_after = follows_loop(x, loop, after_at - CHECK_FRAMES, after_at)
    unbroken, first_break = follows_loop(x, loop, before_at - CHECK_FRAMES,
                                         after_at - CHECK_FRAMES)
    print("\nstarved for %s s: %d xruns, capture breaks at frame %s, %s"
          % ("+".join(map(str, spins)), stats["xruns"], first_break, stats))
    assert stats["xruns"] >= 1, "no underrun counted after %s s without the CPU" % spins
    assert len(xrun_msgs) == stats["xruns"], (xrun_msgs, stats["xruns"])
    assert not stats["device_lost"] and stats["messages_dropped"] == 0, stats
    attempt.expect(before_at >= CHECK_FRAMES, "only %d frames heard before the starvation"
                   % before_at)
    attempt.expect(ok_before, "the capture did not follow the loop before: frame %d"
                   % where_before)
    assert not unbroken, "the underrun was counted but not heard"
    assert first_break >= before_at, (first_break, before_at)
    attempt.expect(ok_after, "not the loop after recovery: frame %d (underrun at %d)" % (
        where_after, first_break))
    assert any(isinstance(m, fl.AudioMessage.Stopped) for m in msgs), msgs[-5:]
    assert any(isinstance(m, fl.AudioMessage.Pong) for m in msgs), msgs[-5:]
