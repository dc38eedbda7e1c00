# SPDX-License-Identifier: MIT
"""Real playback under heavy command traffic, for the run-time real-time check.

Run inside the rig with the interposer preloaded (test_rt_calls.py does
that). For FLZ_RTCHECK_SECONDS seconds, several Python threads hammer one
engine: triggers and stops, loads, replacements and unloads, volume and speed
changes, the per-pad controls (exclusive plays, pause, resume, seek, pad gain,
pad speed, loop region), key lock (on from the start, so that key-locked
voices start, stop, are stolen and change rate throughout, the pool of 8
exhausted and refusing; toggled globally and per pad), pings and message
reads. One more thread renames itself
``flz-probe`` and loads and unloads samples: the positive control, whose
calls into project code the interposer must see. Prints one JSON line with
what was done.
"""

import ctypes
import json
import math
import os
import random
import struct
import sys
import tempfile
import threading
import time
import wave

import flitzis_looper_rs as fl

PR_SET_NAME = 15


def write_wav(path, rate_hz, n_channels, n_frames, freq_hz):
    frames = bytearray()
    for i in range(n_frames):
        v = int(12000 * math.sin(2 * math.pi * freq_hz * i / rate_hz))
        frames += struct.pack("<" + "h" * n_channels, *([v] * n_channels))
    with wave.open(path, "wb") as w:
        w.setnchannels(n_channels)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(bytes(frames))


def set_thread_name(name):
    # Through the global symbol table, so that an interposed prctl sees it.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME) failed")


def main():
    seconds = float(os.environ.get("FLZ_RTCHECK_SECONDS", "12"))
    tmp = tempfile.mkdtemp(prefix="flz-rtcheck-")
    files = []
    for k, (rate, ch, n) in enumerate([(48000, 2, 4800), (44100, 2, 6000), (48000, 1, 2400),
                                        (22050, 1, 3000), (96000, 2, 9600)]):
        p = os.path.join(tmp, "s%d.wav" % k)
        write_wav(p, rate, ch, n, 220 + 110 * k)
        files.append(p)

    eng = fl.AudioEngine(period_frames=64, periods=2, key_lock_voices=8)
    eng.run()
    # Key lock (issue 14): every pad that is not tempo-locked plays through a
    # stretcher while the pool lasts.
    eng.set_key_lock(True)
    for slot in range(16):
        eng.load_sample(slot, files[slot % len(files)])
    # Tempo sync from the start: half the pads locked, so that locked voices
    # (their exact stepping, glides on tempo changes) play throughout.
    for slot in range(0, 16, 2):
        eng.set_pad_bpm(slot, 60.0 + 10.0 * slot)
    eng.set_bpm_lock(True)

    stop = threading.Event()
    done = {"play": 0, "stop": 0, "stop_all": 0, "load": 0, "unload": 0, "volume": 0,
            "speed": 0, "ping": 0, "msgs": 0, "full": 0, "probe_loads": 0,
            "play_exclusive": 0, "pause": 0, "resume": 0, "seek": 0, "pad_gain": 0,
            "pad_speed": 0, "pad_eq": 0, "loop_region": 0, "empty": 0, "quantized": 0, "at_frame": 0,
            "master_bpm": 0, "beats_per_bar": 0, "anchor": 0, "transport": 0,
            "meters": 0, "meters_live": 0, "recordings": 0, "recorded_frames": 0,
            "pad_bpm": 0, "bpm_lock": 0, "pad_downbeat": 0, "key_lock": 0, "pad_key_lock": 0}
    lock = threading.Lock()
    errors = []

    def bump(key, n=1):
        with lock:
            done[key] += n

    def guarded(fn):
        def run(seed):
            rnd = random.Random(seed)
            try:
                while not stop.is_set():
                    try:
                        fn(rnd)
                    except RuntimeError as e:
                        if "full" not in str(e):
                            raise
                        bump("full")
                        time.sleep(0.002)
            except BaseException as e:  # reported by the main thread
                errors.append(repr(e))
        return run

    @guarded
    def triggers(rnd):
        slot = rnd.randrange(24)
        r = rnd.random()
        if r < 0.6:
            eng.play_sample(slot, rnd.random())
            bump("play")
        elif r < 0.95:
            eng.stop_sample(slot)
            bump("stop")
        else:
            eng.stop_all()
            bump("stop_all")
        time.sleep(rnd.random() * 0.002)

    @guarded
    def pads(rnd):
        # The per-pad controls (issue 12). Seeks and loop regions are checked
        # against the slot's sample, which the load threads replace and
        # unload meanwhile: an empty slot's ValueError is expected. The
        # positions lie inside the shortest sample (2400 frames at 48 kHz).
        slot = rnd.randrange(24)
        r = rnd.random()
        try:
            if r < 0.13:
                eng.play_sample_exclusive(slot, rnd.random())
                bump("play_exclusive")
            elif r < 0.26:
                eng.pause_sample(slot)
                bump("pause")
            elif r < 0.39:
                eng.resume_sample(slot)
                bump("resume")
            elif r < 0.52:
                eng.seek_sample(slot, rnd.uniform(0.0, 0.045))
                bump("seek")
            elif r < 0.65:
                eng.set_pad_gain(slot, rnd.uniform(-60.0, 12.0))
                bump("pad_gain")
            elif r < 0.78:
                eng.set_pad_speed(slot, rnd.uniform(0.5, 2.0))
                bump("pad_speed")
            elif r < 0.82:
                # Key lock (issue 14): the global setting mostly on, pads
                # mostly following it.
                if rnd.random() < 0.2:
                    eng.set_key_lock(rnd.random() < 0.8)
                    bump("key_lock")
                else:
                    eng.set_pad_key_lock(slot, rnd.choice((None, None, True, False)))
                    bump("pad_key_lock")
            elif r < 0.9:
                # The EQ (issue 14): gains anywhere in range, and neutral
                # often enough that voices go in and out of the bypass.
                if rnd.random() < 0.3:
                    eng.set_pad_eq(slot, 0.0, 0.0, 0.0)
                else:
                    eng.set_pad_eq(slot, *(rnd.uniform(-60.0, 6.0) for _ in range(3)))
                bump("pad_eq")
            else:
                start = rnd.uniform(0.0, 0.02)
                eng.set_pad_loop_region(slot, start, start + rnd.uniform(0.001, 0.02))
                bump("loop_region")
        except ValueError as e:
            if "slot %d is empty" % slot not in str(e):
                raise
            bump("empty")
        time.sleep(rnd.random() * 0.002)

    @guarded
    def transport(rnd):
        # The transport and scheduled starts (issue 13): quantised plays on
        # short grids (so that they fall due, splitting blocks, during the
        # run), plays at frames just ahead and long past, tempo, bar length
        # and anchor changes, and reads of the published transport. A full
        # schedule raises QueueFullError, counted by guarded() as "full".
        slot = rnd.randrange(24)
        r = rnd.random()
        if r < 0.35:
            eng.play_sample(slot, rnd.random(),
                            quantize=rnd.choice(("1/64", "1/32", "1/16", "off")))
            bump("quantized")
        elif r < 0.6:
            now = eng.frame
            eng.play_sample(slot, rnd.random(),
                            at_frame=max(0, now + rnd.randrange(-5000, 3000)))
            bump("at_frame")
        elif r < 0.7:
            eng.set_master_bpm(rnd.uniform(60.0, 300.0))
            bump("master_bpm")
        elif r < 0.75:
            eng.set_beats_per_bar(rnd.randint(1, 16))
            bump("beats_per_bar")
        elif r < 0.8:
            eng.anchor_transport(None if rnd.random() < 0.5 else eng.frame)
            bump("anchor")
        elif r < 0.84:
            # Tempo sync: relocks (and unlocks) playing voices on the audio side.
            eng.set_pad_bpm(slot, None if rnd.random() < 0.2 else rnd.uniform(20.0, 300.0))
            bump("pad_bpm")
        elif r < 0.86:
            eng.set_bpm_lock(rnd.random() < 0.8)
            bump("bpm_lock")
        elif r < 0.88:
            try:
                eng.set_pad_downbeat(slot, rnd.random() * 0.01)
                bump("pad_downbeat")
            except ValueError as e:
                if "slot %d is empty" % slot not in str(e):
                    raise
                bump("empty")
        elif r < 0.9:
            eng.transport()
            bump("transport")
        else:
            # The meters' triple buffer, read while the audio thread publishes.
            m = eng.meters()
            bump("meters")
            if m.frame > 0 and max(m.master_peak) > 0.0:
                bump("meters_live")
        time.sleep(rnd.random() * 0.002)

    @guarded
    def loads(rnd):
        slot = rnd.randrange(24)
        if rnd.random() < 0.7:
            eng.load_sample(slot, files[rnd.randrange(len(files))])
            bump("load")
        else:
            eng.unload_sample(slot)
            bump("unload")

    @guarded
    def params(rnd):
        eng.set_volume(rnd.random())
        eng.set_speed(rnd.uniform(fl.SPEED_MIN, fl.SPEED_MAX))
        bump("volume")
        bump("speed")
        time.sleep(0.0005)

    @guarded
    def messages(rnd):
        eng.ping()
        bump("ping")
        n = 0
        while eng.receive_msg() is not None:
            n += 1
        bump("msgs", n)
        time.sleep(0.001)

    @guarded
    def recordings(rnd):
        # The audio thread takes each recorder up and lets go of it while
        # the other threads keep it busy: its pushes and the handover.
        path = os.path.join(tmp, "rec.wav")
        eng.start_recording(path)
        time.sleep(0.05 + rnd.random() * 0.2)
        bump("recorded_frames", eng.stop_recording())
        bump("recordings")
        os.unlink(path)
        time.sleep(rnd.random() * 0.02)

    def probe():
        # The positive control: a watched thread whose calls are known to
        # reach project code (the loader allocates, opens and reads files).
        set_thread_name("flz-probe")
        try:
            while not stop.is_set():
                eng.load_sample(200, files[1])
                eng.unload_sample(200)
                bump("probe_loads")
                time.sleep(0.01)
        except BaseException as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=triggers, args=(1,)),
               threading.Thread(target=triggers, args=(2,)),
               threading.Thread(target=loads, args=(3,)),
               threading.Thread(target=loads, args=(4,)),
               threading.Thread(target=params, args=(5,)),
               threading.Thread(target=pads, args=(7,)),
               threading.Thread(target=transport, args=(8,)),
               threading.Thread(target=messages, args=(6,)),
               threading.Thread(target=recordings, args=(9,)),
               threading.Thread(target=probe)]
    for t in threads:
        t.start()
    max_voices = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and not errors:
        time.sleep(0.1)
        max_voices = max(max_voices, eng.stats()["voices_playing"])
    stop.set()
    for t in threads:
        t.join()
    stats = eng.stats()
    eng.shut_down()
    for p in files:
        os.unlink(p)
    os.rmdir(tmp)
    done.update(errors=errors, xruns=stats["xruns"], max_voices=max_voices,
                key_lock_refused=stats["key_lock_refused"],
                rt_priority=stats["rt_priority"], seconds=seconds)
    print(json.dumps(done))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
