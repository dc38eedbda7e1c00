# SPDX-License-Identifier: MIT
"""The command-line player: python -m flitzis_looper_rs play ..."""

import os
import subprocess
import sys
import tempfile
import wave

import numpy
import pytest

from flitzis_looper_rs import player

from conftest import NEEDS_RIG, read_float_wav, write_wav, sine


def run_cli(args, env=None, timeout=120):
    full_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    # stdin not a terminal: the player reads no keys and plays every file at
    # once (test_player_keys.py plays it through a pseudo-terminal).
    return subprocess.run([sys.executable, "-m", "flitzis_looper_rs"] + args, env=full_env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout,
                          cwd=tempfile.gettempdir())


def wav_peak(path):
    """Frames and peak of the float WAV the wav device wrote (header final)."""
    rate, channels, frames, riff_size, file_size = read_float_wav(path)
    assert rate == 48000 and channels == 2 and riff_size == file_size - 8
    assert player.wav_frames(path) == len(frames)
    return len(frames), float(abs(frames).max()) if len(frames) else 0.0


def test_player_help():
    p = run_cli(["play", "--help"])
    assert p.returncode == 0
    for opt in ("--device", "--volume", "--speed", "--seconds", "--out", "--wav", "--bpm",
                "--quantize", "--period-frames", "--periods", "--start"):
        assert opt in p.stdout


@pytest.mark.parametrize("args", [["play", "--volume", "2"], ["play", "--speed", "0.1"],
                                  ["play", "--seconds", "0"], ["play", "--bpm", "19"],
                                  ["play", "--bpm", "301"], ["play", "--quantize", "1/3"], []])
def test_player_bad_arguments(args):
    p = run_cli(args)
    assert p.returncode == 2
    assert "usage" in p.stderr


def test_player_demo_loops(tmp_path):
    paths = player.write_demo_loops(str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["demo-drums.wav", "demo-chord.wav",
                                                    "demo-bass.wav"]
    for path in paths:
        with wave.open(path, "rb") as w:
            assert w.getframerate() == 48000 and w.getnchannels() == 2
            assert w.getnframes() == 96000  # one bar at 120 BPM
            frames = w.readframes(w.getnframes())
        assert any(frames), path


def test_player_sound_card_detection():
    # Consistent with the machine: no /dev/snd means no card.
    if not os.path.isdir("/dev/snd"):
        assert player.have_sound_card() is False


@NEEDS_RIG
def test_player_device_missing_file(tmp_path):
    p = run_cli(["play", "--seconds", "0.5", str(tmp_path / "nope.wav")])
    assert p.returncode == 1
    assert "no such file" in p.stderr


@NEEDS_RIG
def test_player_plays_files_on_device(tmp_path):
    loop = write_wav(tmp_path / "loop.wav", sine(9600, amp=0.3))
    p = run_cli(["play", "--seconds", "1", "--volume", "0.5", "--speed", "1.5", loop])
    assert p.returncode == 0, p.stderr
    assert "slot 0: loop.wav" in p.stdout
    assert "voice" in p.stdout and "xruns" in p.stdout and "latency" in p.stdout
    assert "played" in p.stdout


def test_player_without_sound_card_writes_wav(tmp_path):
    out = str(tmp_path / "heard.wav")
    # No device in the environment: on a machine without a sound card the
    # player must play into the WAV file by itself; --wav forces it elsewhere.
    env = {"FLITZIS_AUDIO_DEVICE": None, "ALSA_CONFIG_PATH": None}
    args = ["play", "--seconds", "1.5", "--out", out]
    if player.have_sound_card():
        args.append("--wav")
    p = run_cli(args, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    if not player.have_sound_card():
        assert "No sound card" in p.stdout
    assert "demo loop set" in p.stdout
    assert "playing on wav:%s" % out in p.stdout
    assert "what would have been heard: %s" % out in p.stdout
    n_frames, peak = wav_peak(out)
    # Paced by the clock: at least 1 s of the 1.5 s, and not much more.
    assert 48000 <= n_frames <= 3 * 48000
    assert peak > 0.03, "the file is silent"


def test_player_quantised_start_lands_on_the_grid(tmp_path):
    """--bpm 97.3 --quantize 1/16: the loop's first frame (non-zero) is played
    on a grid frame of that tempo; the wav device's file holds every output
    frame from frame 0, so the index of its first sound is that frame."""
    from fractions import Fraction
    first = [0.25 if i == 0 else ((i * 37) % 2001 - 1000) * 8 / 32768.0 for i in range(4800)]
    loop = write_wav(tmp_path / "loop.wav", first)
    out = str(tmp_path / "heard.wav")
    env = {"FLITZIS_AUDIO_DEVICE": None, "ALSA_CONFIG_PATH": None}
    p = run_cli(["play", "--wav", "--out", out, "--seconds", "1", "--bpm", "97.3",
                 "--quantize", "1/16", loop], env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "starting on the 1/16 grid at 97.3 BPM" in p.stdout
    rate, channels, frames, _, _ = read_float_wav(out)
    nz = numpy.flatnonzero(numpy.abs(frames).sum(axis=1))
    assert len(nz), "the file is silent"
    at = int(nz[0])
    step = Fraction(4, 16) * Fraction(48000 * 60 * 10**6, 97300000)
    k = round(at / step)
    assert at == int(k * step + Fraction(1, 2)), "first sound at %d: not on the grid" % at
    assert abs(frames[at][0] - 0.8 * 0.25) < 1e-6  # the player's default volume


def test_player_default_out_in_current_directory(tmp_path):
    env = {"FLITZIS_AUDIO_DEVICE": None, "ALSA_CONFIG_PATH": None}
    full_env = dict(os.environ)
    for k in env:
        full_env.pop(k, None)
    args = [sys.executable, "-m", "flitzis_looper_rs", "play", "--wav", "--seconds", "0.3"]
    p = subprocess.run(args, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE,
                       text=True, timeout=120, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    path = str(tmp_path / player.DEFAULT_OUT)
    assert "what would have been heard: %s" % path in p.stdout
    n_frames, _ = wav_peak(path)
    assert n_frames > 0


def test_player_ctrl_c_stops_cleanly(tmp_path):
    import signal
    import time
    out = str(tmp_path / "interrupted.wav")
    env = dict(os.environ)
    env.pop("FLITZIS_AUDIO_DEVICE", None)
    env.pop("ALSA_CONFIG_PATH", None)
    args = [sys.executable, "-m", "flitzis_looper_rs", "play", "--wav", "--out", out]
    p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         text=True, cwd=tempfile.gettempdir())
    try:
        # Wait until it plays (its status lines appear), then press "Ctrl-C".
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "voices" in line and not line.lstrip().startswith("0.0s"):
                break
        assert any("voices" in x for x in lines), "".join(lines)
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out in rest
    n_frames, peak = wav_peak(out)
    assert n_frames > 24000 and peak > 0.03
