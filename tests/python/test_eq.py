# SPDX-License-Identifier: MIT
"""set_pad_eq(): the per-pad 3-band isolator (API.md Part 2 "Key lock and EQ"), offline.

Tones are loaded as float32 arrays whose length holds a whole number of cycles,
so that they loop without a seam; levels are RMS over whole cycles of the
steady state (after the filters have settled), compared in dB with the level
of the same tone rendered without EQ."""

import math

import numpy
import pytest

from flitzis_looper_rs import AudioEngine, AudioMessage, NotRunningError

from conftest import RATE_HZ

GLIDE = RATE_HZ // 100  # 10 ms


def tone(freq_hz, amp=0.5, n_frames=RATE_HZ):
    t = numpy.arange(n_frames) / RATE_HZ
    return (amp * numpy.sin(2 * math.pi * freq_hz * t)).astype(numpy.float32)


def offline():
    return AudioEngine(device="offline", channels=1)


def render_tone(x, eq=None, n=RATE_HZ // 2, before_play=True):
    with offline() as e:
        e.load_sample_array(0, x, RATE_HZ)
        if eq is not None and before_play:
            e.set_pad_eq(0, *eq)
        e.play_sample(0, 1.0)
        if eq is not None and not before_play:
            e.set_pad_eq(0, *eq)
        return e.render(n)[:, 0].copy()


def rms_db(y):
    return 20 * math.log10(math.sqrt(float(numpy.mean(y.astype(numpy.float64) ** 2))) + 1e-30)


def steady(y):
    """The last 0.25 s: 15 cycles of 60 Hz, 4000 of 16 kHz."""
    return y[-RATE_HZ // 4:]


def test_neutral_is_bit_identical_to_no_eq():
    x = tone(1000) + tone(60, 0.3)
    plain = render_tone(x)
    assert numpy.abs(plain).max() > 0.5
    numpy.testing.assert_array_equal(render_tone(x, (0.0, 0.0, 0.0)), plain)
    # Away and back: once the glide and the bypass crossfade are over, the
    # output is the dry signal again, bit for bit.
    with offline() as e:
        e.load_sample_array(0, x, RATE_HZ)
        e.play_sample(0, 1.0)
        a = e.render(2400)[:, 0].copy()
        e.set_pad_eq(0, -12.0, 3.0, -30.0)
        b = e.render(4800)[:, 0].copy()
        e.set_pad_eq(0, 0.0, 0.0, 0.0)
        c = e.render(4800)[:, 0].copy()
        d = e.render(RATE_HZ // 2 - 12000)[:, 0].copy()
    numpy.testing.assert_array_equal(a, plain[:2400])
    assert numpy.abs(b[GLIDE:] - plain[2400:7200][GLIDE:]).max() > 0.1  # it did filter
    numpy.testing.assert_array_equal(d, plain[12000:])
    assert c.shape == (4800,)


@pytest.mark.parametrize("kill,gone_hz,kept_hz", [
    ((-60.0, 0.0, 0.0), 60, 16000),
    ((0.0, 0.0, -60.0), 16000, 60),
])
def test_kill_takes_its_band_45_db_down_and_keeps_the_other(kill, gone_hz, kept_hz):
    gone, kept = tone(gone_hz), tone(kept_hz)
    ref_gone, ref_kept = rms_db(steady(render_tone(gone))), rms_db(steady(render_tone(kept)))
    assert ref_gone > -10 and ref_kept > -10
    assert rms_db(steady(render_tone(gone, kill))) - ref_gone <= -45.0
    assert abs(rms_db(steady(render_tone(kept, kill))) - ref_kept) <= 0.5


def test_mid_kill_and_boost():
    x = tone(1000)
    ref = rms_db(steady(render_tone(x)))
    # 1 kHz is two octaves from each crossover, so both neighbours leak into
    # a mid kill (LR4: about -48 dB each; measured -42.6 dB together).
    assert rms_db(steady(render_tone(x, (0.0, -60.0, 0.0)))) - ref <= -40.0
    # +6 dB in the middle of the mid band (1 kHz is two octaves from 250 Hz
    # and 4 kHz): within 0.5 dB of +6.
    assert abs(rms_db(steady(render_tone(x, (0.0, 6.0, 0.0)))) - ref - 6.0) <= 0.5


def test_a_new_voice_starts_at_the_pads_eq_without_a_glide():
    x = tone(60)
    plain = render_tone(x, n=GLIDE)
    killed = render_tone(x, (-60.0, 0.0, 0.0), n=GLIDE)
    # A glide from 0 dB would pass most of the tone's first 10 ms (it rises
    # to 0.5 x sin(2 pi 60 x 0.01) = 0.34 in them).
    assert numpy.abs(plain).max() > 0.3
    assert numpy.abs(killed).max() < 0.05


def test_change_glides_without_a_step():
    """Mid from 0 to -20 dB on a 1 kHz tone while it plays: the peak of each
    1 ms cycle moves from 0.5 to about 0.05 over the 10 ms glide, never by more
    than a fifth of the way in one cycle (a step would move it all at once)."""
    x = tone(1000)
    with offline() as e:
        e.load_sample_array(0, x, RATE_HZ)
        e.play_sample(0, 1.0)
        e.render(4800)
        e.set_pad_eq(0, 0.0, -20.0, 0.0)
        y = e.render(9600)[:, 0].copy()
    peaks = numpy.abs(y).reshape(-1, 48).max(axis=1)
    # The settled level: -20 dB in the mid band plus the neighbours' leakage
    # at 0 dB (0.0533 measured, -25.4 dB).
    settled = rms_db(steady(render_tone(x, (0.0, -20.0, 0.0)))) + 20 * math.log10(math.sqrt(2))
    assert peaks[0] > 0.4
    assert abs(20 * math.log10(peaks[-1]) - settled) < 0.1
    steps = numpy.abs(numpy.diff(peaks))
    assert steps.max() <= (0.5 - 0.05) / 5, steps.max()


def test_each_pad_its_own_eq_and_it_stays_across_loads():
    lo, hi = tone(60), tone(16000)
    with offline() as e:
        e.load_sample_array(0, lo, RATE_HZ)
        e.load_sample_array(1, lo, RATE_HZ)
        e.set_pad_eq(0, -60.0, 0.0, 0.0)
        e.play_sample(1, 1.0)
        only_1 = steady(e.render(RATE_HZ // 2)[:, 0].copy())
        e.stop_sample(1)
        e.render(RATE_HZ // 10)
        e.load_sample_array(0, lo, RATE_HZ)  # a reload keeps the pad's EQ
        e.play_sample(0, 1.0)
        only_0 = steady(e.render(RATE_HZ // 2)[:, 0].copy())
    ref = rms_db(steady(render_tone(lo)))
    assert abs(rms_db(only_1) - ref) < 0.01  # pad 1 has no EQ
    assert rms_db(only_0) - ref <= -45.0
    assert hi.shape == lo.shape


def test_meters_see_the_pad_after_its_eq():
    with AudioEngine(device="offline", channels=1, meter_hz=10.0) as e:
        e.load_sample_array(0, tone(60), RATE_HZ)
        e.set_pad_eq(0, -60.0, 0.0, 0.0)
        e.play_sample(0, 1.0)
        e.render(RATE_HZ // 2)
        m = e.meters()
    assert m.pads[0].peak < 0.5 * 10 ** (-40 / 20)


def test_bad_arguments_raise_and_change_nothing():
    x = tone(1000)
    plain = render_tone(x)
    e = offline()
    with pytest.raises(NotRunningError):
        e.set_pad_eq(0, 0.0, 0.0, 0.0)
    with e:
        e.load_sample_array(0, x, RATE_HZ)
        for args, phrase in [((0, 6.5, 0, 0), "low_db out of range"),
                             ((0, 0, -60.5, 0), "mid_db out of range"),
                             ((0, 0, 0, float("nan")), "high_db out of range"),
                             ((0, float("inf"), 0, 0), "low_db out of range"),
                             ((-1, 0, 0, 0), "id out of range"),
                             ((10**6, 0, 0, 0), "id out of range")]:
            with pytest.raises(ValueError, match=phrase):
                e.set_pad_eq(*args)
        with pytest.raises(TypeError):
            e.set_pad_eq(0, "0", 0, 0)
        with pytest.raises(TypeError):
            e.set_pad_eq(0, 0, 0)
        e.play_sample(0, 1.0)
        numpy.testing.assert_array_equal(e.render(RATE_HZ // 2)[:, 0], plain)


def test_applied_names_pad_eq():
    with AudioEngine(device="offline", channels=1, _trace_commands=True) as e:
        e.set_pad_eq(3, -6.0, 0.0, 2.0)
        e.render(64)
        msgs = [m for m in iter(e.receive_msg, None) if isinstance(m, AudioMessage.Applied)]
    assert [(m.cmd, m.id, m.value) for m in msgs] == [("pad_eq", 3, None)]
