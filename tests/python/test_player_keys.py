# SPDX-License-Identifier: MIT
"""The player as an instrument: keys in through a pseudo-terminal, the status
line read back from it, and the wav device's file checked for what the keys
did. Needs no rig: the player plays on wav:PATH."""

import math
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy
import pytest

from flitzis_looper_rs import AudioEngine, player

from conftest import read_float_wav, wait_for, write_wav

RATE = 48000
LOOP_FRAMES = 4800  # 0.1 s: 44 whole cycles of 440 Hz, so the loop joins seamlessly

# The child stands in for a job-control shell: a session leader (Popen's
# start_new_session) with the pseudo-terminal as its controlling terminal; it
# starts the player in a process group of its own, made the terminal's
# foreground group before the exec, tells the player's pid through the pipe
# whose fd is its first argument, and exits with the player's status. So job
# control (Ctrl-Z stops it: its group is not orphaned), Ctrl-C (ISIG) and the
# player's foreground check work as in a terminal with a shell.
SHELL = """
import fcntl, os, signal, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
pid = os.fork()
if pid == 0:
    os.close(int(sys.argv[1]))
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.tcsetpgrp(0, os.getpid())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, "-m", "flitzis_looper_rs"] + sys.argv[2:])
os.write(int(sys.argv[1]), b"%d" % pid)
os.close(int(sys.argv[1]))
_, status = os.waitpid(pid, 0)  # not WUNTRACED: returns when it has ended
sys.exit(os.waitstatus_to_exitcode(status))
"""

# time, speed, volume, output peak (dBFS, CLIP), the note (12 columns), the
# pads (key, state, meter bar), voices, xruns, latency, load
STATUS = re.compile(r"(\d+\.\d)s  spd (\S+)  vol (\S+)  out +(\S+) dB(?: CLIP)?  (.{12})  "
                    r"((?:\S[>-][#.]{5} ?)*)  \d+ voices?  xruns")


def cosine_loop(path, freq_hz, amp=0.5):
    """A mono 16-bit loop; returns its path and the frames as the loader decodes them."""
    values = [amp * math.cos(2 * math.pi * freq_hz * i / RATE) for i in range(LOOP_FRAMES)]
    write_wav(path, values)
    ints = numpy.array([int(round(x * 32767)) for x in values], dtype=numpy.float64)
    return str(path), ints / 32768.0


class Terminal:
    """The player on the slave side of a pty; what it wrote, read from the master."""

    def __init__(self, args, cwd):
        self.master, self.slave = os.openpty()
        import fcntl
        import termios
        # 200 columns: the status line is cut to the terminal's width.
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.saved = termios.tcgetattr(self.slave)
        env = dict(os.environ)
        for k in ("FLITZIS_AUDIO_DEVICE", "ALSA_CONFIG_PATH", "COLUMNS", "LINES"):
            env.pop(k, None)
        r, w = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-c", SHELL, str(w)] + args,
                                     stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                     env=env, cwd=cwd, start_new_session=True, pass_fds=(w,))
        os.close(w)
        with os.fdopen(r, "rb") as f:
            said = f.read()  # the player's pid; nothing when the shell failed
        if not said.isdigit() or int(said) <= 1:
            self.proc.wait(timeout=60)
            raise AssertionError("the shell did not start the player: %r" % said)
        self.pid = int(said)
        self.text = ""

    def pump(self, timeout_s=0.05):
        ready, _, _ = select.select([self.master], [], [], timeout_s)
        if ready:
            try:
                self.text += os.read(self.master, 65536).decode("utf-8", "replace")
            except OSError:
                pass

    def status(self):
        """The newest complete status line (redrawn after a carriage return), parsed."""
        found = STATUS.findall(self.text.rsplit("\r", 2)[-2] if "\r" in self.text else "")
        if not found:
            return None
        t, spd, vol, out, note, pads = found[-1]
        return {"t": float(t), "spd": spd, "vol": vol, "out": out, "note": note.strip(),
                "pads": pads.split(), "line": self.text.rsplit("\r", 2)[-2]}

    def wait(self, what, predicate, timeout_s=60.0):
        """Poll the screen until predicate(status) holds (readiness only: the
        timeout is generous and nothing is asserted on time)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump()
            st = self.status()
            if st is not None and predicate(st):
                return st
            if self.proc.poll() is not None:
                break
        self.pump()
        raise AssertionError("waiting for %s; the screen:\n%s" % (what, self.text[-3000:]))

    def wait_audio(self, since_s, more_s):
        """Until the status shows more_s seconds of output after since_s."""
        return self.wait("%.1f s of output" % (since_s + more_s),
                         lambda st: st["t"] >= since_s + more_s)

    def send(self, keys):
        os.write(self.master, keys)

    def finish(self, timeout_s=60.0):
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump()
        if self.proc.poll() is None:
            self.kill()
            raise AssertionError("the player did not quit:\n" + self.text[-3000:])
        self.pump(0.0)
        import termios
        attrs = termios.tcgetattr(self.slave)
        os.close(self.master)
        os.close(self.slave)
        return self.proc.returncode, attrs

    def kill(self):
        """After a failure: the player (then the shell) killed."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def loops(tmp_path):
    one = cosine_loop(tmp_path / "one.wav", 440.0)
    two = cosine_loop(tmp_path / "two.wav", 1000.0)
    return one, two


def zero_crossing_hz(x):
    """Frequency from the rising zero crossings, each placed by linear interpolation."""
    i = numpy.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    at = i + (-x[i]) / (x[i + 1] - x[i])
    return (len(at) - 1) / (at[-1] - at[0]) * RATE


def test_player_keys_play_the_pads(tmp_path, loops):
    """Key 1 starts pad 0, "-" twice lowers the master to 0.90, "]" twice
    raises the speed to 1.10, space stops all, q quits; a key with no pad
    only says so. Each key is sent once the screen showed the last one's
    effect and then enough output (by the status line's time, the output
    frames played) for the file to hold a stretch of each state."""
    (one, ref), (two, _) = loops
    out = str(tmp_path / "heard.wav")
    term = Terminal(["play", "--wav", "--out", out, "--period-frames", "256", "--periods", "2",
                     "--start", "none", one, two], cwd=str(tmp_path))
    try:
        st = term.wait("the status line", lambda st: True)
        assert "2 x 256 frames" in term.text
        assert "slot 0: one.wav (key 1)" in term.text and "slot 1: two.wav (key 2)" in term.text
        assert player.KEY_HELP in term.text
        # --start none: nothing plays before a key.
        assert st["pads"] == ["1-.....", "2-....."] and st["out"] == "-inf"

        term.send(b"z")  # pad 34: nothing loaded
        st = term.wait("the note on the empty pad", lambda st: st["note"] == "pad z: empty")
        assert st["pads"] == ["1-.....", "2-....."] and st["out"] == "-inf"

        term.send(b"1")
        st = term.wait("pad 1 playing with its meter up",
                       lambda st: st["pads"][0].startswith("1>") and "#" in st["pads"][0])
        # 0.8 x 0.5 = -8.0 dBFS: four of the five levels (-48, -36, -24, -12).
        assert st["pads"][0] == "1>####." and st["pads"][1] == "2-....."
        assert "1 voice" in st["line"]
        st = term.wait_audio(st["t"], 0.6)
        assert st["out"] == "-8.0", st["line"]

        term.send(b"--")
        st = term.wait("volume 0.90 in the output meter",
                       lambda st: st["vol"] == "0.90" and st["out"] == "-8.9")
        st = term.wait_audio(st["t"], 0.6)

        term.send(b"]]")
        st = term.wait("speed 1.10", lambda st: st["spd"] == "1.10")
        st = term.wait_audio(st["t"], 0.6)

        term.send(b" ")
        st = term.wait("silence after space",
                       lambda st: st["out"] == "-inf" and st["pads"] == ["1-.....", "2-....."])
        assert "0 voices" in st["line"]
        st = term.wait_audio(st["t"], 0.4)

        term.send(b"q")
        rc, attrs = term.finish()
    finally:
        term.kill()
    assert rc == 0, term.text[-3000:]
    assert attrs == term.saved, "the terminal's modes were not restored"
    assert "what would have been heard: %s" % out in term.text

    rate, channels, frames, _, _ = read_float_wav(out)
    assert rate == RATE and channels == 2
    assert numpy.array_equal(frames[:, 0], frames[:, 1])  # the mono loop on both channels
    x = frames[:, 0].astype(numpy.float64)
    nz = numpy.flatnonzero(x)
    assert len(nz), "the file is silent"
    onset, last = int(nz[0]), int(nz[-1])
    assert onset > 0  # silence until key 1 (exact zeros)

    # Key 1: the loop at the voice volume 0.8 and master 1.0, frame for frame
    # (tolerance 1e-6: float32 products), for at least 0.5 s.
    n_a = int(0.5 * RATE)  # 0.6 s awaited, the screen's time rounded to 0.1 s
    tiled = numpy.resize(ref, len(x) - onset)  # the loop repeated from the onset
    assert numpy.abs(x[onset:onset + n_a] - 0.8 * tiled[:n_a]).max() < 1e-6
    # "--": the same loop at master 0.90 (after the 10 ms glide), for at least
    # 0.5 s (0.6 s awaited, the screen's time rounded to 0.1 s), after the first
    # state. Frames where the loop is near zero tell nothing: only |loop| > 0.1
    # counts. The run ends where the speed change moves the phase.
    big = numpy.flatnonzero(numpy.abs(tiled) > 0.1)
    first = numpy.abs(x[onset + big] - 0.8 * tiled[big]) < 1e-6
    lower = numpy.abs(x[onset + big] - 0.72 * tiled[big]) < 1e-6
    a_end = int(big[numpy.argmin(first)])  # the first big frame not at 0.8
    assert first[:numpy.argmin(first)].all() and a_end >= n_a
    k0 = int(numpy.argmax(lower))
    assert lower[k0], "no frame at master 0.90"
    k1 = k0 + (int(numpy.argmin(lower[k0:])) if not lower[k0:].all() else len(lower) - k0)
    b_start, b_end = int(big[k0]), int(big[k1 - 1]) + 1
    assert 0 < b_start - a_end <= 2400  # the glide between them: 10 ms, within a period or two
    assert b_end - b_start >= int(0.5 * RATE)
    a_peak = numpy.abs(x[onset:onset + a_end]).max()
    b_peak = numpy.abs(x[onset + b_start:onset + b_end]).max()
    assert abs(b_peak / a_peak - 0.9) < 1e-6, (a_peak, b_peak)
    # "]]": 440 Hz x 1.10 = 484 Hz (within 0.2 %) at the same level (RMS of a
    # 0.72 x 0.5 cosine within 1 %), between the glide (20 ms) and the stop.
    c = x[onset + b_end + 2400:last - 2400]
    assert len(c) >= int(0.4 * RATE)
    assert abs(zero_crossing_hz(c) / 484.0 - 1.0) < 2e-3, zero_crossing_hz(c)
    rms = math.sqrt(float(numpy.mean(c * c)))
    assert abs(rms / (0.72 * 0.5 / math.sqrt(2)) - 1.0) < 0.01, rms
    # Space: faded out (5 ms), then exact silence for at least 0.3 s (0.4 s awaited).
    assert len(x) - last - 1 >= int(0.3 * RATE)

def test_player_keys_start_all_then_toggle_one_off(tmp_path, loops):
    """The default (--start all) on a terminal: both pads loop from the start
    (quantised: on the same frame), key 2 stops pad 2 and pad 1 plays on."""
    (one, ref), (two, ref2) = loops
    out = str(tmp_path / "heard.wav")
    term = Terminal(["play", "--wav", "--out", out, "--quantize", "1/16", one, two],
                    cwd=str(tmp_path))
    try:
        st = term.wait("both pads sounding",
                       lambda st: st["pads"][0][:3] == "1>#" and st["pads"][1][:3] == "2>#")
        st = term.wait_audio(st["t"], 0.3)
        term.send(b"2")
        st = term.wait("pad 2 silent", lambda st: st["pads"][1] == "2-.....")
        assert st["pads"][0][:3] == "1>#" and st["note"] == "pad 2 off"
        st = term.wait_audio(st["t"], 0.3)
        term.send(b"q")
        rc, attrs = term.finish()
    finally:
        term.kill()
    assert rc == 0 and attrs == term.saved, term.text[-3000:]
    _, _, frames, _, _ = read_float_wav(out)
    x = frames[:, 0].astype(numpy.float64)
    onset = int(numpy.flatnonzero(x)[0])
    n = len(x) - onset
    both = 0.8 * numpy.resize(ref, n) + 0.8 * numpy.resize(ref2, n)
    alone = 0.8 * numpy.resize(ref, n)
    # Both for at least 0.2 s (0.3 s awaited, the screen's time rounded), then
    # after pad 2's 5 ms fade pad 1 alone for at least 0.2 s (within 1e-6).
    k_both = int(numpy.argmax(numpy.abs(x[onset:] - both) >= 1e-6))
    assert k_both >= int(0.2 * RATE)
    is_alone = numpy.abs(x[onset:] - alone) < 1e-6
    big = numpy.abs(0.8 * numpy.resize(ref2, n)) > 0.1  # where the two differ
    k_alone = k_both + int(numpy.argmax(is_alone[k_both:] & big[k_both:]))
    assert 0 < k_alone - k_both <= 2400
    run = is_alone[k_alone:]
    assert run[:int(0.2 * RATE)].all()


def process_state(pid):
    """The state letter of /proc/PID/stat ("T": stopped)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "ctrl-z"])
def test_player_keys_terminal_restored(tmp_path, loops, how):
    """Ctrl-C typed on the terminal (its ISIG sends SIGINT) and SIGTERM end
    the player cleanly, and so does q after a Ctrl-Z and SIGCONT: exit status
    0, the file finalised, the terminal's modes as they were before."""
    (one, _), _ = loops
    out = str(tmp_path / "heard.wav")
    term = Terminal(["play", "--wav", "--out", out, "--start", "none", one], cwd=str(tmp_path))
    try:
        term.wait("the status line", lambda st: True)
        term.send(b"1")
        term.wait("pad 1 playing", lambda st: "#" in st["pads"][0])
        import termios
        assert termios.tcgetattr(term.slave) != term.saved  # cbreak meanwhile
        if how == "ctrl-c":
            term.send(b"\x03")
        elif how == "sigterm":
            os.kill(term.pid, signal.SIGTERM)
        else:
            # Ctrl-Z: stopped with the terminal's modes restored; continued, in
            # cbreak mode again and playing on (the keys work: q quits).
            term.send(b"\x1a")
            assert wait_for(lambda: process_state(term.pid) == "T", 60.0), \
                "Ctrl-Z did not stop the player"
            assert termios.tcgetattr(term.slave) == term.saved
            os.kill(term.pid, signal.SIGCONT)
            assert wait_for(lambda: termios.tcgetattr(term.slave) != term.saved, 60.0)
            st = term.wait("the status line after SIGCONT", lambda st: True)
            term.wait_audio(st["t"], 0.2)
            term.send(b"q")
        rc, attrs = term.finish()
    finally:
        term.kill()
    assert rc == 0, term.text[-3000:]
    assert attrs == term.saved
    _, _, frames, riff_size, file_size = read_float_wav(out)
    assert riff_size == file_size - 8 and numpy.abs(frames).max() > 0.3


def test_player_keys_without_terminal_play_everything(tmp_path, loops):
    """With standard input a pipe no keys are read: every pad loops from the
    start (today's behaviour; quantised, so both on the same frame), and a "q"
    in the pipe changes nothing."""
    (one, ref), (two, ref2) = loops
    out = str(tmp_path / "heard.wav")
    env = dict(os.environ)
    env.pop("FLITZIS_AUDIO_DEVICE", None)
    env.pop("ALSA_CONFIG_PATH", None)
    p = subprocess.run([sys.executable, "-m", "flitzis_looper_rs", "play", "--wav", "--out", out,
                        "--seconds", "0.5", "--quantize", "1/16", one, two], input="q 1",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       cwd=str(tmp_path), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert player.KEY_HELP not in p.stdout
    _, _, frames, _, _ = read_float_wav(out)
    x = frames[:, 0].astype(numpy.float64)
    onset = int(numpy.flatnonzero(x)[0])
    both = 0.8 * numpy.resize(ref, 4800) + 0.8 * numpy.resize(ref2, 4800)
    assert numpy.abs(x[onset:onset + 4800] - both).max() < 1e-6


def test_player_key_decoder():
    d = player.KeyDecoder()
    assert d.feed(b"1a[]-+= q") == list("1a[]-+= q")
    # Arrow keys (ESC [ A, ESC O B) and a function key (ESC [ 1 5 ~) are no keys,
    # also split across reads; a lone ESC is dropped, and the key after it,
    # in the same read or the next, is a key.
    assert d.feed(b"\x1b[A2\x1bOB3\x1b[15~4") == ["2", "3", "4"]
    assert d.feed(b"\x1b") == [] and d.feed(b"[") == [] and d.feed(b"1;5C5") == ["5"]
    assert d.feed(b"\x1b1") == ["1"]
    assert d.feed(b"\x1b") == [] and d.feed(b"a") == ["a"]
    assert d.feed(b"\x1b\x1b[B") == []
    assert d.feed("é".encode()) == []


def press(inst, key, times):
    for _ in range(times):
        assert inst.key(key) is True
    return inst


def silent_after_fade(engine):
    """Exact zeros once any fade (5 ms, 10 ms for the master) is over."""
    engine.render(4800)
    return not engine.render(480).any()


def test_player_instrument_keys_offline(tmp_path):
    """Instrument.key() on the offline engine, checked on the rendered output:
    toggles, clamping at SPEED_MIN..SPEED_MAX and VOLUME_MIN..VOLUME_MAX, stop
    all, the empty pad's note, upper case as lower case, and q."""
    e = AudioEngine(device="offline")
    e.run()
    try:
        e.load_sample_array(0, numpy.full(4800, 0.5, numpy.float32), RATE)
        inst = player.Instrument(e, ["dc.wav"], volume=0.8)
        assert inst.key("1") is True and inst.on == {0}
        assert numpy.abs(e.render(4800) - 0.4).max() < 1e-6
        press(inst, "-", 3)
        assert inst.master == pytest.approx(0.85)
        e.render(4800)  # the 10 ms glide
        assert numpy.abs(e.render(480) - 0.34).max() < 1e-6
        assert press(inst, "+", 10).master == 1.0
        assert press(inst, "-", 30).master == 0.0
        assert silent_after_fade(e)
        assert press(inst, "=", 1).master == pytest.approx(0.05)
        assert press(inst, "]", 40).speed == 2.0
        assert press(inst, "[", 40).speed == 0.5
        inst.key("2")
        assert inst.current_note() == "pad 2: empty" and inst.on == {0}
        inst.key("1")
        assert inst.on == set() and inst.current_note() == "pad 1 off"
        assert silent_after_fade(e)
        inst.key("1")
        inst.key(" ")
        assert inst.on == set() and inst.current_note() == "all stopped"
        assert silent_after_fade(e)
        assert inst.key("Q") is False
    finally:
        e.shut_down()


def test_player_keys_cover_35_pads():
    assert len(player.PAD_KEYS) == 35 and player.PAD_KEYS[:9] == "123456789"
    assert player.PAD_KEYS[9] == "a" and player.PAD_KEYS[34] == "z"


def test_player_devices_lists_what_list_devices_gives():
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-m", "flitzis_looper_rs", "devices"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, cwd=tempfile.gettempdir(), timeout=120)
    assert p.returncode == 0, p.stderr
    names = [d.name for d in AudioEngine.list_devices()]
    listed = [line.split()[0] for line in p.stdout.splitlines()
              if line.startswith("  ") and line[2:3] != " "]
    assert listed == names
    assert "wav:PATH" in p.stdout


@pytest.mark.parametrize("args,phrase", [
    (["--period-frames", "8"], "--period-frames: period_frames out of range"),
    (["--period-frames", "9000"], "--period-frames: period_frames out of range"),
    (["--periods", "1"], "--periods: periods out of range"),
    (["--periods", "65"], "--periods: periods out of range")])
def test_player_bad_buffer_options(args, phrase):
    p = subprocess.run([sys.executable, "-m", "flitzis_looper_rs", "play"] + args,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, cwd=tempfile.gettempdir(), timeout=120)
    assert p.returncode == 2 and phrase in p.stderr, p.stderr
