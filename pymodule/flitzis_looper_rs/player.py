# SPDX-License-Identifier: MIT
"""The command-line player: ``python -m flitzis_looper_rs play [FILE...]``
(or the ``flitzis-looper`` command), and ``... devices``.

Loads the files into pads (slots) 0, 1, ...; without files it writes a small
demo loop set (drums, a chord, a bass line) to a temporary directory and
plays that, every pad looping from the start (``--start none``: none). On a
terminal it is an instrument: keys 1-9 and a-z toggle pads
0..34 (a key without a loaded pad only says so on the status line), ``[`` /
``]`` lower and raise the global speed, ``-`` / ``+`` (or ``=``) the master
volume, space stops all, ``q`` quits. The terminal is in cbreak mode
meanwhile and restored on every way out. A status line, redrawn STATUS_HZ
times a second, shows each pad's meter (AudioEngine.meters()), the output
peak, speed, volume, voices and xruns.

When standard input is not a terminal (a pipe, /dev/null, a job in the
background) no keys are read (bytes in a pipe are left unread): it plays
until Ctrl-C or ``--seconds``; the status line is printed once a second
when standard output is not a terminal.

On a machine without a sound card (``/dev/snd`` missing or no entry in
``/proc/asound/cards``) and without ``--device``, it says so and plays on the
engine's ``wav:PATH`` device instead: in real time, paced by the clock, every
frame written to a 32-bit float WAV file (``--out``, default
``flitzis-demo.wav`` in the current directory), and says where it went.
"""

import argparse
import array
import contextlib
import logging
import math
import os
import select
import shutil
import signal
import sys
import tempfile
import termios
import time
import tty
import wave

from . import (SPEED_MAX, SPEED_MIN, VOLUME_MAX, VOLUME_MIN, AudioEngine, AudioMessage,
               QueueFullError)

DEMO_RATE_HZ = 48000
DEMO_BPM = 120.0
DEFAULT_OUT = "flitzis-demo.wav"

# True once main() has taken over SIGINT/SIGTERM/SIGHUP (never when play() is
# used as a library function).
_cli_signals = False


# -- demo loops ----------------------------------------------------------------

def _write_wav(path, frames, rate_hz=DEMO_RATE_HZ):
    """Write stereo float frames [(l, r), ...] as a 16-bit WAV file."""
    pcm = array.array("h")
    for left, right in frames:
        for x in (left, right):
            v = int(round(max(-1.0, min(1.0, x)) * 32767.0))
            pcm.append(v)
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())


def _drums(n_frames, rate_hz):
    """One bar of four-on-the-floor kick with off-beat hats and a clap on 2 and 4."""
    beat = int(rate_hz * 60.0 / DEMO_BPM)
    out = [0.0] * n_frames
    seed = 12345
    for i in range(n_frames):
        pos = i % beat
        t = pos / rate_hz
        # Kick: a sine sweeping down from 150 Hz to 50 Hz (the phase is the
        # integral of that frequency), with a quick decay.
        phase = 2.0 * math.pi * (50.0 * t + 100.0 * (1.0 - math.exp(-t * 30.0)) / 30.0)
        x = 0.9 * math.sin(phase) * math.exp(-t * 9.0)
        # Noise from a small LCG: deterministic, no random module state.
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        noise = seed / 0x3FFFFFFF - 1.0
        off = (i + beat // 2) % beat
        x += 0.25 * noise * math.exp(-(off / rate_hz) * 60.0)  # hat on the off-beat
        if (i // beat) % 2 == 1:
            x += 0.35 * noise * math.exp(-t * 25.0)  # clap on 2 and 4
        out[i] = x
    return [(x * 0.45, x * 0.45) for x in out]


def _chord(n_frames, rate_hz):
    """A C major pad (C4 E4 G4) that swells and fades, slightly spread in stereo."""
    freqs = (261.63, 329.63, 392.00)
    frames = []
    for i in range(n_frames):
        t = i / rate_hz
        env = math.sin(math.pi * i / n_frames) ** 2
        left = sum(math.sin(2 * math.pi * f * t) for f in freqs)
        right = sum(math.sin(2 * math.pi * f * 1.003 * t) for f in freqs)
        frames.append((0.08 * env * left, 0.08 * env * right))
    return frames


def _bass(n_frames, rate_hz):
    """A plucked bass line on eighth notes: C2 C2 G1 A#1 ..."""
    eighth = int(rate_hz * 30.0 / DEMO_BPM)
    notes = (65.41, 65.41, 49.00, 58.27, 65.41, 77.78, 65.41, 49.00)
    frames = []
    for i in range(n_frames):
        k = (i // eighth) % len(notes)
        t = (i % eighth) / rate_hz
        x = 0.3 * math.sin(2 * math.pi * notes[k] * t) * math.exp(-t * 6.0)
        x += 0.08 * math.sin(4 * math.pi * notes[k] * t) * math.exp(-t * 12.0)
        frames.append((x, x))
    return frames


def write_demo_loops(directory, rate_hz=DEMO_RATE_HZ):
    """Write the demo loop set (one bar each at 120 BPM) as WAV files.

    @return the list of paths: drums, chord, bass
    """
    n_frames = int(rate_hz * 4 * 60.0 / DEMO_BPM)
    paths = []
    for name, make in (("drums", _drums), ("chord", _chord), ("bass", _bass)):
        path = os.path.join(directory, "demo-%s.wav" % name)
        _write_wav(path, make(n_frames, rate_hz), rate_hz)
        paths.append(path)
    return paths


# -- the machine ---------------------------------------------------------------

def have_sound_card():
    """True when the kernel shows at least one sound card."""
    if not os.path.isdir("/dev/snd"):
        return False
    try:
        with open("/proc/asound/cards") as f:
            text = f.read()
    except OSError:
        return False
    return any(line.strip() and not line.strip().startswith("---")
               for line in text.splitlines())


def wav_frames(path):
    """Frames in the data chunk of the WAV file at path (what the wav device
    wrote), from its RIFF header."""
    import struct
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("%s is not a WAV file" % path)
        block_align = 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise ValueError("%s has no data chunk" % path)
            cid, size = struct.unpack("<4sI", chunk)
            if cid == b"fmt ":
                body = f.read(size)
                block_align = struct.unpack_from("<H", body, 12)[0]
                f.seek(size & 1, os.SEEK_CUR)
            elif cid == b"data":
                return size // block_align if block_align else 0
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)


# -- the keys ------------------------------------------------------------------

#: The keys that toggle pads, in pad order: "1".."9" are pads 0..8 (slots 0..8),
#: "a".."z" pads 9..34. Upper-case letters act as their lower-case ones.
PAD_KEYS = "123456789abcdefghijklmnopqrstuvwxyz"
#: One press of "[" / "]" changes the global speed by this much.
SPEED_STEP = 0.05
#: One press of "-" / "+" changes the master volume by this much.
VOLUME_STEP = 0.05
#: Status line redraws (and meter snapshots) per second.
STATUS_HZ = 20.0
#: How long a note (the last key's effect) stays on the status line, seconds.
NOTE_S = 2.0
#: The width of the status line's note field ("pad z: empty", "volume 0.90").
NOTE_WIDTH = 12
KEY_HELP = ("keys: 1-9 a-z toggle pads, [ ] speed, - + volume, space stops all, q quits")


class KeyDecoder:
    """Turns the bytes read from a terminal into single-character keys.

    Escape sequences (arrow and function keys: ESC [ ... final, ESC O x) are
    dropped whole, also when split across reads, so that an arrow key's "["
    never reads as the speed key. A lone ESC is dropped, and the byte after it,
    when it starts no sequence, is a key of its own.
    """

    def __init__(self):
        self.state = 0  # 0 text, 1 after ESC, 2 in ESC [ ..., 3 after ESC O

    def feed(self, data):
        keys = []
        for b in data:
            if self.state == 1:
                self.state = 2 if b == 0x5B else 3 if b == 0x4F else 0
                if self.state != 0:
                    continue
            if self.state == 2:
                if 0x40 <= b <= 0x7E:  # the final byte of a CSI sequence
                    self.state = 0
            elif self.state == 3:
                self.state = 0
            elif b == 0x1B:
                self.state = 1
            elif b < 0x80:
                keys.append(chr(b))
        return keys


class Instrument:
    """The player's live state over a running engine: which pads it has
    started, the global speed and the master volume; key() applies one key.

    @param engine a running AudioEngine
    @param names the loaded pads' names, pad i in slot i
    @param volume the gain of every voice it starts
    """

    def __init__(self, engine, names, volume=0.8, speed=1.0, master=1.0):
        self.engine = engine
        self.names = list(names)
        self.volume = volume
        self.speed = speed
        self.master = master
        self.on = set()  # the pads started and not stopped since
        self.note = ""
        self.note_until = 0.0

    def _say(self, text):
        self.note = text
        self.note_until = time.monotonic() + NOTE_S

    def current_note(self):
        return self.note if time.monotonic() < self.note_until else ""

    def start(self, slot):
        self.engine.play_sample(slot, self.volume)
        self.on.add(slot)

    def key(self, ch):
        """Apply one key; False for the quit key."""
        ch = ch.lower()
        if ch == "q":
            return False
        try:
            self._apply(ch)
        except QueueFullError:  # the key is lost, the player plays on
            self._say("queue full")
        return True

    def _apply(self, ch):
        if ch in PAD_KEYS:
            slot = PAD_KEYS.index(ch)
            if slot >= len(self.names):
                self._say("pad %s: empty" % ch)
            elif slot in self.on:
                self.engine.stop_sample(slot)
                self.on.discard(slot)
                self._say("pad %s off" % ch)
            else:
                self.start(slot)
                self._say("pad %s on" % ch)
        elif ch in "[]":
            step = SPEED_STEP if ch == "]" else -SPEED_STEP
            self.speed = min(SPEED_MAX, max(SPEED_MIN, round(self.speed + step, 6)))
            self.engine.set_speed(self.speed)
            self._say("speed %.2f" % self.speed)
        elif ch in "-+=":
            step = -VOLUME_STEP if ch == "-" else VOLUME_STEP
            self.master = min(VOLUME_MAX, max(VOLUME_MIN, round(self.master + step, 6)))
            self.engine.set_volume(self.master)
            self._say("volume %.2f" % self.master)
        elif ch == " ":
            self.engine.stop_all()
            self.on.clear()
            self._say("all stopped")


def _foreground_tty(fd):
    """True when fd is a terminal this process may read keys from: a
    terminal, and not one whose foreground job is another (a player started
    in the background with & would be stopped by its first read)."""
    if not os.isatty(fd):
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:  # a terminal, but not the controlling one: no job control
        return True


class _RawKeys:
    """Single keys without Enter: the terminal at fd in cbreak mode (no
    echo, no line editing; Ctrl-C still interrupts) inside the with block.

    The terminal's modes are restored on every way out: the block's end,
    any exception (Ctrl-C, SIGTERM and SIGHUP arrive as KeyboardInterrupt,
    _stop_on_signals(); SIGQUIT, Ctrl-\\, too while the keys are raw), and
    around a stop by Ctrl-Z (SIGTSTP), cbreak again on SIGCONT. Only SIGKILL
    leaves the terminal as it was (`stty sane` repairs it).
    """

    def __init__(self, fd):
        self.fd = fd
        self.saved = None
        self.handlers = {}

    def __enter__(self):
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSANOW)
        for signum, handler in ((signal.SIGTSTP, self._suspend),
                                (signal.SIGCONT, self._resume),
                                (signal.SIGQUIT, _interrupt)):
            try:
                self.handlers[signum] = signal.signal(signum, handler)
            except (OSError, ValueError):  # not the main thread
                pass
        return self

    def _restore(self):
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        except termios.error:  # the terminal is gone (hung up)
            pass

    def _suspend(self, signum, frame):
        self._restore()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT
        # Continued (or never stopped: the kernel drops the stop of an
        # orphaned process group, one without a job-control shell).
        self._resume(signum, frame)

    def _resume(self, signum, frame):
        signal.signal(signal.SIGTSTP, self._suspend)
        if _foreground_tty(self.fd):  # "bg" continues it without the terminal
            try:
                tty.setcbreak(self.fd, termios.TCSANOW)
            except termios.error:
                pass

    def __exit__(self, *exc):
        for signum, handler in self.handlers.items():
            signal.signal(signum, handler)
        self._restore()
        return False


# -- the status line -----------------------------------------------------------

class _Status:
    """Writes the status line: in place on a terminal (cut to its width),
    once a second otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last = 0.0
        self.shown = False

    def show(self, text, force=False):
        now = time.monotonic()
        if self.tty:
            width = shutil.get_terminal_size((100, 24)).columns - 1
            # Carriage return, the text, then erase to the end of the line.
            self.stream.write("\r" + text[:max(1, width)] + "\x1b[K")
            self.stream.flush()
            self.shown = True
        elif force or now - self.last >= 1.0:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last = now

    def done(self):
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


#: A meter bar has one "#" per level its peak reaches (dBFS), "." for the rest.
METER_LEVELS_DB = (-48.0, -36.0, -24.0, -12.0, -3.0)


def meter_bar(peak):
    """The bar of a peak (linear): "#####" at -3 dBFS and above, "....." silent."""
    db = 20.0 * math.log10(peak) if peak > 0.0 else -math.inf
    n = sum(1 for level in METER_LEVELS_DB if db >= level)
    return "#" * n + "." * (len(METER_LEVELS_DB) - n)


def _status_text(stats, meters, inst):
    """One status line: time (of the output frames played), speed, master
    volume, the output peak (dBFS), the last key's note, each loaded pad's
    key, state (">" started, "-" not) and meter bar (meter_bar()), voices,
    xruns, latency, load."""
    rate = stats["sample_rate"] or DEMO_RATE_HZ
    out_peak = max(meters.master_peak) if meters is not None else 0.0
    out = ("%5.1f dB" % (20.0 * math.log10(out_peak))) if out_peak > 0.0 else " -inf dB"
    if meters is not None and meters.master_clip:
        out += " CLIP"
    pads = []
    for slot in range(len(inst.names)):
        pm = meters.pads.get(slot) if meters is not None else None
        key = PAD_KEYS[slot] if slot < len(PAD_KEYS) else "?"
        pads.append("%s%s%s" % (key, ">" if slot in inst.on else "-",
                                meter_bar(pm.peak if pm is not None else 0.0)))
    # The note has a field of its own, as wide when empty: the pads never move.
    fields = ["%5.1fs" % (stats["frames"] / float(rate)),
              "spd %.2f" % inst.speed, "vol %.2f" % inst.master, "out %s" % out,
              "%-*s" % (NOTE_WIDTH, inst.current_note()),
              " ".join(pads),
              "%d voice%s" % (stats["voices_playing"],
                              "" if stats["voices_playing"] == 1 else "s"),
              "xruns %d" % stats["xruns"],
              "latency %.1f ms" % stats["latency_ms"],
              "load %3.0f%%" % (100.0 * stats["load"])]
    # Two spaces between fields: three pads still fit into 80 columns.
    return "  ".join(fields)


# -- playing -------------------------------------------------------------------

#: The transport's tempo range (AudioEngine.set_master_bpm()).
BPM_MIN, BPM_MAX = 20.0, 300.0
QUANTIZE_MODES = ("off", "1/64", "1/32", "1/16", "1/8", "1/4", "1/2", "bar")


def play(paths, device=None, volume=0.8, speed=1.0, seconds=None, out=sys.stdout,
         bpm=120.0, quantize="off", *, period_frames=128, periods=2, keys=None,
         start_all=True):
    """Load paths into slots 0.. and play them until q, Ctrl-C or seconds.

    The transport runs at bpm with its downbeat at output frame 0; with
    quantize other than "off" every start (each loop at the beginning, each
    pad key later) waits for the first grid frame of that mode.

    @param keys a terminal's file descriptor to read keys from (Instrument.key()),
           in cbreak mode while playing; None: no keys
    @param start_all start every loaded pad at once (else only keys start them)
    @return the engine's final stats() dict
    """
    engine = AudioEngine(device=device, period_frames=period_frames, periods=periods,
                         meter_hz=STATUS_HZ)
    engine.run()
    status = _Status(out)
    try:
        names = []
        for slot, path in enumerate(paths):
            engine.load_sample(slot, path)
            names.append(os.path.basename(path))
        st = engine.stats()
        out.write("playing on %s: %d Hz, %d channels, %s, %d x %d frames (%.1f ms), "
                  "%s\n" % (engine.device, st["sample_rate"], st["channels"], st["format"],
                            st["periods"], st["period_frames"], st["latency_ms"],
                            "SCHED_FIFO priority %d" % st["rt_priority"]
                            if st["rt_priority"] else "normal priority"))
        for slot, name in enumerate(names):
            out.write("  slot %d: %s%s\n" % (slot, name, " (key %s)" % PAD_KEYS[slot]
                                               if slot < len(PAD_KEYS) else ""))
        if keys is not None:
            out.write(KEY_HELP + ("" if seconds is None else
                                  "; playing for %g s at most" % seconds) + ".\n")
        else:
            out.write("Ctrl-C stops.\n" if seconds is None else
                      "playing for %g s (Ctrl-C stops earlier).\n" % seconds)
        out.flush()
        inst = Instrument(engine, names, volume=volume, speed=speed)
        engine.set_speed(speed)
        engine.set_master_bpm(bpm)
        # The change keeps the bar position of the frame it reaches (a few
        # periods in): anchored back to frame 0, the grid is that of bpm from
        # the start, k * step frames.
        engine.anchor_transport(0)
        engine.set_trigger_quantization(quantize)
        if quantize != "off":
            out.write("starting on the %s grid at %g BPM\n" % (quantize, bpm))
            out.flush()
        if start_all:
            for slot in range(len(paths)):
                inst.start(slot)
        start = time.monotonic()
        try:
            with _RawKeys(keys) if keys is not None else contextlib.nullcontext():
                _play_loop(engine, inst, status, seconds, start, keys)
        except KeyboardInterrupt:
            pass
        if _cli_signals:
            _ignore_signals()  # a second Ctrl-C must not cut the clean-up short
        status.show(_status_text(engine.stats(), engine.meters(), inst), force=True)
        status.done()
        # Let the voices fade out rather than cutting them mid-wave.
        engine.stop_all()
        deadline = time.monotonic() + (0.5 if engine.stats()["voices_playing"] else 0.0)
        while time.monotonic() < deadline:
            msg = engine.receive_msg()
            if isinstance(msg, AudioMessage.Stopped):
                break
            if msg is None:
                time.sleep(0.01)
        return engine.stats()
    finally:
        engine.shut_down()


def _play_loop(engine, inst, status, seconds, start, keys):
    """Redraw the status STATUS_HZ times a second and apply the keys as they
    come, until the quit key or seconds."""
    decoder = KeyDecoder()
    period_s = 1.0 / STATUS_HZ
    next_draw = 0.0
    while True:
        now = time.monotonic()
        if seconds is not None and now - start >= seconds:
            return
        msg = engine.receive_msg()
        while msg is not None:
            if isinstance(msg, AudioMessage.DeviceLost):
                status.done()
                raise RuntimeError("the audio device was lost (%s)" % msg.reason)
            msg = engine.receive_msg()
        if now >= next_draw:
            status.show(_status_text(engine.stats(), engine.meters(), inst))
            next_draw = now + period_s
        wait_s = max(0.0, next_draw - time.monotonic())
        if seconds is not None:
            wait_s = min(wait_s, max(0.0, start + seconds - time.monotonic()))
        if keys is None:
            time.sleep(wait_s)
            continue
        ready, _, _ = select.select([keys], [], [], wait_s)
        if not ready:
            continue
        data = os.read(keys, 64)
        if not data:  # the terminal hung up: play on without keys
            keys = None
            continue
        for ch in decoder.feed(data):
            if not inst.key(ch):
                return
        next_draw = 0.0  # show the keys' effect at once


def list_devices(out=sys.stdout):
    """Print what --device accepts: the ALSA playback devices
    (AudioEngine.list_devices()) and the engine's own wav:PATH."""
    devices = AudioEngine.list_devices()
    if not have_sound_card():
        out.write("No sound card found (/dev/snd is missing or /proc/asound/cards lists "
                  "none); the player plays into a WAV file (wav:PATH).\n")
    if devices:
        out.write("ALSA playback devices (--device NAME):\n")
        width = max(len(d.name) for d in devices)
        for d in devices:
            lines = (d.description or "").splitlines() or [""]
            out.write("  %-*s  %s\n" % (width, d.name, lines[0]))
            for line in lines[1:]:
                out.write("  %-*s  %s\n" % (width, "", line))
    else:
        out.write("No ALSA playback devices (or a build without ALSA).\n")
    out.write("Always there: wav:PATH (plays in real time into the 32-bit float WAV PATH).\n")
    return len(devices)


def _prog():
    """The command's name as it was run: the console script's, or python -m."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name in ("__main__.py", "-c") or name.startswith("python"):
        return "python -m flitzis_looper_rs"
    return name


def _parse_args(argv):
    p = argparse.ArgumentParser(
        prog=_prog(),
        description="flitzis_looper_rs: a real-time sample looper engine.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    pp = sub.add_parser(
        "play", help="play audio files as pads: keys toggle them (a demo set when none are given)",
        description="Load FILEs into pads 0, 1, ... (keys 1-9, then a-z). On a terminal "
                    "the keys play it: 1-9 and a-z toggle pads, [ and ] lower and raise "
                    "the speed, - and + the master volume, space stops all, q quits; a "
                    "status line shows each pad's meter. Without a terminal on standard "
                    "input every pad loops at once until Ctrl-C or --seconds. Without "
                    "FILEs a synthesised demo loop set plays. Without a sound card (and "
                    "without --device) it plays in real time into a WAV file instead "
                    "(the engine's wav:PATH device).")
    pp.add_argument("files", nargs="*", metavar="FILE",
                    help="audio files (WAV, FLAC, Ogg, MP3, ... anything libsndfile reads)")
    pp.add_argument("--device", metavar="NAME",
                    help="ALSA PCM name (see the devices command), or wav:PATH (default: "
                         "$FLITZIS_AUDIO_DEVICE, else 'default'; without a sound card "
                         "wav:%s)" % DEFAULT_OUT)
    pp.add_argument("--volume", type=float, default=0.8, metavar="V",
                    help="gain of each voice, %.1f..%.1f (default 0.8)"
                    % (VOLUME_MIN, VOLUME_MAX))
    pp.add_argument("--speed", type=float, default=1.0, metavar="S",
                    help="playback speed, %.1f..%.1f (default 1.0)" % (SPEED_MIN, SPEED_MAX))
    pp.add_argument("--bpm", type=float, default=120.0, metavar="BPM",
                    help="the transport's tempo, %g..%g (default 120)" % (BPM_MIN, BPM_MAX))
    pp.add_argument("--quantize", default="off", choices=QUANTIZE_MODES, metavar="MODE",
                    help="start the loops (and the pads the keys start) on the first grid "
                         "frame of MODE: %s (default off: at once)" % ", ".join(QUANTIZE_MODES))
    pp.add_argument("--period-frames", type=int, default=128, metavar="N",
                    help="frames per device period, the engine's block, 16..8192 "
                         "(default 128)")
    pp.add_argument("--periods", type=int, default=2, metavar="N",
                    help="periods in the device's buffer, 2..64 (default 2)")
    pp.add_argument("--start", choices=("all", "none"), default="all",
                    help="start every pad at once (all, the default), or none: the keys "
                         "start them")
    pp.add_argument("--seconds", type=float, metavar="N",
                    help="stop after N seconds (default: play until q or Ctrl-C)")
    pp.add_argument("--out", metavar="WAV",
                    help="when playing into a WAV file (no sound card, or --wav), write it "
                         "here (default %s in the current directory)" % DEFAULT_OUT)
    pp.add_argument("--wav", action="store_true",
                    help="play into the WAV file even when there is a sound card")
    # The flag's old name, from when a JACK rig stood in for the sound card.
    pp.add_argument("--rig", action="store_true", dest="wav", help=argparse.SUPPRESS)
    sub.add_parser("devices", help="list the devices --device accepts",
                   description="List the ALSA playback devices (their names are what "
                               "play --device takes) and the engine's wav:PATH device.")
    args = p.parse_args(argv)
    if args.command != "play":
        return args
    if not VOLUME_MIN <= args.volume <= VOLUME_MAX:
        p.error("--volume must be in %.1f..%.1f" % (VOLUME_MIN, VOLUME_MAX))
    if not SPEED_MIN <= args.speed <= SPEED_MAX:
        p.error("--speed must be in %.1f..%.1f" % (SPEED_MIN, SPEED_MAX))
    if not BPM_MIN <= args.bpm <= BPM_MAX:
        p.error("--bpm must be in %g..%g" % (BPM_MIN, BPM_MAX))
    if args.seconds is not None and not args.seconds > 0:
        p.error("--seconds must be positive")
    # The engine's constructor checks the buffer options (it opens nothing).
    for option, name in (("--period-frames", "period_frames"), ("--periods", "periods")):
        try:
            AudioEngine(device="offline", **{name: getattr(args, name)})
        except ValueError as e:
            p.error("%s: %s" % (option, e))
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop_on_signals():
    """Ctrl-C and SIGTERM/SIGHUP end playback cleanly (the WAV file's header is
    finalised on the way out). SIGINT is re-armed explicitly: a
    shell starts background jobs with it ignored."""
    global _cli_signals
    _cli_signals = True
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, _interrupt)
        except (OSError, ValueError):  # not the main thread, or no such signal
            pass


def _ignore_signals():
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, signal.SIG_IGN)
        except (OSError, ValueError):
            pass


def main(argv=None):
    """Entry point of ``python -m flitzis_looper_rs``; returns the exit status."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    _stop_on_signals()
    try:
        return _main(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


def _main(args):
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    out = sys.stdout
    if args.command == "devices":
        try:
            list_devices(out)
        except RuntimeError as e:
            sys.stderr.write("error: %s\n" % e)
            return 1
        return 0
    keys = None
    try:
        if _foreground_tty(sys.stdin.fileno()):
            keys = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # no stdin, or not a real file
        pass

    use_wav = args.wav or (args.device is None and "FLITZIS_AUDIO_DEVICE" not in os.environ
                           and not have_sound_card())
    if args.out and not use_wav:
        out.write("note: --out is written only when playing into a WAV file (add --wav)\n")

    with tempfile.TemporaryDirectory(prefix="flitzis-") as tmp:
        files = args.files
        if not files:
            files = write_demo_loops(tmp)
            out.write("no files given: playing a demo loop set (%s)\n"
                      % ", ".join(os.path.basename(f) for f in files))
        device = args.device
        wav_path = None
        if use_wav:
            wav_path = os.path.abspath(args.out or DEFAULT_OUT)
            device = "wav:" + wav_path
            if not args.wav:
                out.write("No sound card found (/dev/snd is missing or /proc/asound/cards "
                          "lists none): playing in real time into a WAV file instead.\n")
        try:
            stats = play(files, device=device, volume=args.volume,
                         speed=args.speed, seconds=args.seconds, out=out,
                         bpm=args.bpm, quantize=args.quantize,
                         period_frames=args.period_frames, periods=args.periods,
                         keys=keys, start_all=args.start == "all")
        except FileNotFoundError as e:
            sys.stderr.write("error: no such file: %s\n" % (e.filename or e))
            return 1
        except (ValueError, RuntimeError) as e:
            sys.stderr.write("error: %s\n" % e)
            return 1
        if wav_path is not None:
            # play() has shut the engine down: the file's header is final.
            n_frames = wav_frames(wav_path)
            out.write("what would have been heard: %s (%.1f s)\n"
                      % (wav_path, n_frames / float(stats["sample_rate"])))
            if stats["file_dropped_frames"] or stats["file_write_errors"]:
                sys.stderr.write("warning: the file misses frames: %d dropped, %d failed "
                                 "writes\n" % (stats["file_dropped_frames"],
                                                stats["file_write_errors"]))
        out.write("played %d frames, %d xrun%s\n"
                  % (stats["frames"], stats["xruns"], "" if stats["xruns"] == 1 else "s"))
    return 0
