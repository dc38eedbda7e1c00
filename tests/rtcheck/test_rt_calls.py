# SPDX-License-Identifier: MIT
"""rtcheck:audio-thread - the audio thread makes no forbidden call from project code.

Runs rt_workload.py (real playback in the headless rig, heavy command
traffic from several threads) with the interposer rt-interpose.c preloaded,
watching the threads ``flz-audio``, ``flz-house`` and ``flz-probe`` (a
workload thread that renames itself). Asserts:

- rtcheck:interposer-sees - the positive controls: flz-probe's loads reach
  project code that allocates and opens files, and flz-house frees retired
  samples; both must show up, attributed to the project's module;
- rtcheck:audio-thread - the flz-audio thread was seen and made no call to
  an allocation, lock, I/O, sleep or poll function whose first caller outside
  the C library is project code (or could not be attributed), nor from key
  lock's Rubber Band (a library of its own), with key-locked voices playing.

Runs twice: on the rig's ALSA device, and on device "wav:PATH" (the wav
backend: the audio thread paced by the clock, a writer thread writing the
file). One project call is allowed on each, the audio thread's one
deliberate blocking call, and it must be seen (a positive control on the
audio thread): on ALSA poll(), the engine's wait for the device and its wake
descriptor (backend-alsa-rt.c wait_device(), which replaces snd_pcm_wait());
on wav clock_nanosleep(), the sleep until each block's absolute deadline
(backend-wav-rt.c), which is the pacing itself.

Calls the ALSA library and its plugins make on the audio thread (inside
snd_pcm_* while the engine waits for or commits to the device) are that
device's own path; they are printed, not asserted.

Needs the installed wheel, jackd2, libasound2-plugins and the interposer
(FLZ_RT_INTERPOSE, set by meson); skips otherwise.
"""

import json
import os
import subprocess
import sys

import pytest

fl = pytest.importorskip("flitzis_looper_rs")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
import rig as _rig  # noqa: E402  (tests/rig: not installed)

HERE = os.path.dirname(os.path.abspath(__file__))
WATCH = ("flz-audio", "flz-house", "flz-probe")


def interposer_path():
    path = os.environ.get("FLZ_RT_INTERPOSE")
    if not path or not os.path.exists(path):
        pytest.skip("FLZ_RT_INTERPOSE does not name the built interposer (run through meson test)")
    return path


# The audio thread's one allowed blocking call per backend (see above).
ALLOWED = {"alsa": "poll", "wav": "clock_nanosleep"}


@pytest.fixture(scope="module", params=sorted(ALLOWED))
def report(request, tmp_path_factory):
    lib = interposer_path()
    tmp = tmp_path_factory.mktemp("rtcheck")
    out = str(tmp / "report.json")
    rig = None
    if request.param == "alsa":
        try:
            rig = _rig.Rig(period_frames=64, export_env=False).start()
        except _rig.RigError as e:
            pytest.skip(str(e))
    try:
        env = dict(os.environ)
        if rig is not None:
            env.update(rig.env)
        else:
            env["FLITZIS_AUDIO_DEVICE"] = "wav:%s" % (tmp / "rtcheck.wav")
        env.update(LD_PRELOAD=lib, FLZ_RTCHECK_OUT=out, FLZ_RTCHECK_THREADS=",".join(WATCH),
                   FLZ_RTCHECK_PROJECT="flitzis_looper_rs")
        seconds = float(os.environ.get("FLZ_RTCHECK_SECONDS", "12"))
        proc = subprocess.run([sys.executable, os.path.join(HERE, "rt_workload.py")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=seconds + 60, cwd="/")
    finally:
        if rig is not None:
            rig.stop()
    sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    assert proc.returncode == 0, "workload failed: %s %s" % (proc.stdout, proc.stderr[-2000:])
    summary = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    with open(out) as f:
        data = json.load(f)
    print("\nworkload:", json.dumps(summary))
    for name in WATCH:
        thread = data["threads"][name]
        print("%s (seen %d):" % (name, thread["threads_seen"]))
        for c in thread["calls"]:
            print("  %-22s %8d  %s%s" % (c["function"], c["count"],
                                         os.path.basename(c["object"]),
                                         "  [project]" if c["project"] else ""))
            if name == "flz-audio":
                print("      first stack: " + " <- ".join(c["first_stack"][:8]))
    return summary, data, request.param


def count(data, thread, function=None, project=None):
    return sum(c["count"] for c in data["threads"][thread]["calls"]
               if (function is None or c["function"] == function)
               and (project is None or c["project"] == project))


def test_workload_did_its_work(report):
    summary, _, _ = report
    assert summary["errors"] == []
    assert summary["play"] > 1000 and summary["stop"] > 500
    assert summary["load"] > 50 and summary["unload"] > 20
    assert summary["volume"] > 1000 and summary["speed"] > 1000
    assert summary["ping"] > 500 and summary["msgs"] > 500
    assert summary["max_voices"] > 0
    for key in ("play_exclusive", "pause", "resume", "seek", "pad_gain", "pad_speed", "pad_eq",
                "loop_region", "quantized", "at_frame", "master_bpm", "transport",
                "meters", "meters_live"):
        assert summary[key] > 50, (key, summary)
    for key in ("beats_per_bar", "anchor", "pad_bpm", "bpm_lock", "pad_downbeat", "key_lock",
                "pad_key_lock"):
        assert summary[key] > 10, (key, summary)
    # Key-locked voices played: more at once than the pool of 8 (a refusal
    # is a key-locked start that found all 8 processors in use).
    assert summary["key_lock_refused"] > 0, summary
    # Recordings started and stopped while playing: each took frames.
    assert summary["recordings"] > 10, summary
    assert summary["recorded_frames"] > summary["recordings"] * 64, summary


def test_interposer_sees_watched_threads(report):
    """rtcheck:interposer-sees"""
    _, data, _ = report
    for name in WATCH:
        assert data["threads"][name]["threads_seen"] >= 1, name
    probe_allocs = sum(count(data, "flz-probe", f, project=True)
                       for f in ("malloc", "calloc", "posix_memalign", "aligned_alloc"))
    probe_opens = sum(count(data, "flz-probe", f, project=True)
                      for f in ("open", "open64", "openat", "__open_2", "__open64_2"))
    assert probe_allocs > 0, "the loader's allocations in flz-probe were not seen"
    assert probe_opens > 0, "the loader's open() in flz-probe was not seen"
    assert count(data, "flz-house", "free", project=True) > 0, \
        "flz-house freed no retired sample that the interposer saw"


def test_audio_thread_makes_no_forbidden_call(report):
    """rtcheck:audio-thread"""
    _, data, backend = report
    audio = data["threads"]["flz-audio"]
    assert audio["threads_seen"] >= 1
    # The backend's one deliberate blocking call (see the module docstring).
    allowed = (ALLOWED[backend],)
    assert count(data, "flz-audio", allowed[0], project=True) > 0, \
        "the engine's own wait (%s) on flz-audio was not seen" % allowed[0]
    bad = [c for c in audio["calls"]
           if (c["project"] or c["object"] == "?") and c["function"] not in allowed]
    assert bad == [], "forbidden calls on flz-audio from project code: %s" % json.dumps(
        bad, indent=1)


def test_stretcher_makes_no_forbidden_call(report):
    """rtcheck:audio-thread, key lock: Rubber Band (a library of its own, so
    not project code above) makes no call on flz-audio either: none from
    librubberband, and on the wav backend (no ALSA plugin, whose JACK client
    is C++) none from libstdc++ (operator new, a mutex) at all."""
    _, data, backend = report
    audio = data["threads"]["flz-audio"]["calls"]
    bad = [c for c in audio
           if "rubberband" in os.path.basename(c["object"])
           or any("rubberband" in frame for frame in c["first_stack"])
           or (backend == "wav" and "libstdc++" in os.path.basename(c["object"]))]
    assert bad == [], "calls on flz-audio from the stretcher: %s" % json.dumps(bad, indent=1)
