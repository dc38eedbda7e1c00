# SPDX-License-Identifier: MIT
"""The command-line player: ``python -m flitzis_looper_rs play FILE...``.

Loads the files into slots 0, 1, ..., loops them all together and shows a
status line (voices, xruns, latency) until Ctrl-C or ``--seconds``. Without
files it writes a small demo loop set (drums, a chord, a bass line) to a
temporary directory and plays that.

On a machine without a sound card (``/dev/snd`` missing or no entry in
``/proc/asound/cards``) and without ``--device``, it says so and plays on the
engine's ``wav:PATH`` device instead: in real time, paced by the clock, every
frame written to a 32-bit float WAV file (``--out``, default
``flitzis-demo.wav`` in the current directory), and says where it went.
"""

import argparse
import array
import logging
import math
import os
import signal
import sys
import tempfile
import time
import wave

from . import SPEED_MAX, SPEED_MIN, VOLUME_MAX, VOLUME_MIN, AudioEngine, AudioMessage

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


# -- playing -------------------------------------------------------------------

class _Status:
    """Writes the status line: in place on a terminal, once a second otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last = 0.0
        self.width = 0

    def show(self, text, force=False):
        now = time.monotonic()
        if self.tty:
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.width = len(text)
            self.stream.flush()
        elif force or now - self.last >= 1.0:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last = now

    def done(self):
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def _status_text(stats, elapsed_s, names):
    return ("%5.1f s | %d voice%s | xruns %d | latency %.1f ms | load %3.0f%% | %s"
            % (elapsed_s, stats["voices_playing"],
               "" if stats["voices_playing"] == 1 else "s", stats["xruns"],
               stats["latency_ms"], 100.0 * stats["load"], ", ".join(names)))


#: The transport's tempo range (AudioEngine.set_master_bpm()).
BPM_MIN, BPM_MAX = 20.0, 300.0
QUANTIZE_MODES = ("off", "1/64", "1/32", "1/16", "1/8", "1/4", "1/2", "bar")


def play(paths, device=None, volume=0.8, speed=1.0, seconds=None, out=sys.stdout,
         bpm=120.0, quantize="off"):
    """Load paths into slots 0.., loop them together until Ctrl-C or seconds.

    The transport runs at bpm with its downbeat at output frame 0; with
    quantize other than "off" every loop starts on the first grid frame of
    that mode (all on the same one).

    @return the engine's final stats() dict
    """
    engine = AudioEngine(device=device)
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
            out.write("  slot %d: %s\n" % (slot, name))
        out.write("Ctrl-C stops.\n" if seconds is None else
                  "playing for %g s (Ctrl-C stops earlier).\n" % seconds)
        out.flush()
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
        for slot in range(len(paths)):
            engine.play_sample(slot, volume)
        start = time.monotonic()
        try:
            while seconds is None or time.monotonic() - start < seconds:
                msg = engine.receive_msg()
                while msg is not None:
                    if isinstance(msg, AudioMessage.DeviceLost):
                        status.done()
                        raise RuntimeError("the audio device was lost (%s)" % msg.reason)
                    msg = engine.receive_msg()
                status.show(_status_text(engine.stats(), time.monotonic() - start, names))
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        if _cli_signals:
            _ignore_signals()  # a second Ctrl-C must not cut the clean-up short
        status.show(_status_text(engine.stats(), time.monotonic() - start, names), force=True)
        status.done()
        # Let the voices fade out rather than cutting them mid-wave.
        engine.stop_all()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            msg = engine.receive_msg()
            if isinstance(msg, AudioMessage.Stopped):
                break
            if msg is None:
                time.sleep(0.01)
        return engine.stats()
    finally:
        engine.shut_down()


def _parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m flitzis_looper_rs",
        description="flitzis_looper_rs: a real-time sample looper engine.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    pp = sub.add_parser(
        "play", help="loop audio files together (a demo set when none are given)",
        description="Load FILEs into slots 0, 1, ... and loop them together until "
                    "Ctrl-C. Without FILEs a synthesised demo loop set plays. Without a "
                    "sound card (and without --device) it plays in real time into a WAV "
                    "file instead (the engine's wav:PATH device).")
    pp.add_argument("files", nargs="*", metavar="FILE",
                    help="audio files (WAV, FLAC, Ogg, MP3, ... anything libsndfile reads)")
    pp.add_argument("--device", metavar="NAME",
                    help="ALSA PCM name, or wav:PATH (default: $FLITZIS_AUDIO_DEVICE, "
                         "else 'default'; without a sound card wav:%s)" % DEFAULT_OUT)
    pp.add_argument("--volume", type=float, default=0.8, metavar="V",
                    help="gain of each voice, %.1f..%.1f (default 0.8)"
                    % (VOLUME_MIN, VOLUME_MAX))
    pp.add_argument("--speed", type=float, default=1.0, metavar="S",
                    help="playback speed, %.1f..%.1f (default 1.0)" % (SPEED_MIN, SPEED_MAX))
    pp.add_argument("--bpm", type=float, default=120.0, metavar="BPM",
                    help="the transport's tempo, %g..%g (default 120)" % (BPM_MIN, BPM_MAX))
    pp.add_argument("--quantize", default="off", choices=QUANTIZE_MODES, metavar="MODE",
                    help="start the loops on the first grid frame of MODE: %s "
                         "(default off: at once)" % ", ".join(QUANTIZE_MODES))
    pp.add_argument("--seconds", type=float, metavar="N",
                    help="stop after N seconds (default: play until Ctrl-C)")
    pp.add_argument("--out", metavar="WAV",
                    help="when playing into a WAV file (no sound card, or --wav), write it "
                         "here (default %s in the current directory)" % DEFAULT_OUT)
    pp.add_argument("--wav", action="store_true",
                    help="play into the WAV file even when there is a sound card")
    # The flag's old name, from when a JACK rig stood in for the sound card.
    pp.add_argument("--rig", action="store_true", dest="wav", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not VOLUME_MIN <= args.volume <= VOLUME_MAX:
        p.error("--volume must be in %.1f..%.1f" % (VOLUME_MIN, VOLUME_MAX))
    if not SPEED_MIN <= args.speed <= SPEED_MAX:
        p.error("--speed must be in %.1f..%.1f" % (SPEED_MIN, SPEED_MAX))
    if not BPM_MIN <= args.bpm <= BPM_MAX:
        p.error("--bpm must be in %g..%g" % (BPM_MIN, BPM_MAX))
    if args.seconds is not None and not args.seconds > 0:
        p.error("--seconds must be positive")
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
                         bpm=args.bpm, quantize=args.quantize)
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
