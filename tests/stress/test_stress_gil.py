# SPDX-License-Identifier: MIT
"""No engine call freezes the interpreter while another thread's run() or
shut_down() waits for a stalled audio server.

A slow sound server (PulseAudio starting up, a Bluetooth sink, a JACK server
that hangs) can hold a device open or close for seconds. The Python module
releases the GIL around run() and shut_down(); the engine must also never
make another thread's receive_msg(), ping() or stats() wait for that device
while that thread holds the GIL, or every Python thread, a UI's included,
freezes until the device answers.

The server is stopped with SIGSTOP and resumed by a separate process after
RESUME_AFTER_S, so the test cannot hang whatever the engine does. Meanwhile
one thread polls the engine and another ticks every 2 ms: the longest gap
between ticks stays far below the stall (the bound, 50 ms, is 25 ticks; a
frozen interpreter shows the whole stall, 1.5 s). Not run under
instrumentation (the suite does not run under sanitizers or valgrind).
"""

import os
import signal
import subprocess
import threading
import time

from stresskit import fl, pump, write_wav

#: How long the server stays stopped (the resumer process sleeps this long).
RESUME_AFTER_S = 1.5
#: The longest a 2 ms ticker may be held up while the device stalls.
MAX_TICK_GAP_S = 0.050


class Watch:
    """While active: one thread ticks every 2 ms, one calls poll(engine) in a loop."""

    def __init__(self, engine, poll):
        self.engine = engine
        self.poll = poll
        self.done = threading.Event()
        self.max_gap_s = 0.0
        self.polls = 0
        self.poll_errors = set()
        self.threads = [threading.Thread(target=self._tick, daemon=True),
                        threading.Thread(target=self._poll, daemon=True)]

    def _tick(self):
        last = time.monotonic()
        while not self.done.is_set():
            time.sleep(0.002)
            now = time.monotonic()
            self.max_gap_s = max(self.max_gap_s, now - last)
            last = now

    def _poll(self):
        while not self.done.is_set():
            try:
                self.poll(self.engine)
            except RuntimeError as exc:  # not running yet / any more
                self.poll_errors.add(type(exc).__name__ + ": " + str(exc))
            self.polls += 1
            time.sleep(0.001)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for t in self.threads:
            t.join(5)


def resume_later(pid):
    """A separate process that sends SIGCONT to pid after RESUME_AFTER_S."""
    return subprocess.Popen(["sh", "-c", "sleep %s; kill -CONT %d" % (RESUME_AFTER_S, pid)])


def poll_all(engine):
    engine.receive_msg()
    engine.stats()
    engine.ping()


def test_stress_run_on_stalled_server_does_not_freeze_other_threads(fault_rig, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 4800, 2)
    engine = fl.AudioEngine()
    pid = fault_rig.server_pid
    os.kill(pid, signal.SIGSTOP)
    resumer = resume_later(pid)
    try:
        with Watch(engine, poll_all) as watch:
            t0 = time.monotonic()
            engine.run()  # returns once the server answers again
            blocked_s = time.monotonic() - t0
        print("\nrun() waited %.2f s for the stalled server; longest tick gap %.1f ms, "
              "%d polls" % (blocked_s, watch.max_gap_s * 1e3, watch.polls))
        # The device open really waited for the server: otherwise this test
        # proves nothing.
        assert blocked_s > RESUME_AFTER_S / 2, blocked_s
        assert watch.max_gap_s < MAX_TICK_GAP_S, \
            "a 2 ms ticker stalled %.0f ms while run() waited %.2f s" % (
                watch.max_gap_s * 1e3, blocked_s)
        # The poller ran all along (about one call per ms), and saw an engine
        # that is not running yet rather than waiting for it.
        assert watch.polls > 100 * blocked_s, (watch.polls, blocked_s)
        assert any("Audio engine not initialized" in e for e in watch.poll_errors), \
            watch.poll_errors
        # And the engine works once the server is back.
        engine.load_sample(0, path)
        engine.play_sample(0, 0.5)
        msgs = []
        pump(engine, 0.2, msgs)
        assert engine.stats()["voices_playing"] == 1
    finally:
        resumer.wait()
        engine.shut_down()


def test_stress_shut_down_on_stalled_server_does_not_freeze_other_threads(fault_rig, tmp_path):
    path = write_wav(tmp_path / "loop.wav", 4800, 2)
    engine = fl.AudioEngine()
    engine.run()
    resumer = None
    try:
        engine.load_sample(0, path)
        engine.play_sample(0, 0.5)
        pump(engine, 0.2)
        pid = fault_rig.server_pid
        os.kill(pid, signal.SIGSTOP)
        resumer = resume_later(pid)
        with Watch(engine, poll_all) as watch:
            t0 = time.monotonic()
            engine.shut_down()  # closing the device waits for the server
            blocked_s = time.monotonic() - t0
        print("\nshut_down() took %.2f s on the stalled server; longest tick gap %.1f ms, "
              "%d polls" % (blocked_s, watch.max_gap_s * 1e3, watch.polls))
        assert watch.max_gap_s < MAX_TICK_GAP_S, \
            "a 2 ms ticker stalled %.0f ms while shut_down() took %.2f s" % (
                watch.max_gap_s * 1e3, blocked_s)
        assert watch.polls > 100 * blocked_s, (watch.polls, blocked_s)
        assert not engine.running
    finally:
        if resumer is not None:
            resumer.wait()
        engine.shut_down()


def run_in_threads(engine, n):
    """Call engine.run() from n threads at once; the exceptions raised (None for success)."""
    results = [None] * n
    go = threading.Barrier(n)

    def target(i):
        go.wait()
        try:
            engine.run()
        except Exception as exc:  # reported to the caller
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "run() did not return"
    return results


def test_stress_concurrent_runs_on_stalled_server_one_starts(fault_rig):
    """Two run() calls overlap while the server stalls: they run one after the
    other; exactly one starts the engine, the other finds it running."""
    engine = fl.AudioEngine()
    pid = fault_rig.server_pid
    os.kill(pid, signal.SIGSTOP)
    resumer = resume_later(pid)
    try:
        results = run_in_threads(engine, 2)
        errors = [r for r in results if r is not None]
        assert len(errors) == 1, results
        assert type(errors[0]) is RuntimeError
        assert str(errors[0]) == "AudioEngine already running"
        assert engine.running
    finally:
        resumer.wait()
        engine.shut_down()


def test_stress_concurrent_runs_on_bad_device_each_report_the_device():
    """Racing run() calls on a device that cannot be opened each report the
    device's error, never "already running"."""
    engine = fl.AudioEngine(device="flz_no_such_pcm")
    for _ in range(20):
        results = run_in_threads(engine, 3)
        for r in results:
            assert isinstance(r, fl.DeviceError), results
            assert "flz_no_such_pcm" in str(r)
        assert not engine.running
