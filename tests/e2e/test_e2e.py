# SPDX-License-Identifier: MIT
"""End to end: what the engine plays is what the offline renderer renders.

The installed ``flitzis_looper_rs`` plays real files (44.1 kHz mono 16-bit
WAV, 48 kHz stereo FLAC, Ogg/Vorbis) through the headless rig while the JACK
recorder ``flz-jack-rec`` records what arrives at its ports. The engine runs
with ``_trace_commands=True``, so every command reports the output frame at
which it took effect (``AudioMessage.Applied``). ``flz-render`` renders the
same commands at the same frames offline with libloader + libmixer, and the
capture must equal that render sample by sample: the rig is float from the
engine's mmap buffer to the recorder, so the tolerance is 1e-6 (in practice
the two are bit-identical).

Run inside the rig with a recorder (what ``meson test --suite e2e`` does)::

    python3 tests/rig/rig.py --record /tmp/e2e.raw -- \\
        python3 -m pytest tests/e2e

or alone, in which case the test starts its own rig in this process.
``FLZ_RENDER`` (or a ``build*/tests/tools/flz-render`` next to the sources)
names the renderer; ``FLZ_JACK_REC`` the recorder when the test starts a rig.

The checks a late JACK server can break (no xrun, enough audio after the
last command, a capture as long as the render and equal to it) are
``rig.Attempt.expect()`` checks: failed while the server itself xrun'd in
the measurement's window, the measurement is taken again (3 attempts, then a
skip naming the server's xruns); failed while it was on time, the test
fails. Every other check is a plain assert (docs/testing.md, "When the JACK
server itself is late").
"""

import array
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import wave
from fractions import Fraction

import pytest

fl = pytest.importorskip("flitzis_looper_rs", reason="install the flitzis_looper_rs wheel first")

# The rig lives in the source tree (tests/rig), not in the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
import rig as _rig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

#: Largest |capture - render| accepted, per sample (float path end to end).
TOLERANCE = 1e-6
#: Below this a frame counts as silent when aligning (well above float noise,
#: well below the test signals' first frames).
SILENCE = 1e-4

#: The end of the loop region the test sets on slot 7 (its FLAC lasts 0.53 s).
LOOP_END_S = 0.2
#: Command number -> name, from the one vocabulary (flz/vocabulary.h) through
#: the module: the names Applied.cmd carries and flz-render's script words.
CMD_NAMES = {number: name for number, name, _, _ in fl._native._vocabulary()["commands"]}


# -- helpers -----------------------------------------------------------------

def find_tool(env_name, rel):
    path = os.environ.get(env_name)
    if path and os.access(path, os.X_OK):
        return path
    for entry in sorted(os.listdir(ROOT)):
        cand = os.path.join(ROOT, entry, rel)
        if entry.startswith("build") and os.access(cand, os.X_OK):
            return cand
    return shutil.which(os.path.basename(rel))


def lcg_noise(n, seed):
    """Deterministic white noise in [-1, 1)."""
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out.append(x / 2147483648.0 - 1.0)
    return out


def write_wav16(path, rate_hz, channels):
    """channels: one list of floats per channel (same length)."""
    n = len(channels[0])
    pcm = array.array("h")
    for i in range(n):
        for ch in channels:
            pcm.append(max(-32768, min(32767, int(round(ch[i] * 32767.0)))))
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())


def make_files(tmp):
    """The three test files; each starts with a clearly non-silent frame."""
    files = {}
    rate = 44100
    n = int(0.37 * rate)
    noise = lcg_noise(n, 1)
    mono = [0.2 * noise[i] + 0.1 * math.cos(2 * math.pi * 220 * i / rate) for i in range(n)]
    files["wav"] = os.path.join(tmp, "mono44k.wav")
    write_wav16(files["wav"], rate, [mono])

    rate = 48000
    n = int(0.53 * rate)
    left = [0.2 * v for v in lcg_noise(n, 2)]
    right = [0.15 * math.cos(2 * math.pi * 330 * i / rate) + 0.05 * v
             for i, v in enumerate(lcg_noise(n, 3))]
    src = os.path.join(tmp, "stereo48k.wav")
    write_wav16(src, rate, [left, right])
    files["flac"] = os.path.join(tmp, "stereo48k.flac")
    if shutil.which("flac"):
        subprocess.run(["flac", "-s", "-f", "-o", files["flac"], src], check=True)
    elif shutil.which("sox"):
        subprocess.run(["sox", src, files["flac"]], check=True)
    else:
        pytest.skip("neither flac nor sox is installed to make the FLAC file")

    n = int(0.61 * rate)
    chord = [[0.1 * math.cos(2 * math.pi * f * i / rate + k) for i in range(n)]
             for k, f in enumerate((262.0, 330.0, 392.0))]
    left = [a + b for a, b in zip(chord[0], chord[1])]
    right = [b + c for b, c in zip(chord[1], chord[2])]
    src = os.path.join(tmp, "chord48k.wav")
    write_wav16(src, rate, [left, right])
    files["ogg"] = os.path.join(tmp, "chord48k.ogg")
    if shutil.which("oggenc"):
        subprocess.run(["oggenc", "-Q", "-q", "4", "-o", files["ogg"], src], check=True)
    elif shutil.which("sox"):
        subprocess.run(["sox", src, files["ogg"]], check=True)
    else:
        pytest.skip("neither oggenc nor sox is installed to make the Ogg/Vorbis file")
    return files


def cmd_name(cmd):
    """Normalise an Applied message's cmd (int, enum or str) to the script word."""
    if isinstance(cmd, int):
        return CMD_NAMES.get(int(cmd), str(cmd))
    name = getattr(cmd, "name", cmd)
    name = str(name).lower()
    for prefix in ("flz_cmd_", "set_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    name = name.replace("_sample", "")
    return {"master_volume": "volume", "gain": "volume"}.get(name, name)


def msg_slot(msg):
    for attr in ("id", "slot"):
        v = getattr(msg, attr, None)
        if v is not None:
            return int(v)
    return -1


def first_loud(samples, start_frame, n_channels):
    for i in range(start_frame * n_channels, len(samples)):
        if abs(samples[i]) > SILENCE:
            return i // n_channels
    return None


# -- fixtures ------------------------------------------------------------------

class Capture:
    """Where the recorder writes, and how much of it predates this test."""

    def __init__(self, path, rate_hz):
        self.path = path
        self.rate_hz = rate_hz
        self.start_frame = 0

    def mark(self):
        self.start_frame = os.path.getsize(self.path) // 8

    def read(self):
        return _rig.read_raw(self.path)


@pytest.fixture
def capture(tmp_path):
    path = os.environ.get("FLZ_RIG_RECORD")
    if path:
        cap = Capture(path, int(os.environ.get("FLZ_RIG_RATE_HZ", "48000")))
        cap.mark()
        yield cap
        return
    recorder = _rig.find_recorder(find_tool("FLZ_JACK_REC", "tests/rig/flz-jack-rec"))
    if not recorder or not shutil.which("jackd"):
        pytest.skip("not inside `tests/rig/rig.py --record` and no jackd/flz-jack-rec to start a rig")
    rig = _rig.Rig(record=str(tmp_path / "capture.raw"), recorder=recorder)
    rig.start()
    try:
        cap = Capture(rig.record_path, rig.rate_hz)
        cap.mark()
        yield cap
    finally:
        rig.stop()


@pytest.fixture
def renderer():
    path = find_tool("FLZ_RENDER", "tests/tools/flz-render")
    if not path:
        pytest.skip("flz-render not found (build it and set FLZ_RENDER)")
    return path


# -- the test --------------------------------------------------------------------

def test_e2e_capture_equals_offline_render(tmp_path, capture, renderer):
    # Skipped instrumented: the capture is what JACK heard, so an underrun
    # (silence where a slow instrumented block was due) would misalign it
    # with the render. Content across a late block is what engine:rig-playback
    # checks through the tee, which runs under the sanitizers.
    if _rig.instrumented():
        pytest.skip("compares what JACK heard in real time: not run instrumented "
                    "(FLZ_INSTRUMENTED)")
    files = make_files(str(tmp_path))
    # The checks a late JACK server can break (no xrun, a capture that is
    # long enough and equals the render) are made with attempt.expect(): when
    # the server itself xrun'd while the engine played, the whole measurement
    # is taken again, up to 3 times, then skipped naming the server's xruns.
    # A failure while the server was on time fails at once (docs/testing.md).
    _rig.rerun_while_server_late(
        lambda attempt: play_and_compare(attempt, tmp_path / ("attempt%d" % attempt.number),
                                         capture, renderer, files),
        skip=pytest.skip)


def _pump(engine, messages):
    """pump(seconds): take the engine's messages into messages for that long."""
    def pump(seconds):
        end = time.monotonic() + seconds
        while True:
            messages.extend(iter(engine.receive_msg, None))
            if time.monotonic() >= end:
                return
            time.sleep(0.01)
    return pump


def play_and_compare(attempt, tmp_path, capture, renderer, files):
    """One measurement: play the script, record, render, compare."""
    tmp_path.mkdir()
    capture.mark()
    t_begin_ns = time.monotonic_ns()
    period_frames, n_periods = 128, 2
    engine = fl.AudioEngine(sample_rate=capture.rate_hz, channels=2,
                            period_frames=period_frames, periods=n_periods,
                            _trace_commands=True)
    messages = []
    pump = _pump(engine, messages)

    engine.run()
    try:
        slots = {3: files["wav"], 7: files["flac"], 11: files["ogg"]}
        for slot, path in slots.items():
            engine.load_sample(slot, path)
        pump(0.1)
        engine.play_sample(3, 0.8)
        pump(0.25)
        engine.play_sample(7, 0.5)
        pump(0.25)
        engine.set_volume(0.7)
        pump(0.25)
        engine.play_sample(11, 0.6)
        pump(0.25)
        engine.set_speed(1.3)
        pump(0.3)
        engine.stop_sample(3)
        pump(0.25)
        engine.set_speed(0.75)
        pump(0.25)
        engine.set_volume(1.0)
        pump(0.2)
        # The per-pad controls (issue 12), each where it changes the sound.
        engine.set_pad_gain(7, -6.0)
        pump(0.15)
        engine.set_pad_speed(11, 1.5)
        pump(0.15)
        engine.set_pad_loop_region(7, 0.05, LOOP_END_S)
        pump(0.2)
        engine.pause_sample(11)
        pump(0.15)
        engine.seek_sample(11, 0.1)
        pump(0.1)
        engine.resume_sample(11)
        pump(0.15)
        engine.play_sample_exclusive(3, 0.9)
        pump(0.25)
        engine.stop_all()
        pump(0.3)
        stats = engine.stats()
        pump(0.0)
    finally:
        engine.shut_down()
    time.sleep(0.4)  # the last cycles reach the recorder
    attempt.window(t_begin_ns, time.monotonic_ns())

    # A deadline: asserted here because this test never runs instrumented.
    attempt.expect(stats["xruns"] == 0, "the engine reported xruns: %r" % (stats,))
    assert stats["messages_dropped"] == 0
    assert stats["sample_rate"] == capture.rate_hz and stats["channels"] == 2

    applied = [m for m in messages if isinstance(m, fl.AudioMessage.Applied)]
    script, frames = [], []
    for m in applied:
        name = cmd_name(m.cmd)
        if name == "ping":
            continue
        slot = msg_slot(m)
        line = "%d %s %d %r" % (int(m.frame), name, slot, float(m.value or 0.0))
        if name == "load":
            line += " " + slots[slot]
        if name == "loop_region":
            # Applied carries the start; the end is the one this test set.
            line += " %d" % round(LOOP_END_S * capture.rate_hz)
        script.append(line)
        frames.append(int(m.frame))
    kinds = [s.split()[1] for s in script]
    assert kinds == ["load", "load", "load", "play", "play", "volume", "play", "speed",
                     "stop", "speed", "volume", "pad_gain", "pad_speed", "loop_region",
                     "pause", "seek", "resume", "play_exclusive", "stop_all"], script
    assert frames == sorted(frames), "commands applied out of order: %r" % script

    stopped = [m for m in messages if isinstance(m, fl.AudioMessage.Stopped)]
    # stop_sample(3), the exclusive play's fade of 7 and 11, stop_all.
    assert len(stopped) == 3, "one Stopped per effective stop: %r" % stopped
    started = [m for m in messages if isinstance(m, fl.AudioMessage.Started)]
    assert [m.id for m in started] == [3, 7, 11, 3], "one Started per play: %r" % started

    # Compare up to a point the recorder has certainly heard: before the
    # frames still buffered in the device at shut_down.
    n_frames = int(stats["frames"]) - 4 * period_frames * n_periods
    # A server running late plays less in the same wall-clock time.
    attempt.expect(n_frames > frames[-1] + capture.rate_hz // 10, "too little after stop_all")
    script_path = tmp_path / "script.txt"
    script_path.write_text("\n".join(script) + "\n")
    render_path = tmp_path / "render.raw"
    events_path = tmp_path / "events.txt"
    subprocess.run([renderer, "--frames", str(n_frames), "--rate", str(capture.rate_hz),
                    "--channels", "2", "--events", str(events_path), "--out", str(render_path),
                    str(script_path)], check=True)
    render = _rig.read_raw(str(render_path))
    assert len(render) == 2 * n_frames
    # The Stopped and Started messages report the frames the offline mixer reports.
    events = [line.split() for line in events_path.read_text().splitlines()]
    stop_frames = [int(e[3]) for e in events if e[0] == "stopped"]
    assert sorted(int(m.frame) for m in stopped) == sorted(stop_frames), (stopped, events)
    start_events = [(int(e[2]), int(e[3])) for e in events if e[0] == "started"]
    assert [(m.id, int(m.frame)) for m in started] == start_events, (started, events)

    heard = capture.read()
    r0 = first_loud(render, 0, 2)
    c0 = first_loud(heard, capture.start_frame, 2)
    assert r0 is not None and c0 is not None, "no sound in the render or the capture"
    # The first sound is not before the first play (the mixer adds no delay).
    assert r0 >= frames[3]
    zero = c0 - r0  # capture frame of the engine's output frame 0
    assert zero >= capture.start_frame
    attempt.expect(len(heard) >= 2 * (zero + n_frames), "the capture ends early")
    seg = heard[2 * zero: 2 * (zero + n_frames)]

    worst, at = 0.0, 0
    for i, (a, b) in enumerate(zip(seg, render)):
        d = abs(a - b)
        if not d <= worst:  # also catches NaN
            worst, at = d if d == d else float("inf"), i
    print("e2e: %d frames compared, max |capture - render| = %.3g (frame %d); "
          "latency %s frames" % (n_frames, worst, at // 2, stats.get("latency_frames")))
    attempt.expect(worst <= TOLERANCE, (
        "capture differs from the offline render by %.3g at engine frame %d (channel %d)"
        % (worst, at // 2, at % 2)))

    # The comparison can fail: the same capture shifted by one frame (a
    # duplicated or missing frame) differs by far more than the tolerance.
    shifted = heard[2 * (zero + 1): 2 * (zero + 1 + n_frames)]
    assert max(abs(a - b) for a, b in zip(shifted, render)) > 100 * TOLERANCE
    energy = sum(x * x for x in render) / len(render)
    assert energy > 1e-3, "the render is (nearly) silent"


# -- tempo sync (issue 13): flz-render's transport words, offline and through the rig --------

numpy = pytest.importorskip("numpy")


#: flz-render's option for a play scheduled with quantize= or at_frame= (its Applied
#: message reports the frame the play reached the audio thread, not the start).
def _play_option(quantize=None, at_frame=None):
    if at_frame is not None:
        return " at=%d" % at_frame
    return " quantize=%s" % quantize if quantize else ""


def _tempo_script(applied, paths, play_options):
    """The script of the Applied messages; play_options: the options of the plays in call
    order; paths: slot -> file for the loads."""
    script, options = [], list(play_options)
    for m in applied:
        name = cmd_name(m.cmd)
        if name == "ping":
            continue
        slot = msg_slot(m)
        line = "%d %s %d %r" % (int(m.frame), name, slot, float(m.value or 0.0))
        if name == "load":
            line += " " + paths[slot]
        if name == "play":
            line += options.pop(0)
        script.append(line)
    assert not options, "a play without its Applied message: %r" % script
    return script


def _render(renderer, tmp_path, script, n_frames, rate_hz):
    (tmp_path / "tempo.txt").write_text("\n".join(script) + "\n")
    out, events = tmp_path / "tempo.raw", tmp_path / "tempo-events.txt"
    subprocess.run([renderer, "--frames", str(n_frames), "--rate", str(rate_hz), "--channels", "2",
                    "--events", str(events), "--out", str(out), str(tmp_path / "tempo.txt")],
                   check=True)
    starts = [(int(e[2]), int(e[3])) for e in
              (line.split() for line in events.read_text().splitlines()) if e[0] == "started"]
    return _rig.read_raw(str(out)), starts


def _tempo_files(tmp):
    """Two noise loops (one 48 kHz stereo, one 44.1 kHz mono) and a chord, as WAV."""
    paths = {}
    for slot, (rate, seconds, seed) in {0: (48000, 0.6, 5), 1: (44100, 0.45, 6),
                                        2: (48000, 0.3, 7)}.items():
        n = int(seconds * rate)
        chans = [[0.3 * v for v in lcg_noise(n, seed + k)] for k in range(1 if slot == 1 else 2)]
        paths[slot] = os.path.join(tmp, "tempo%d.wav" % slot)
        write_wav16(paths[slot], rate, chans)
    return paths


def test_render_tempo_words_equal_the_offline_engine(tmp_path, renderer):
    """flz-render plays the transport and tempo-sync words as the engine does: the engine's
    offline device and flz-render of its Applied trace give the same samples (1e-6; in
    practice bit-identical) and the same Started frames, through tempo-locked quantised
    starts (1/4, bar), a master tempo change that relocks them, beats per bar, an anchor,
    an at_frame start, a pause, resume and seek of locked pads, a quantised start a stop
    cancels, a pad tempo removed and the lock turned off."""
    rate = 48000
    paths = _tempo_files(str(tmp_path))
    e = fl.AudioEngine(device="offline", sample_rate=rate, channels=2, _trace_commands=True)
    e.run()
    out, messages, options = [], [], []

    def render(n):
        out.append(e.render(n))
        messages.extend(iter(e.receive_msg, None))

    def play(slot, volume, **kw):
        e.play_sample(slot, volume, **kw)
        options.append(_play_option(**kw))

    try:
        for slot, path in paths.items():
            e.load_sample(slot, path)
        e.set_pad_bpm(0, 100.0)
        e.set_pad_bpm(1, 90.0)
        e.set_pad_downbeat(1, 0.05)
        e.set_bpm_lock(True)
        e.set_master_bpm(128.0)
        render(1001)
        play(0, 0.8, quantize="1/4")
        render(30011)
        play(1, 0.6, quantize="bar")
        render(40013)
        e.set_master_bpm(141.5)
        render(20000)
        e.set_beats_per_bar(3)
        e.anchor_transport()
        play(2, 0.5, at_frame=e.frame + 1234)
        render(7777)
        e.pause_sample(1)
        render(9001)
        e.seek_sample(0, 0.1)
        render(5003)
        e.resume_sample(1)
        play(2, 0.4, quantize="bar")
        e.stop_sample(2)  # cancels the pending start (and fades the playing voice)
        render(20011)
        e.set_pad_bpm(0, None)
        render(3000)
        e.set_bpm_lock(False)
        render(10007)
        e.stop_all()
        render(12000)
    finally:
        e.shut_down()
    engine_out = numpy.concatenate(out)
    applied = [m for m in messages if isinstance(m, fl.AudioMessage.Applied)]
    started = [(m.id, int(m.frame)) for m in messages if isinstance(m, fl.AudioMessage.Started)]
    assert [s for s, _ in started] == [0, 1, 2], started
    script = _tempo_script(applied, paths, options)
    kinds = [line.split()[1] for line in script]
    for word in ("pad_bpm", "pad_downbeat", "bpm_lock", "master_bpm", "beats_per_bar", "anchor"):
        assert word in kinds, (word, script)
    render_out, starts = _render(renderer, tmp_path, script, len(engine_out), rate)
    assert starts == started, (starts, started)
    ref = numpy.frombuffer(render_out, dtype=numpy.float32).reshape(-1, 2)
    worst = float(numpy.max(numpy.abs(ref - engine_out)))
    print("render-tempo: %d frames, max |engine - render| = %.3g" % (len(ref), worst))
    assert worst <= TOLERANCE
    assert float(numpy.mean(ref ** 2)) > 1e-3, "the render is (nearly) silent"
    # The comparison can fail: the renderer without the tempo words plays something else.
    plain = [line for line in script if line.split()[1] not in ("pad_bpm", "bpm_lock")]
    other, _ = _render(renderer, tmp_path, plain, len(engine_out), rate)
    other = numpy.frombuffer(other, dtype=numpy.float32).reshape(-1, 2)
    assert float(numpy.max(numpy.abs(other - engine_out))) > 100 * TOLERANCE
    # A play option flz-render does not know is an error, not a silent immediate start.
    for bad in ("quantize=1/3", "at=soon", "later"):
        (tmp_path / "bad.txt").write_text("0 play 0 1.0 %s\n" % bad)
        r = subprocess.run([renderer, "--frames", "10", "--out", os.devnull,
                            str(tmp_path / "bad.txt")], capture_output=True, text=True)
        assert r.returncode != 0 and "play takes" in r.stderr, (bad, r.stderr)


def test_e2e_tempo_locked_quantised_starts_equal_offline_render(tmp_path, capture, renderer):
    """Through the rig: two tempo-locked pads started quantised (1/4, bar), a master tempo
    change, a pause and resume of a locked pad, stop_all: what JACK heard equals flz-render
    of the traced commands within 1e-6, and the Started frames are the renderer's and lie
    on the grid the test computes with fractions (the next 1/4 and bar of 128 BPM at or
    after the frame the play reached the audio thread). The checks a late JACK server can
    break are attempt.expect() checks, as in the test above."""
    if _rig.instrumented():
        pytest.skip("compares what JACK heard in real time: not run instrumented "
                    "(FLZ_INSTRUMENTED)")
    paths = _tempo_files(str(tmp_path))
    _rig.rerun_while_server_late(
        lambda attempt: _tempo_attempt(attempt, tmp_path / ("attempt%d" % attempt.number),
                                       capture, renderer, paths),
        skip=pytest.skip)


def _grid_frame_at_or_after(frame, rate_hz, bpm, beats, downbeat):
    """The first grid frame at or after frame: downbeat + round(k x step) (the transport's
    rule: never by adding steps), step = beats beats at bpm, downbeat a Fraction."""
    step = Fraction(rate_hz * 60 * beats) / Fraction(bpm)
    k = max(0, math.floor((frame - downbeat) / step) - 1)
    while math.floor(downbeat) + round(k * step + (downbeat - math.floor(downbeat))) < frame:
        k += 1
    return math.floor(downbeat) + round(k * step + (downbeat - math.floor(downbeat)))


def _tempo_attempt(attempt, tmp_path, capture, renderer, paths):
    tmp_path.mkdir()
    capture.mark()
    t_begin_ns = time.monotonic_ns()
    period_frames, n_periods = 128, 2
    engine = fl.AudioEngine(sample_rate=capture.rate_hz, channels=2, period_frames=period_frames,
                            periods=n_periods, _trace_commands=True)
    messages = []
    pump = _pump(engine, messages)

    engine.run()
    try:
        tp = engine.transport()
        assert (tp.bpm, tp.beats_per_bar, tp.downbeat_frame) == (120.0, 4, 0), tp
        for slot in (0, 1):
            engine.load_sample(slot, paths[slot])
        engine.set_pad_bpm(0, 100.0)
        engine.set_pad_bpm(1, 90.0)
        engine.set_bpm_lock(True)
        engine.set_master_bpm(128.0)
        pump(0.1)
        engine.play_sample(0, 0.8, quantize="1/4")
        pump(0.6)
        engine.play_sample(1, 0.6, quantize="bar")
        pump(2.2)  # a bar at 128 BPM is 1.875 s
        engine.set_master_bpm(141.5)
        pump(0.4)
        engine.pause_sample(0)
        pump(0.3)
        engine.resume_sample(0)
        pump(0.4)
        engine.stop_all()
        pump(0.3)
        stats = engine.stats()
    finally:
        engine.shut_down()
    time.sleep(0.4)  # the last cycles reach the recorder
    attempt.window(t_begin_ns, time.monotonic_ns())
    attempt.expect(stats["xruns"] == 0, "the engine reported xruns: %r" % (stats,))
    assert stats["messages_dropped"] == 0

    applied = [m for m in messages if isinstance(m, fl.AudioMessage.Applied)]
    started = [(m.id, int(m.frame)) for m in messages if isinstance(m, fl.AudioMessage.Started)]
    assert [s for s, _ in started] == [0, 1], started
    plays = [int(m.frame) for m in applied if cmd_name(m.cmd) == "play"]
    # The tempo change to 128 at frame f keeps the bar position: the downbeat moves from 0
    # to f - (f / beat at 120) x (beat at 128), exactly.
    f = next(int(m.frame) for m in applied if cmd_name(m.cmd) == "master_bpm")
    downbeat = f - Fraction(f) * Fraction(120, 128)
    for (pad, frame), at, beats in zip(started, plays, (1, 4)):
        assert frame == _grid_frame_at_or_after(at, capture.rate_hz, 128, beats, downbeat), (
            pad, frame, at, downbeat)
    script = _tempo_script(applied, paths, [" quantize=1/4", " quantize=bar"])
    n_frames = int(stats["frames"]) - 4 * period_frames * n_periods
    attempt.expect(n_frames > int(applied[-1].frame) + capture.rate_hz // 10,
                   "too little after stop_all")
    render, starts = _render(renderer, tmp_path, script, n_frames, capture.rate_hz)
    assert starts == started, (starts, started)

    heard = capture.read()
    r0 = first_loud(render, 0, 2)
    c0 = first_loud(heard, capture.start_frame, 2)
    assert r0 is not None and c0 is not None, "no sound in the render or the capture"
    # The render's first sound is pad 0's first frame, on its grid frame.
    assert r0 >= started[0][1]
    zero = c0 - r0  # capture frame of the engine's output frame 0
    assert zero >= capture.start_frame
    attempt.expect(len(heard) >= 2 * (zero + n_frames), "the capture ends early")
    seg = numpy.frombuffer(heard, dtype=numpy.float32)[2 * zero: 2 * (zero + n_frames)]
    ref = numpy.frombuffer(render, dtype=numpy.float32)
    worst = float(numpy.max(numpy.abs(seg - ref)))
    print("e2e tempo: %d frames compared, max |capture - render| = %.3g" % (n_frames, worst))
    attempt.expect(worst <= TOLERANCE, "capture differs from the render by %.3g" % worst)
    shifted = numpy.frombuffer(heard, dtype=numpy.float32)[2 * (zero + 1): 2 * (zero + 1 + n_frames)]
    assert float(numpy.max(numpy.abs(shifted - ref))) > 100 * TOLERANCE
