# SPDX-License-Identifier: MIT
"""Fixtures and helpers of the stress and fault suite (conftest.py registers the fixtures).

The suite drives the INSTALLED flitzis_looper_rs (pip install .) through the
headless real-time rig (tests/rig/rig.py). It runs inside
the rig, which is what ``meson test --suite stress`` does::

    python3 tests/rig/rig.py -- python3 -m pytest tests/stress

Outside a rig, a session rig is started in this process under a fixed JACK
server name. Tests that stop or kill the audio server start a private server
of their own, also under a fixed name (jackd2 has room for eight servers per
machine, and a killed server keeps its entry until a server of the same name
starts again).

Environment knobs (CI keeps the defaults):
``FLZ_STRESS_SECONDS``  duration of the eight-thread test (30)
``FLZ_STRESS_CYCLES``   run/shut_down and load/unload cycles (500)
"""

import array
import gc
import math
import os
import shutil
import sys
import threading
import time
import wave

import pytest

fl = pytest.importorskip("flitzis_looper_rs",
                         reason="install the flitzis_looper_rs wheel first (pip install .)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

_pkg_dir = os.path.dirname(os.path.abspath(fl.__file__))
if _pkg_dir.startswith(os.path.join(ROOT, "pymodule")):
    raise pytest.UsageError(
        "flitzis_looper_rs was imported from the source tree (%s); the suite tests the "
        "installed wheel: pip install . and run pytest from elsewhere" % _pkg_dir)

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
import rig as _rig  # noqa: E402

RATE_HZ = 48000
#: JACK server names of this suite: fixed, so that a server killed by a
#: crashed run is reclaimed by the next run instead of leaking an entry.
SESSION_SERVER = "flzstress"
FAULT_SERVER = "flzstress_fault"

STRESS_SECONDS = float(os.environ.get("FLZ_STRESS_SECONDS", "30"))
CYCLES = int(os.environ.get("FLZ_STRESS_CYCLES", "500"))

RIG_KEYS = ("FLITZIS_AUDIO_DEVICE", "ALSA_CONFIG_PATH", "JACK_DEFAULT_SERVER")


def have_rig_programs():
    return bool(shutil.which("jackd") and shutil.which("jack_wait"))


@pytest.fixture(scope="session")
def rig_env():
    """The environment of a running rig: the enclosing one, else a session rig."""
    if all(os.environ.get(k) for k in RIG_KEYS):
        yield {k: os.environ[k] for k in os.environ if k.startswith(("FLZ_RIG_", "JACK_"))
               or k in RIG_KEYS}
        return
    if not have_rig_programs():
        pytest.skip("not inside the rig and no jackd to start one (install jackd2 and "
                    "libasound2-plugins)")
    rig = _rig.Rig(name=SESSION_SERVER)
    try:
        rig.start()
    except _rig.RigError as e:
        pytest.skip("cannot start the rig: %s" % e)
    try:
        yield dict(rig.env)
    finally:
        rig.stop()


@pytest.fixture
def fault_rig():
    """A private JACK server this test may stop or kill; the environment points at it.

    Yields a FaultRig; its server is stopped at the end whatever state it is in.
    """
    if not have_rig_programs():
        pytest.skip("no jackd (install jackd2 and libasound2-plugins)")
    fr = FaultRig()
    try:
        fr.start()
    except _rig.RigError as e:
        pytest.skip("cannot start a private JACK server: %s" % e)
    try:
        yield fr
    finally:
        fr.stop()


class FaultRig:
    """A Rig whose server can be signalled and replaced by one of the same name."""

    def __init__(self, record=None, recorder=None):
        self.rig = None
        self.record = record
        self.recorder = recorder

    def start(self):
        # export_env: engines created now use this server; stop() restores
        # the environment of the enclosing rig. With record, flz-jack-rec
        # writes what the server hears there (see _rig.Rig).
        self.rig = _rig.Rig(name=FAULT_SERVER, export_env=True, record=self.record,
                            recorder=self.recorder)
        self.rig.start()
        return self

    @property
    def server_pid(self):
        pid = getattr(self.rig, "server_pid", None)
        if pid is None:
            pid = self.rig._jackd.pid  # the rig does not expose it (yet)
        return pid

    def restart(self):
        """Stop (or reap) the server and start a new one under the same name."""
        self.stop()
        return self.start()

    def stop(self):
        if self.rig is not None:
            self.rig.stop()
            self.rig = None


# -- helpers ---------------------------------------------------------------------

def thread_names():
    """{kernel thread id: name} of this process's threads."""
    names = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                names[int(tid)] = f.read().strip()
        except OSError:  # the thread ended meanwhile
            continue
    return names


def rss_bytes():
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _malloc_trim():
    """glibc's malloc_trim(0), or None where it does not exist."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError, ImportError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _malloc_trim()


def settle_memory():
    """Let the engine's housekeeping free retired samples, collect garbage, and
    hand the allocator's free pages back to the system.

    Without the trim, RSS would also count heap pages that glibc keeps after
    several multi-megabyte samples were alive at once (a burst of loads
    outpaces the 20 ms housekeeping period): freed memory, not leaked memory,
    and a figure that depends on timing. With it, RSS counts what is live.
    """
    time.sleep(0.1)
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def write_wav(path, n_frames, n_channels=2, rate_hz=RATE_HZ, freq_hz=440.0, amp=0.4):
    """A 16-bit WAV: a sine, phase-shifted per channel. Returns the path."""
    one = array.array("h", [int(round(amp * 32767 * math.sin(2 * math.pi * freq_hz * i / rate_hz)))
                            for i in range(min(n_frames, rate_hz))])
    frames = array.array("h")
    # Repeat one second of signal: building 10 s sample by sample is slow.
    whole, rest = divmod(n_frames, len(one))
    mono = one * whole + one[:rest]
    if n_channels == 1:
        frames = mono
    else:
        frames = array.array("h", bytes(2 * n_frames * n_channels))
        for c in range(n_channels):
            frames[c::n_channels] = mono if c % 2 == 0 else array.array("h", (-v for v in mono))
    if sys.byteorder == "big":
        frames.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(n_channels)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(frames.tobytes())
    return str(path)


def drain(engine, into=None):
    """Take every pending message; returns the list (also appended to into)."""
    got = []
    while True:
        m = engine.receive_msg()
        if m is None:
            break
        got.append(m)
    if into is not None:
        into.extend(got)
    return got


def pump(engine, seconds, into=None, interval_s=0.005):
    """Drain messages for seconds; returns them."""
    got = []
    deadline = time.monotonic() + seconds
    while True:
        got.extend(drain(engine))
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    if into is not None:
        into.extend(got)
    return got


def assert_xruns_recovered(stats):
    """An underrun, if any, was recovered and reported; none is asserted absent.

    These tests check content (no call lost, order kept, memory returned,
    threads gone), not deadlines: on a loaded machine, or a virtual machine
    whose CPU the host takes away for a moment, one block can be late however
    good the engine is, and under instrumentation (_rig.instrumented()) a
    slow block is expected. So an xrun does not fail them; a device that did
    not recover does (that each xrun is also reported as one XRun message is
    test_stress_faults' starved-thread case). That the engine keeps its deadlines
    is measured where nothing else disturbs it: bench/endurance.py (0 xruns
    in 600 s with the other core loaded, docs/performance.md) and
    engine:rig-playback in the normal build.
    """
    assert stats["device_lost"] is False, "the device was lost: %r" % (stats,)
    if stats["xruns"]:
        print("\nnote: %d xrun(s), recovered and reported" % stats["xruns"])


def wait_until(predicate, timeout_s, interval_s=0.01):
    """Poll predicate() until true or timeout_s passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def applied(msgs, kind=None):
    """The Applied messages (of one cmd kind, e.g. "play"), in seq order."""
    out = [m for m in msgs if isinstance(m, fl.AudioMessage.Applied)
           and (kind is None or m.cmd == kind)]
    out.sort(key=lambda m: m.seq)
    return out


def assert_frames_follow_seq(msgs):
    """Commands are applied in call order: by seq, the frames never go back."""
    trace = applied(msgs)
    seqs = [m.seq for m in trace]
    assert len(seqs) == len(set(seqs)), "a command was applied twice"
    for a, b in zip(trace, trace[1:]):
        assert a.frame <= b.frame, "seq %d applied at frame %d after seq %d at frame %d" % (
            b.seq, b.frame, a.seq, a.frame)


class LostWatch:
    """Drains an engine until its device is reported lost.

    Attributes after wait(): message (the DeviceLost, or None), stats_lost
    (stats()['device_lost']), others (the other messages), receive_errors
    (exceptions receive_msg() raised), elapsed_s.
    """

    def __init__(self, engine):
        self.engine = engine
        self.message = None
        self.stats_lost = False
        self.others = []
        self.receive_errors = []
        self.elapsed_s = None

    def wait(self, timeout_s):
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        while time.monotonic() < deadline:
            try:
                m = self.engine.receive_msg()
            except ValueError as exc:
                self.receive_errors.append(exc)
                continue
            if isinstance(m, fl.AudioMessage.DeviceLost):
                self.message = m
            elif m is not None:
                self.others.append(m)
                continue
            self.stats_lost = self.engine.stats()["device_lost"]
            if self.stats_lost and self.elapsed_s is None:
                self.elapsed_s = time.monotonic() - t0
            if self.stats_lost and (self.message is not None or self.receive_errors):
                break
            time.sleep(0.005)
        return self


def call_with_timeout(fn, timeout_s):
    """Run fn() in a thread; returns (finished, seconds taken, exception or None)."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # reported to the caller
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t0 = time.monotonic()
    t.start()
    t.join(timeout_s)
    return (not t.is_alive(), time.monotonic() - t0, box.get("exc"))
