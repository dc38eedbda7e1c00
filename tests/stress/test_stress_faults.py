# SPDX-License-Identifier: MIT
"""The audio server stalls or dies under a playing engine.

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
reported as a lost device.
"""

import errno
import os
import signal
import time

import pytest

from stresskit import (LostWatch, applied, assert_frames_follow_seq,
                       call_with_timeout, drain, fl, pump, wait_until, write_wav)

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
    assert isinstance(refusal, RuntimeError) and "buffer is full" in str(refusal), refusal
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
    engine.run()
    try:
        msgs2 = []
        stats0 = play_briefly(engine, path, msgs2)
        pump(engine, 0.1, msgs2)
        stats1 = engine.stats()
    finally:
        engine.shut_down()
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
    engine.run()
    try:
        msgs2 = []
        stats0 = play_briefly(engine, path, msgs2)
        pump(engine, 0.1, msgs2)
        stats1 = engine.stats()
    finally:
        engine.shut_down()
    print("\nkilled server: lost after %s s, shut_down %.3f s, after restart %r"
          % (watch.elapsed_s, took_s, stats1))
    assert [m.cmd for m in applied(msgs2)] == ["load", "play"]
    assert stats1["frames"] > stats0["frames"] > 0
    assert not stats1["device_lost"] and stats1["xruns"] == 0, stats1
    assert stats1["voices_playing"] == 1, stats1
    assert isinstance(watch.message, fl.AudioMessage.DeviceLost), watch.receive_errors
    assert watch.message.error != 0 and watch.message.reason, watch.message
