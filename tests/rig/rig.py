# SPDX-License-Identifier: MIT
"""Headless real-time audio rig: a private JACK dummy server behind ALSA.

Machines without a sound card (CI, containers) still need a real-time clock
to drive the engine. This module starts a private JACK server with the
``dummy`` backend in synchronous mode and writes a hermetic ALSA
configuration (``ALSA_CONFIG_PATH``; the system ``alsa.conf`` is left out, so
only the PCMs below exist) whose PCMs reach that server through the ALSA
``jack`` plugin (Debian: jackd2, libasound2-plugins).

PCMs of the configuration:

``default``
    ``plug`` -> optional ``file`` tee (raw FLOAT_LE, every committed frame)
    -> ``jack``. Any format, rate and channel count.
``flzjack``
    the ``jack`` PCM itself: FLOAT_LE, 2 channels, the server's rate.
``flzint``
    ``lfloat`` in front of ``jack``: only integer formats are offered, so a
    client has to convert its float mix itself.
``flzs16``
    ``plug`` forcing S16_LE in front of ``jack``: the audio is quantised to
    16 bits on its way.
``flznull``
    the ``null`` PCM: opens and configures, but is not paced in real time.

The ``jack`` PCM's two ports connect to ``rec:in_1``/``rec:in_2`` when a
recorder is used, else to the dummy backend's ``system:playback_1``/``_2``
(the plugin refuses to open without a port list).

Use from Python::

    with Rig(tee=True) as rig:        # exports the environment (see Rig)
        engine = AudioEngine()
        ...
        engine.shut_down()
        rig.tee_to_wav("heard.wav")

Use as a script (runs CMD inside the rig and exits with its status; SIGTERM
and SIGHUP are passed on to CMD, a terminal's SIGINT reaches CMD by itself;
the server is stopped in every case)::

    python3 tests/rig/rig.py [--period 64] [--rate 48000] [--tee FILE]
                    [--record FILE] [--ports rec] -- CMD ARGS...

Environment given to CMD (and, with export_env, to this process):
``ALSA_CONFIG_PATH``, ``JACK_DEFAULT_SERVER``, ``JACK_NO_START_SERVER``,
``JACK_NO_AUDIO_RESERVATION``, ``FLITZIS_AUDIO_DEVICE=default``, and for
programs that inspect the capture ``FLZ_RIG_RATE_HZ``,
``FLZ_RIG_PERIOD_FRAMES``, ``FLZ_RIG_TEE``, ``FLZ_RIG_RECORD`` and
``FLZ_RIG_RECORD_TIMES`` (the latter three only when used), and
``FLZ_RIG_SERVER_XRUNS``. The recorder flushes its files as it goes, so CMD
can read what was heard so far.

Server xruns. The dummy backend's own timer can run late on a loaded or
virtual machine (jackd logs "JackTimedDriver::Process XRun"); a client that
was on time can then underrun through no fault of its own. The rig reads
jackd's log as it is written and appends every xrun line to the file
``FLZ_RIG_SERVER_XRUNS`` names, one line each: the CLOCK_MONOTONIC time (ns)
the line arrived, a kind (``timer``: the server's timer was late;
``recorder``: the rig's own recorder did not finish its cycle; ``client``:
another client, e.g. the engine's, did not finish) and jackd's text. A test
takes the times of its measurement and asks server_late() or an Attempt
(see rerun_while_server_late()) whether the server was late in that window.

Only the standard library is used; Python 3.9 or newer.
"""

import argparse
import array
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave

__all__ = [
    "Attempt",
    "Rig",
    "RigError",
    "SERVER_LATE_KINDS",
    "ServerLate",
    "find_recorder",
    "instrumented",
    "raw_to_wav",
    "read_raw",
    "read_server_xruns",
    "read_times",
    "reclaim_stale_servers",
    "rerun_while_server_late",
    "server_late",
    "main",
]

#: Environment variables a Rig sets for the processes that run inside it.
ENV_KEYS = (
    "ALSA_CONFIG_PATH",
    "JACK_DEFAULT_SERVER",
    "JACK_NO_START_SERVER",
    "JACK_NO_AUDIO_RESERVATION",
    "FLITZIS_AUDIO_DEVICE",
    "FLZ_RIG_RATE_HZ",
    "FLZ_RIG_PERIOD_FRAMES",
    "FLZ_RIG_TEE",
    "FLZ_RIG_RECORD",
    "FLZ_RIG_RECORD_TIMES",
    "FLZ_RIG_SERVER_XRUNS",
)



def instrumented():
    """Whether this run is instrumented (a sanitizer, valgrind).

    True when ``FLZ_INSTRUMENTED`` is set to anything but "" or "0"
    (scripts/sanitize.sh sets it). Instrumented code is several times
    slower, so one block may miss its deadline: such runs check
    correctness, and a test asks this before it asserts that no xrun
    happened.
    """
    return os.environ.get("FLZ_INSTRUMENTED", "") not in ("", "0")


# -- server xruns ---------------------------------------------------------------

#: Kinds of server xrun line that mean the rig, not the program under test, was
#: late: the server's own timer, or the rig's recorder not finishing a cycle.
#: "client" (any other client did not finish, e.g. the engine's own JACK
#: client) is recorded but excuses nothing.
SERVER_LATE_KINDS = ("timer", "recorder")
#: Widening of a window on both sides when matching server xruns to it: the
#: time of a line is when the rig read it, a little after jackd noticed.
WINDOW_MARGIN_NS = 100 * 1000 * 1000
#: How often a measurement is taken when the server was late in it.
DEFAULT_ATTEMPTS = 3

_TIMER_XRUN = "JackTimedDriver::Process XRun"
_CLIENT_XRUN = "JackEngine::XRun: client"


def _server_xrun_kind(line, rig_clients):
    """The kind of one jackd log line, or None when it is not about an xrun."""
    if _TIMER_XRUN in line:
        return "timer"
    if _CLIENT_XRUN in line:
        # "... client = NAME was not finished, ..." or "... client NAME finished after ..."
        rest = line.split(_CLIENT_XRUN, 1)[1].lstrip(" =")
        name = rest.split(" ", 1)[0]
        return "recorder" if name in rig_clients else "client"
    return None


def read_server_xruns(path=None):
    """The server xruns the rig has seen so far.

    @param path the file (default ``$FLZ_RIG_SERVER_XRUNS``)
    @return a list of (time_ns, kind, text), oldest first; [] when there is
        no such file (not inside a rig that keeps one)
    """
    path = path or os.environ.get("FLZ_RIG_SERVER_XRUNS")
    if not path:
        return []
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].isdigit():
            out.append((int(parts[0]), parts[1], parts[2]))
    return out


def server_late(t0_ns, t1_ns, entries=None, margin_ns=WINDOW_MARGIN_NS):
    """The server xruns of SERVER_LATE_KINDS inside [t0_ns, t1_ns], widened by margin_ns.

    @param t0_ns, t1_ns CLOCK_MONOTONIC times (``time.monotonic_ns()``)
    @param entries read_server_xruns()'s list (default: read it now)
    """
    if entries is None:
        entries = read_server_xruns()
    return [e for e in entries
            if e[1] in SERVER_LATE_KINDS and t0_ns - margin_ns <= e[0] <= t1_ns + margin_ns]


class ServerLate(Exception):
    """A check failed while the server itself was late in the check's window.

    Raised by Attempt.expect(); rerun_while_server_late() measures again.
    Attributes: message (the check's), late (the server xruns, see
    server_late()).
    """

    def __init__(self, message, late):
        super().__init__(message)
        self.message = message
        self.late = late

    def describe(self):
        first = self.late[0]
        return "%s; the JACK server xrun'd %d time(s) in the window (first: %s: %s)" % (
            self.message, len(self.late), first[1], first[2])


class Attempt:
    """One measurement of a test that rerun_while_server_late() runs.

    The test registers the windows (CLOCK_MONOTONIC ns) its checks depend on
    with window(), then makes each check that a late server can break (a
    deadline, the continuity of what JACK heard) with expect(). Every other
    check stays a plain assert: nothing excuses it.

    @param number 1 for the first attempt
    @param source a callable returning read_server_xruns()'s list (default:
        read ``$FLZ_RIG_SERVER_XRUNS`` at each check), e.g. Rig.server_xruns
        of a rig the test stops before it checks
    """

    def __init__(self, number=1, source=None):
        self.number = number
        self.source = source
        self.windows = []

    def window(self, t0_ns, t1_ns):
        """Checks made from now on depend on what happened in [t0_ns, t1_ns]."""
        self.windows.append((int(t0_ns), int(t1_ns)))

    def late(self):
        """The server xruns in the registered windows (server_late())."""
        entries = self.source() if self.source is not None else read_server_xruns()
        late = []
        for t0, t1 in self.windows:
            late += [e for e in server_late(t0, t1, entries) if e not in late]
        return late

    def expect(self, ok, message):
        """Check ok. When false: ServerLate if the server was late in a
        window, else AssertionError(message): the program under test failed
        while the server was on time."""
        if ok:
            return
        late = self.late()
        if late:
            raise ServerLate(message, late)
        raise AssertionError(message + " (the JACK server was on time: no server "
                             "xrun in the window)")


def rerun_while_server_late(measure, skip, attempts=DEFAULT_ATTEMPTS, source=None,
                            log=None):
    """Run measure(attempt) until it passes or the server was on time.

    measure gets an Attempt and makes its checks. Its result is returned
    when it passes; an AssertionError (any check, or an expect() while the
    server was on time) goes to the caller at once. Only a ServerLate makes
    it measure again, at most attempts times in all; after the last,
    skip(reason) is called (pytest.skip) with a reason that names the server
    xruns of every attempt. So a failure is never turned into a pass.

    @param log where each rerun is announced (default sys.stderr)
    """
    log = log or sys.stderr
    seen = []
    for number in range(1, attempts + 1):
        try:
            return measure(Attempt(number, source))
        except ServerLate as late:
            seen.append(late)
            log.write("rig: attempt %d of %d inconclusive: %s\n"
                      % (number, attempts, late.describe()))
            log.flush()
    counts = ", ".join(str(len(s.late)) for s in seen)
    return skip("the JACK server itself xrun'd in the measured window in each of %d "
                "attempts (%s server xruns), so the check could not be judged; last: %s"
                % (attempts, counts, seen[-1].describe()))


_INSTALL_HINT = (
    "the headless audio rig needs the JACK server and the ALSA jack plugin: "
    "install jackd2 and libasound2-plugins (Debian/Ubuntu: "
    "apt-get install jackd2 libasound2-plugins)"
)

_JACK_PLUGIN_DIRS = (
    "/usr/lib/x86_64-linux-gnu/alsa-lib",
    "/usr/lib/aarch64-linux-gnu/alsa-lib",
    "/usr/lib/i386-linux-gnu/alsa-lib",
    "/usr/lib/arm-linux-gnueabihf/alsa-lib",
    "/usr/lib64/alsa-lib",
    "/usr/lib/alsa-lib",
)


_JACK_REGISTRY = "/dev/shm/jack-shm-registry"
# jackd2's registry: a 24-byte header (magic "KCAJ", ..., hdr_len at byte
# 16), then the server table, one entry per server: pid (int32) and the
# name "jack-UID:NAME:" in 260 bytes.
_REGISTRY_ENTRY_BYTES = 264


def _registry_servers():
    """(pid, name) of every server entry in JACK's shm registry, best effort."""
    try:
        with open(_JACK_REGISTRY, "rb") as f:
            head = f.read(24)
            if len(head) < 24 or head[:4] != b"KCAJ":
                return []
            hdr_len = struct.unpack_from("<I", head, 16)[0]
            n_servers = (hdr_len - 24) // _REGISTRY_ENTRY_BYTES
            if not 1 <= n_servers <= 64:
                return []
            table = f.read(n_servers * _REGISTRY_ENTRY_BYTES)
    except OSError:
        return []
    servers = []
    for i in range(len(table) // _REGISTRY_ENTRY_BYTES):
        entry = table[i * _REGISTRY_ENTRY_BYTES:(i + 1) * _REGISTRY_ENTRY_BYTES]
        pid = struct.unpack_from("<i", entry, 0)[0]
        name = entry[4:].split(b"\0", 1)[0].decode("utf-8", "replace")
        servers.append((pid, name))
    return servers


def _pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def reclaim_stale_servers(jackd="jackd", jack_wait="jack_wait", only_when_full=True):
    """Free JACK registry entries left by servers that were killed.

    jackd2 has room for 8 servers per machine. A server that dies without
    unregistering (SIGKILL, a crash: e.g. a device-loss test) keeps its entry
    until a server of the same name starts again, so unique names leak
    entries until no server can start ("Too many servers already active").
    When the table is full, this starts and cleanly stops a server under each
    dead entry's name (ours only), which is how JACK itself reclaims one.

    @param only_when_full leave dead entries alone while a free one exists
    @return the number of entries reclaimed
    """
    servers = _registry_servers()
    if not servers or (only_when_full and any(pid == 0 for pid, _ in servers)):
        return 0
    prefix = "jack-%d:" % os.getuid()
    n = 0
    for pid, entry in servers:
        if not (pid > 0 and _pid_gone(pid) and entry.startswith(prefix)
                and entry.endswith(":")):
            continue
        name = entry[len(prefix):-1]
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1")
        proc = subprocess.Popen([jackd, "-n", name, "-d", "dummy"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        subprocess.run([jack_wait, "-s", name, "-w", "-t", "5"], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        Rig._end(proc)
        n += 1
    return n


class RigError(RuntimeError):
    """The rig could not be set up (a missing program, a server that did not start)."""


def _jack_plugin_present():
    for d in _JACK_PLUGIN_DIRS:
        if os.path.exists(os.path.join(d, "libasound_module_pcm_jack.so")):
            return True
    # An unusual libdir: do not refuse, ALSA will say so itself on open.
    return not any(os.path.isdir(d) for d in _JACK_PLUGIN_DIRS)


def find_recorder(explicit=None):
    """Locate the ``flz-jack-rec`` program.

    Looks at ``explicit``, then ``$FLZ_JACK_REC``, then ``PATH``, then the
    usual build directories next to the source tree.

    @return the path, or None when it was not found.
    """
    for cand in (explicit, os.environ.get("FLZ_JACK_REC")):
        if cand:
            return cand if os.access(cand, os.X_OK) else None
    found = shutil.which("flz-jack-rec")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        entries = []
    for entry in entries:
        cand = os.path.join(root, entry, "tests", "rig", "flz-jack-rec")
        if entry.startswith("build") and os.access(cand, os.X_OK):
            return cand
    return None


def _alsa_config(ports, tee_path, null_tee=False):
    """The text of the hermetic ALSA configuration."""
    if ports:
        sink = ("%s:in_1" % ports, "%s:in_2" % ports)
    else:
        sink = ("system:playback_1", "system:playback_2")
    lines = [
        "# Written by the flitzis_looper_rs rig; only these PCMs exist.",
        "pcm.flzjack {",
        "    type jack",
        '    playback_ports { 0 "%s" 1 "%s" }' % sink,
        '    hint.description "Rig: the JACK server, FLOAT_LE only"',
        "}",
        "pcm.flzint {",
        "    type lfloat",
        '    slave { pcm "flzjack" format FLOAT_LE }',
        '    hint.description "Rig: JACK behind integer formats only"',
        "}",
        "pcm.flzs16 {",
        "    type plug",
        '    slave { pcm "flzint" format S16_LE }',
        '    hint.description "Rig: JACK through 16-bit samples"',
        "}",
        'pcm.flznull { type null hint.description "Rig: discards everything, not paced" }',
    ]
    if tee_path:
        lines += [
            "pcm.flztee {",
            "    type file",
            '    slave.pcm "flzjack"',
            '    file "%s"' % tee_path.replace("\\", "\\\\").replace('"', '\\"'),
            '    format "raw"',
            '    hint.description "Rig: JACK with a raw copy of every frame"',
            "}",
            'pcm.!default { type plug slave.pcm "flztee" hint.description "Rig: default output" }',
        ]
    else:
        lines.append('pcm.!default { type plug slave.pcm "flzjack" '
                     'hint.description "Rig: default output" }')
    return "\n".join(lines) + "\n"


class Rig:
    """A private JACK dummy server plus a hermetic ALSA configuration.

    @param period_frames JACK period (``-p``)
    @param rate_hz JACK sample rate (``-r``)
    @param tee None (no tee), True (a file in the rig's temp dir, removed by
        stop()) or a path: the ``default`` PCM writes every committed frame
        there, raw interleaved FLOAT_LE at the engine's rate and channels.
    @param record None or a path: run ``flz-jack-rec`` (client ``rec``) and
        write what arrives at its ports there (raw interleaved FLOAT_LE,
        2 channels at rate_hz); the CLOCK_MONOTONIC time of each cycle goes
        to ``record_times`` (default: record + ".ns", one int64 per cycle).
    @param ports None or a JACK client name whose ``in_1``/``in_2`` ports the
        ALSA ``jack`` PCM connects to; defaults to "rec" when recording.
    @param export_env when True, start() also puts ``env`` into os.environ
        (so an engine in this process uses the rig) and stop() restores it.
    @param recorder path of ``flz-jack-rec`` (else see find_recorder()).
    @param name JACK server name (default: unique per process and rig).

    The server's xruns go to ``server_xruns_path`` (``FLZ_RIG_SERVER_XRUNS``,
    in the temp dir) as jackd logs them; server_xruns() reads them, also
    after stop().

    Thread: control (not thread-safe; a thread of the rig copies jackd's
    log). Ownership: the rig owns its temp dir, the server, the recorder and
    that thread; stop() ends them, also at interpreter exit.
    """

    _count = 0

    def __init__(self, period_frames=64, rate_hz=48000, tee=None, record=None,
                 record_times=None, ports=None, export_env=True, recorder=None,
                 name=None, verbose=False):
        if int(period_frames) <= 0 or int(rate_hz) <= 0:
            raise ValueError("period_frames and rate_hz must be positive")
        Rig._count += 1
        self.period_frames = int(period_frames)
        self.rate_hz = int(rate_hz)
        self.name = name or "flzrig%d_%d" % (os.getpid(), Rig._count)
        self._tee = tee
        self.record_path = os.path.abspath(record) if record else None
        if record_times:
            self.record_times_path = os.path.abspath(record_times)
        elif record:
            self.record_times_path = self.record_path + ".ns"
        else:
            self.record_times_path = None
        self.ports = ports or ("rec" if record else None)
        self.export_env = export_env
        self._recorder_arg = recorder
        self.verbose = verbose
        self.tmpdir = None
        self.tee_path = None
        self.config_path = None
        self.server_xruns_path = None
        self.env = {}
        self._jackd = None
        self._log_thread = None
        self._last_server_xruns = []
        self._rec = None
        self._saved_env = None
        self._exit_hooked = False

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Write the configuration, start the server (and the recorder).

        @return self
        Errors: RigError when jackd, the ALSA jack plugin or the recorder is
        missing, or the server does not become ready within 10 s.
        """
        if self._jackd is not None:
            raise RigError("rig already started")
        jackd = shutil.which("jackd")
        jack_wait = shutil.which("jack_wait")
        if not jackd or not jack_wait or not _jack_plugin_present():
            raise RigError(_INSTALL_HINT)
        rec_bin = None
        if self.record_path:
            rec_bin = find_recorder(self._recorder_arg)
            if not rec_bin:
                raise RigError("the recorder flz-jack-rec was not found: build it "
                               "(meson -Drig=enabled) and pass --recorder or set "
                               "FLZ_JACK_REC")

        self.tmpdir = tempfile.mkdtemp(prefix="flz-rig-")
        if self._tee is True:
            self.tee_path = os.path.join(self.tmpdir, "tee.raw")
        elif self._tee:
            self.tee_path = os.path.abspath(self._tee)
        if self.tee_path:
            # Exists (empty) even when nothing is ever played.
            open(self.tee_path, "wb").close()
        self.config_path = os.path.join(self.tmpdir, "asound.conf")
        with open(self.config_path, "w") as f:
            f.write(_alsa_config(self.ports, self.tee_path))
        self.server_xruns_path = os.path.join(self.tmpdir, "server-xruns.txt")
        open(self.server_xruns_path, "wb").close()
        self._last_server_xruns = []

        self.env = {
            "ALSA_CONFIG_PATH": self.config_path,
            "JACK_DEFAULT_SERVER": self.name,
            "JACK_NO_START_SERVER": "1",
            "JACK_NO_AUDIO_RESERVATION": "1",
            "FLITZIS_AUDIO_DEVICE": "default",
            # For programs that want to know what the rig captures.
            "FLZ_RIG_RATE_HZ": str(self.rate_hz),
            "FLZ_RIG_PERIOD_FRAMES": str(self.period_frames),
            "FLZ_RIG_SERVER_XRUNS": self.server_xruns_path,
        }
        if self.tee_path:
            self.env["FLZ_RIG_TEE"] = self.tee_path
        if self.record_path:
            self.env["FLZ_RIG_RECORD"] = self.record_path
            self.env["FLZ_RIG_RECORD_TIMES"] = self.record_times_path
        child_env = dict(os.environ)
        child_env.update(self.env)

        if not self._exit_hooked:
            import atexit
            atexit.register(self.stop)
            self._exit_hooked = True

        reclaim_stale_servers(jackd, jack_wait)
        log_path = os.path.join(self.tmpdir, "jackd.log")
        try:
            # Own session: a Ctrl-C at the terminal must reach the program
            # under test, not tear the server down beneath it.
            self._jackd = subprocess.Popen(
                [jackd, "-n", self.name, "-R", "-P", "80", "-S",
                 "-d", "dummy", "-r", str(self.rate_hz),
                 "-p", str(self.period_frames)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=child_env, start_new_session=True)
            self._log_thread = threading.Thread(
                target=self._copy_server_log,
                args=(self._jackd.stdout, log_path, self.server_xruns_path,
                      (self.ports or "rec",) if self.record_path else ()),
                name="rig-jackd-log", daemon=True)
            self._log_thread.start()
            ready = subprocess.run(
                [jack_wait, "-s", self.name, "-w", "-t", "10"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=child_env).returncode == 0
            if not ready or self._jackd.poll() is not None:
                if self._jackd.poll() is not None:
                    self._log_thread.join(2.0)  # the whole log, up to jackd's exit
                raise RigError("the JACK dummy server did not start:\n"
                               + self._log_tail(log_path))
            if rec_bin:
                self._start_recorder(rec_bin, child_env)
        except BaseException:
            self.stop()
            raise
        if self.export_env:
            self._saved_env = {k: os.environ.get(k) for k in ENV_KEYS}
            os.environ.update(self.env)
        if self.verbose:
            sys.stderr.write("rig: JACK server %s up (%d Hz, %d frames), config %s\n"
                             % (self.name, self.rate_hz, self.period_frames,
                                self.config_path))
        return self

    @staticmethod
    def _copy_server_log(pipe, log_path, xruns_path, rig_clients):
        """Copy jackd's output to log_path; each xrun line also to xruns_path,
        stamped with the CLOCK_MONOTONIC time it arrived. Runs until jackd
        closes its output (it exits): never stops reading before, so jackd
        can never block on a full pipe."""
        with open(log_path, "ab") as log, open(xruns_path, "a", encoding="utf-8") as xruns:
            for raw in iter(pipe.readline, b""):
                now_ns = time.monotonic_ns()
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").strip()
                kind = _server_xrun_kind(line, rig_clients)
                if kind:
                    xruns.write("%d %s %s\n" % (now_ns, kind, line))
                    xruns.flush()
        pipe.close()

    def server_xruns(self):
        """The server xruns so far (read_server_xruns() of this rig's file),
        or, after stop(), those of the last run."""
        if self.server_xruns_path and self.tmpdir:
            return read_server_xruns(self.server_xruns_path)
        return list(self._last_server_xruns)

    def _start_recorder(self, rec_bin, child_env):
        self._rec = subprocess.Popen(
            [rec_bin, "--name", self.ports or "rec",
             "--out", self.record_path, "--times", self.record_times_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            env=child_env, start_new_session=True)
        # The recorder prints "ready" once its ports exist and it is active;
        # the engine's jack PCM connects to them when it starts.
        deadline = time.monotonic() + 10.0
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self._rec.stdout], [], [],
                                    max(0.0, deadline - time.monotonic()))
            if not r:
                break
            chunk = os.read(self._rec.stdout.fileno(), 64)
            if not chunk:
                break
            line += chunk
        if not line.startswith(b"ready"):
            raise RigError("the recorder did not start (%r)" % line)

    def stop(self):
        """Stop the recorder and the server; remove the temp dir.

        Idempotent. The recorder is given ~0.3 s so the last cycles arrive.
        A tee file given by path is kept; tee=True's file is removed.
        """
        if self._saved_env is not None:
            for k, v in self._saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            self._saved_env = None
        if self._rec is not None:
            if self._rec.poll() is None:
                time.sleep(0.3)
            self._end(self._rec)
            if self._rec.stdout:
                self._rec.stdout.close()
            self._rec = None
        if self._jackd is not None:
            self._end(self._jackd)
            self._jackd = None
        if self._log_thread is not None:
            self._log_thread.join(5.0)  # jackd is gone: its output ends
            self._log_thread = None
        if self.tmpdir and self.server_xruns_path:
            self._last_server_xruns = read_server_xruns(self.server_xruns_path)
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    @staticmethod
    def _end(proc):
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def recorder_status(self):
        """Exit status of the recorder (None while it runs or when not used)."""
        return None if self._rec is None else self._rec.poll()

    @staticmethod
    def _log_tail(path, n_lines=20):
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-n_lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- captures ----------------------------------------------------------

    def tee_to_wav(self, wav_path, rate_hz=None, n_channels=2, bits=16):
        """Convert the tee capture to a WAV file (see raw_to_wav()).

        Call it after the engine has closed the device (the file PCM writes
        its last frames on close). rate_hz defaults to the server's rate.
        @return the number of frames written.
        """
        if not self.tee_path:
            raise RigError("this rig has no tee")
        return raw_to_wav(self.tee_path, wav_path, rate_hz or self.rate_hz,
                          n_channels, bits)


# -- raw float captures ------------------------------------------------------

def read_raw(path):
    """Read a raw FLOAT_LE capture into an ``array('f')`` (interleaved)."""
    data = array.array("f")
    with open(path, "rb") as f:
        blob = f.read()
    blob = blob[: len(blob) - len(blob) % 4]
    data.frombytes(blob)
    if sys.byteorder == "big":
        data.byteswap()
    return data


def read_times(path):
    """Read a recorder timestamp file: one int64 CLOCK_MONOTONIC ns per cycle."""
    data = array.array("q")
    with open(path, "rb") as f:
        blob = f.read()
    data.frombytes(blob[: len(blob) - len(blob) % 8])
    if sys.byteorder == "big":
        data.byteswap()
    return data


def raw_to_wav(raw_path, wav_path, rate_hz, n_channels=2, bits=16):
    """Convert a raw interleaved FLOAT_LE capture to WAV.

    @param bits 16 (PCM, clipped to [-1, 1) and rounded) or 32 (IEEE float,
        bit-exact; written with a WAVE_FORMAT_IEEE_FLOAT header)
    @return the number of frames written
    """
    samples = read_raw(raw_path)
    n_frames = len(samples) // n_channels
    del samples[n_frames * n_channels:]
    if bits == 16:
        pcm = array.array("h", bytes(2 * len(samples)))
        for i, x in enumerate(samples):
            v = int(round(x * 32768.0)) if x == x else 0
            pcm[i] = 32767 if v > 32767 else (-32768 if v < -32768 else v)
        if sys.byteorder == "big":
            pcm.byteswap()
        with wave.open(wav_path, "wb") as w:
            w.setnchannels(n_channels)
            w.setsampwidth(2)
            w.setframerate(rate_hz)
            w.writeframes(pcm.tobytes())
    elif bits == 32:
        if sys.byteorder == "big":
            samples.byteswap()
        payload = samples.tobytes()
        block_align = 4 * n_channels
        fmt = struct.pack("<HHIIHH", 3, n_channels, rate_hz,
                          rate_hz * block_align, block_align, 32)
        # Non-PCM formats carry a cbSize field and a fact chunk.
        fmt += struct.pack("<H", 0)
        chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt
                  + b"fact" + struct.pack("<II", 4, n_frames)
                  + b"data" + struct.pack("<I", len(payload)))
        with open(wav_path, "wb") as f:
            f.write(b"RIFF" + struct.pack("<I", 4 + len(chunks) + len(payload))
                    + b"WAVE")
            f.write(chunks)
            f.write(payload)
            if len(payload) % 2:
                f.write(b"\0")
    else:
        raise ValueError("bits must be 16 or 32")
    return n_frames


# -- command line --------------------------------------------------------------

def main(argv=None):
    """Run a command inside a rig; returns its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        i = argv.index("--")
        own, cmd = argv[:i], argv[i + 1:]
    else:
        own, cmd = argv, []
    p = argparse.ArgumentParser(
        prog="rig.py",
        description="Run CMD with ALSA pointed at a private JACK dummy server "
                    "(headless, paced in real time).",
        usage="%(prog)s [options] -- CMD [ARGS...]")
    p.add_argument("--period", type=int, default=64, help="JACK period in frames (64)")
    p.add_argument("--rate", type=int, default=48000, help="JACK rate in Hz (48000)")
    p.add_argument("--tee", metavar="FILE",
                   help="write every frame committed to the default PCM here (raw float)")
    p.add_argument("--tee-wav", metavar="WAV",
                   help="also convert the tee to this 16-bit WAV at the end")
    p.add_argument("--record", metavar="FILE",
                   help="run the flz-jack-rec recorder; write what it hears here")
    p.add_argument("--record-times", metavar="FILE",
                   help="recorder cycle timestamps (default FILE.ns)")
    p.add_argument("--recorder", metavar="PATH", help="path of flz-jack-rec")
    p.add_argument("--ports", metavar="CLIENT",
                   help="connect the jack PCM to CLIENT:in_1/in_2 (default: rec "
                        "when recording, else system:playback_*)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(own)
    if not cmd:
        p.error("no command given (put it after --)")

    rig = Rig(period_frames=args.period, rate_hz=args.rate, tee=args.tee,
              record=args.record, record_times=args.record_times,
              ports=args.ports, export_env=False, recorder=args.recorder,
              verbose=args.verbose)

    child = [None]
    caught = []

    def forward(signum, frame):
        caught.append(signum)
        if signum == signal.SIGINT and child[0] is not None:
            # A Ctrl-C at the terminal reaches CMD (our process group)
            # directly; forwarding it would deliver it twice.
            return
        if child[0] is not None and child[0].poll() is None:
            try:
                child[0].send_signal(signum)
            except OSError:
                pass
        elif signum != signal.SIGINT:
            raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, forward)

    try:
        try:
            rig.start()
        except RigError as e:
            sys.stderr.write("rig.py: %s\n" % e)
            return 69  # EX_UNAVAILABLE
        env = dict(os.environ)
        env.update(rig.env)
        try:
            child[0] = subprocess.Popen(cmd, env=env)
        except OSError as e:
            sys.stderr.write("rig.py: cannot run %s: %s\n" % (cmd[0], e))
            return 127
        while True:
            try:
                status = child[0].wait()
                break
            except InterruptedError:
                continue
        if args.tee and args.tee_wav:
            raw_to_wav(args.tee, args.tee_wav, args.rate)
        return status if status >= 0 else 128 - status
    finally:
        rig.stop()


if __name__ == "__main__":
    sys.exit(main())
