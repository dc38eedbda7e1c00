# SPDX-License-Identifier: MIT
"""Eight Python threads call random API methods while samples play.

For FLZ_STRESS_SECONDS (30) eight threads call play/stop/stop_all/load/
unload/set_volume/set_speed/ping/receive_msg/stats on one engine in random
order with random arguments, while a ninth drains the message queue. The
engine runs with ``_trace_commands=True``, so every command it applies comes
back as an ``AudioMessage.Applied`` carrying its sequence number.

What must hold:
 - no crash, no deadlock (every thread ends within a timeout), no xrun, no
   message dropped, the device not lost;
 - every call either succeeded or raised; the only refusal allowed is the
   documented RuntimeError for a full command buffer;
 - none lost: per command kind, the Applied messages equal the successful
   calls, the pings equal the Pongs, and the sequence number of a final ping
   equals the number of successful calls before it (each successful call
   takes exactly one number, a refused one none);
 - order: in sequence order the frames of application never go back;
 - volume and speed are latest-value (they may be coalesced): every applied
   value is one that was set, and the value in effect at the end is that of
   the call that came last.
"""

import random
import struct
import threading
import time

from stresskit import (STRESS_SECONDS, applied, assert_frames_follow_seq, assert_xruns_recovered, drain,
                       fl, write_wav)

N_THREADS = 8
N_SLOTS = 16
JOIN_TIMEOUT_S = 10.0
KINDS = ("play", "stop", "stop_all", "load", "unload", "volume", "speed", "ping")
#: Relative weights of the random calls.
WEIGHTS = {"play": 20, "stop": 8, "stop_all": 2, "load": 2, "unload": 2, "volume": 10,
           "speed": 10, "ping": 10, "receive_msg": 15, "stats": 10}


def f32(x):
    """x rounded to float32, as the engine stores volume and speed."""
    return struct.unpack("f", struct.pack("f", x))[0]


class Worker(threading.Thread):
    def __init__(self, index, engine, files, stop_event, messages):
        super().__init__(name="stress-%d" % index, daemon=True)
        self.rng = random.Random(1000 + index)
        self.engine = engine
        self.files = files
        self.stop_event = stop_event
        self.messages = messages
        self.ok = dict.fromkeys(KINDS + ("receive_msg", "stats"), 0)
        self.refused = dict.fromkeys(KINDS, 0)
        self.errors = []
        #: (t_start, t_end, value as float32) of each successful set_volume / set_speed
        self.volume_calls = []
        self.speed_calls = []

    def call(self, op):
        e, rng = self.engine, self.rng
        if op == "play":
            e.play_sample(rng.randrange(N_SLOTS), rng.random())
        elif op == "stop":
            e.stop_sample(rng.randrange(N_SLOTS))
        elif op == "stop_all":
            e.stop_all()
        elif op == "load":
            e.load_sample(rng.randrange(N_SLOTS), rng.choice(self.files))
        elif op == "unload":
            e.unload_sample(rng.randrange(N_SLOTS))
        elif op == "volume":
            value = rng.random()
            t0 = time.monotonic()
            e.set_volume(value)
            self.volume_calls.append((t0, time.monotonic(), f32(value)))
        elif op == "speed":
            value = rng.uniform(fl.SPEED_MIN, fl.SPEED_MAX)
            t0 = time.monotonic()
            e.set_speed(value)
            self.speed_calls.append((t0, time.monotonic(), f32(value)))
        elif op == "ping":
            e.ping()
        elif op == "receive_msg":
            m = e.receive_msg()
            if m is not None:
                self.messages.append(m)
        elif op == "stats":
            st = e.stats()
            assert st["running"] is True
        self.ok[op] += 1

    def run(self):
        ops = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in ops]
        while not self.stop_event.is_set():
            op = self.rng.choices(ops, weights)[0]
            try:
                self.call(op)
            except RuntimeError as exc:
                if "full" in str(exc) and op in self.refused:
                    self.refused[op] += 1
                else:
                    self.errors.append("%s: %r" % (op, exc))
            except Exception as exc:  # anything else is a failure of the test
                self.errors.append("%s: %r" % (op, exc))
            # Now and then give the other threads (and the drainer) the GIL.
            if self.rng.random() < 0.25:
                time.sleep(self.rng.uniform(0.0, 0.001))


def last_call_candidates(calls):
    """Values of the calls that may have been the last one.

    A call that returned before another started came before it, so the last
    call is one that had not returned when the latest call started.
    """
    latest_start = max(t0 for t0, _, _ in calls)
    return {v for _, t1, v in calls if t1 >= latest_start}


def test_stress_eight_threads_random_calls(rig_env, tmp_path):
    files = [write_wav(tmp_path / "a.wav", 12000, 2, freq_hz=220.0),
             write_wav(tmp_path / "b.wav", 7001, 1, freq_hz=330.0),
             write_wav(tmp_path / "c.wav", 20000, 2, rate_hz=44100, freq_hz=440.0),
             write_wav(tmp_path / "d.wav", 4801, 2, freq_hz=550.0)]
    engine = fl.AudioEngine(_trace_commands=True)
    messages = []
    setup_ok = dict.fromkeys(KINDS, 0)
    engine.run()
    try:
        for slot in range(8):
            engine.load_sample(slot, files[slot % len(files)])
            setup_ok["load"] += 1
        for slot in range(4):
            engine.play_sample(slot, 0.25)
            setup_ok["play"] += 1

        stop_event = threading.Event()
        drainer_done = threading.Event()

        def drainer():
            while not drainer_done.is_set():
                drain(engine, messages)
                time.sleep(0.001)

        drain_thread = threading.Thread(target=drainer, name="stress-drain", daemon=True)
        workers = [Worker(i, engine, files, stop_event, messages) for i in range(N_THREADS)]
        drain_thread.start()
        for w in workers:
            w.start()
        time.sleep(STRESS_SECONDS)
        stop_event.set()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
        stuck = [w.name for w in workers if w.is_alive()]
        assert not stuck, "threads did not finish (deadlock?): %r" % stuck
        drainer_done.set()
        drain_thread.join(JOIN_TIMEOUT_S)
        assert not drain_thread.is_alive(), "the drainer did not finish"

        # A final ping: once every ping has its Pong, every command before it
        # was applied and its trace is queued ahead of that Pong.
        engine.ping()
        n_pings = setup_ok["ping"] + sum(w.ok["ping"] for w in workers) + 1

        def n_pongs():
            return sum(isinstance(m, fl.AudioMessage.Pong) for m in messages)

        deadline = time.monotonic() + 5.0
        while n_pongs() < n_pings and time.monotonic() < deadline:
            if not drain(engine, messages):
                time.sleep(0.005)
        assert n_pongs() == n_pings, "%d pings, %d Pongs after 5 s" % (n_pings, n_pongs())
        final_pong = max((m for m in messages if isinstance(m, fl.AudioMessage.Pong)),
                         key=lambda m: m.seq)
        stats = engine.stats()
        time.sleep(0.1)
        drain(engine, messages)
    finally:
        engine.shut_down()

    errors = [e for w in workers for e in w.errors]
    assert not errors, "unexpected exceptions: %r" % errors[:20]

    ok = {k: setup_ok.get(k, 0) + sum(w.ok[k] for w in workers) for k in workers[0].ok}
    ok["ping"] += 1  # the final ping
    refused = {k: sum(w.refused[k] for w in workers) for k in KINDS}
    n_calls = sum(ok.values()) + sum(refused.values())
    print("\nstress: %d calls in %.0f s by %d threads: ok %r; refused %r; stats %r"
          % (n_calls, STRESS_SECONDS, N_THREADS, ok, refused, stats))

    # Content, not deadlines: see assert_xruns_recovered().
    assert_xruns_recovered(stats)
    assert stats["messages_dropped"] == 0, stats
    assert stats["device_lost"] is False, stats
    assert refused["volume"] == 0 and refused["speed"] == 0, \
        "set_volume/set_speed must never be refused: %r" % refused

    # Nothing lost: one Applied per successful call of each queued kind.
    for kind in ("play", "stop", "stop_all", "load", "unload", "ping"):
        n_applied = len(applied(messages, kind))
        assert n_applied == ok[kind], "%s: %d successful calls, %d applied" % (
            kind, ok[kind], n_applied)
    n_pongs = sum(isinstance(m, fl.AudioMessage.Pong) for m in messages)
    assert n_pongs == ok["ping"], "%d pings, %d Pongs" % (ok["ping"], n_pongs)
    # Every successful command or parameter took one sequence number.
    n_numbered = sum(ok[k] for k in KINDS)
    assert final_pong.seq == n_numbered, (
        "final ping has seq %d, but %d calls succeeded" % (final_pong.seq, n_numbered))
    assert_frames_follow_seq(messages)
    n_stopped = sum(isinstance(m, fl.AudioMessage.Stopped) for m in messages)
    assert n_stopped <= ok["stop"] + ok["stop_all"] + ok["unload"]

    # Latest-value parameters: applied values are values that were set, and
    # the one in effect at the end is the last call's.
    for kind, attr in (("volume", "volume_calls"), ("speed", "speed_calls")):
        calls = [c for w in workers for c in getattr(w, attr)]
        assert calls, "no %s call was made" % kind
        trace = applied(messages, kind)
        assert trace, "no %s was applied" % kind
        assert len(trace) <= len(calls)
        values_set = {v for _, _, v in calls}
        strays = [m.value for m in trace if m.value not in values_set]
        assert not strays, "%s values applied that were never set: %r" % (kind, strays[:5])
        last = trace[-1].value
        candidates = last_call_candidates(calls)
        assert last in candidates, (
            "%s in effect at the end is %r, the last call set one of %r"
            % (kind, last, sorted(candidates)))
