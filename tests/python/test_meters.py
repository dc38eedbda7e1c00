# SPDX-License-Identifier: MIT
"""AudioEngine.meters() offline: each snapshot's peaks are the exact max |x|
over the interval it covers, [frame - round(rate / meter_hz), frame)."""

import math
import threading

import numpy
import pytest

from flitzis_looper_rs import AudioEngine, Meters, NotRunningError, PadMeter

from conftest import RATE_HZ

HZ = 100.0
INTERVAL = round(RATE_HZ / HZ)  # 480 frames


def offline(**kw):
    return AudioEngine(device="offline", meter_hz=HZ, **kw)


def noise(n_frames, channels, seed, scale=0.9):
    rng = numpy.random.default_rng(seed)
    return (rng.uniform(-scale, scale, (n_frames, channels))).astype(numpy.float32)


def test_before_any_interval_and_not_running():
    e = offline()
    with pytest.raises(NotRunningError):
        e.meters()
    with e:
        assert e.meters() == Meters(0, (0.0, 0.0), False, {})
        e.render(INTERVAL - 1)
        assert e.meters() == Meters(0, (0.0, 0.0), False, {})
        e.render(1)
        m = e.meters()
        assert m.frame == INTERVAL and m.pads == {} and m.master_peak == (0.0, 0.0)


@pytest.mark.parametrize("bad", [0, 0.5, 200.5, -1.0, math.nan, math.inf])
def test_bad_meter_hz(bad):
    with pytest.raises(ValueError, match="meter_hz out of range"):
        AudioEngine(device="offline", meter_hz=bad)


def test_meter_hz_type_and_bounds():
    with pytest.raises(TypeError):
        AudioEngine(device="offline", meter_hz="30")
    AudioEngine(device="offline", meter_hz=1)
    AudioEngine(device="offline", meter_hz=200.0)


def test_master_peak_is_numpy_max_per_interval_at_any_render_size():
    e = offline()
    with e:
        e.load_sample_array(0, noise(RATE_HZ, 2, 1), RATE_HZ)
        e.set_pad_gain(0, -6.0)
        e.set_volume(0.7)
        e.play_sample(0, volume=0.8)
        chunks, total, seen = [], 0, 0
        for n in [1000, 333, 4099, 17, 480, 2048, 960, 1]:
            chunks.append(e.render(n))
            total += n
            m = e.meters()
            assert m.frame == total // INTERVAL * INTERVAL
            out = numpy.concatenate(chunks)
            if m.frame > 0:
                window = out[m.frame - INTERVAL:m.frame]
                expect = numpy.abs(window).max(axis=0)
                # exact: the same float32 values, max over the same frames
                assert m.master_peak == tuple(float(x) for x in expect)
                assert m.master_clip is False
                seen += 1
        assert seen >= 7


def test_pad_peak_is_its_own_contribution_and_silent_pads_are_absent():
    sig = noise(RATE_HZ, 2, 2, scale=0.5)
    with offline() as e:
        e.load_sample_array(3, sig, RATE_HZ)
        e.load_sample_array(4, noise(RATE_HZ, 2, 3), RATE_HZ)
        e.set_pad_gain(3, -3.0)
        e.render(INTERVAL)  # past nothing: the gain applies on its first block
        e.render(RATE_HZ // 50)  # the 10 ms pad gain glide ends
        start = (INTERVAL + RATE_HZ // 50) // INTERVAL * INTERVAL + INTERVAL
        e.render(start - INTERVAL - RATE_HZ // 50)
        e.play_sample(3, volume=0.9)
        for k in range(6):
            out = e.render(INTERVAL)
            m = e.meters()
            assert m.frame == start + (k + 1) * INTERVAL
            assert list(m.pads) == [3]  # pad 4 is loaded but silent
            # pad 3 alone, master gain 1: the output is its contribution
            assert m.pads[3].peak == float(numpy.abs(out).max())
            assert isinstance(m.pads[3], PadMeter)


def test_two_pads_each_against_a_render_of_it_alone():
    a, b = noise(RATE_HZ, 2, 4, 0.4), noise(RATE_HZ, 2, 5, 0.3)

    def run(slots):
        outs, meters = [], []
        with offline() as e:
            e.load_sample_array(0, a, RATE_HZ)
            e.load_sample_array(1, b, RATE_HZ)
            e.set_pad_gain(1, -12.0)
            e.render(2 * INTERVAL)
            for s in slots:
                e.play_sample(s, volume=0.5)
            for _ in range(5):
                outs.append(e.render(INTERVAL))
                meters.append(e.meters())
        return outs, meters

    alone0, _ = run([0])
    alone1, _ = run([1])
    _, both = run([0, 1])
    for k in range(5):
        assert both[k].pads[0].peak == float(numpy.abs(alone0[k]).max())
        assert both[k].pads[1].peak == float(numpy.abs(alone1[k]).max())


def test_master_clip_exactly_in_the_interval_that_reaches_one():
    # At an interval's first frame, inside one, and a tiny value at a last frame.
    sig = numpy.zeros((RATE_HZ, 1), numpy.float32)
    sig[2 * INTERVAL, 0] = 1.0
    sig[2500, 0] = -0.999
    sig[7 * INTERVAL - 1, 0] = 1e-7
    with offline(channels=1) as e:
        e.load_sample_array(0, sig, RATE_HZ)
        e.play_sample(0)
        for k in range(8):
            out = e.render(INTERVAL)
            m = e.meters()
            lo, hi = k * INTERVAL, (k + 1) * INTERVAL
            assert m.master_peak == (float(numpy.abs(out[:, 0]).max()),)
            assert m.master_peak[0] == float(numpy.abs(sig[lo:hi, 0]).max())
            assert m.master_clip is (k == 2)
            # the pad sounded only where its contribution was non-zero
            assert (0 in m.pads) is (k in (2, 5, 6))


def test_stopped_pad_disappears_and_position_is_the_newest_voices():
    with offline() as e:
        e.load_sample_array(0, noise(4 * RATE_HZ, 2, 6, 0.5), RATE_HZ)
        e.play_sample(0)
        e.render(3 * INTERVAL)
        m = e.meters()
        assert m.pads[0].position_s == pytest.approx(3 * INTERVAL / RATE_HZ, abs=1e-12)
        e.play_sample(0)  # a second voice, 3 intervals behind the first
        e.render(2 * INTERVAL)
        m = e.meters()
        assert m.pads[0].position_s == pytest.approx(2 * INTERVAL / RATE_HZ, abs=1e-12)
        e.stop_sample(0)
        e.render(INTERVAL)  # the 5 ms fade ends in this interval
        assert 0 in e.meters().pads
        e.render(INTERVAL)
        assert e.meters().pads == {}


def test_meters_from_eight_threads_while_rendering():
    errors, stop = [], threading.Event()
    with offline() as e:
        e.load_sample_array(0, noise(RATE_HZ, 2, 7), RATE_HZ)
        e.play_sample(0)

        def reader():
            last = 0
            try:
                while not stop.is_set():
                    m = e.meters()
                    assert m.frame >= last and m.frame % INTERVAL == 0
                    assert len(m.master_peak) == 2
                    last = m.frame
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        for _ in range(200):
            e.render(313)
        stop.set()
        for t in threads:
            t.join()
        assert e.meters().frame == 200 * 313 // INTERVAL * INTERVAL
    assert errors == []


def test_unchanged_snapshot_is_the_same_object_and_a_new_one_is_new():
    """A call that finds no newer snapshot returns the Meters of the last
    call itself (equal, and the same object); a render that ends an interval
    gives a new object with the new figures; a run() starts afresh."""
    e = offline()
    with e:
        e.load_sample_array(0, noise(4000, 2, 5), RATE_HZ)
        e.play_sample(0, 1.0)
        e.render(INTERVAL * 2)
        a = e.meters()
        b = e.meters()
        assert a == b and a is b
        assert a.frame == 2 * INTERVAL and list(a.pads) == [0]
        assert type(a) is Meters and type(a.pads[0]) is PadMeter
        e.render(INTERVAL - 1)  # no interval ends: the same snapshot
        assert e.meters() is a
        e.render(1)
        c = e.meters()
        assert c is not a and c.frame == 3 * INTERVAL and a.frame == 2 * INTERVAL
        assert c.pads[0].peak > 0.0 and c.pads[0] != a.pads[0]
        assert e.meters() is c
        # Nothing is kept per call: 2000 calls leave the counts as they were
        # (a reference or a copy leaked per call would add 2000).
        import gc
        import sys
        pm = c.pads[0]
        refs = (sys.getrefcount(c), sys.getrefcount(pm), sys.getrefcount(c.pads))
        n_objects = len(gc.get_objects())
        for _ in range(2000):
            e.meters()
        assert (sys.getrefcount(c), sys.getrefcount(pm), sys.getrefcount(c.pads)) == refs
        assert len(gc.get_objects()) < n_objects + 10
        # A new snapshot drops the old one: only this test holds it now.
        refs_c = sys.getrefcount(c)
        e.render(INTERVAL)
        assert e.meters() is not c
        assert sys.getrefcount(c) == refs_c - 1
    with e:
        # Frames count from 0 again: the last run's snapshot is not reused.
        assert e.meters() == Meters(0, (0.0, 0.0), False, {})
        e.render(INTERVAL * 2)
        assert e.meters().pads == {}


def test_pads_is_a_read_only_mapping():
    """pads reads like the dict it was (indexing, get, in, len, iteration,
    keys/values/items, equality with a dict) and refuses every change, so a
    caller cannot alter the Meters the next call returns."""
    sig = noise(4000, 2, 9, scale=0.5)
    with offline() as e:
        e.load_sample_array(3, sig, RATE_HZ)
        e.load_sample_array(7, sig, RATE_HZ)
        e.play_sample(3, 1.0)
        e.play_sample(7, 0.5)
        e.render(INTERVAL)
        m = e.meters()
        pads = m.pads
        assert len(pads) == 2 and sorted(pads) == [3, 7]
        assert 3 in pads and 7 in pads and 0 not in pads
        assert pads[3] is pads.get(3) and pads.get(0) is None and pads.get(0, "x") == "x"
        assert sorted(pads.keys()) == [3, 7]
        assert dict(pads.items()) == {3: pads[3], 7: pads[7]}
        assert list(pads.values()) == [pads[k] for k in pads]
        assert pads == {3: pads[3], 7: pads[7]} and isinstance(pads[3], PadMeter)
        with pytest.raises(KeyError):
            pads[0]
        before = dict(pads)
        with pytest.raises(TypeError):
            pads[0] = PadMeter(1.0, 0.0)
        with pytest.raises(TypeError):
            del pads[3]
        for name in ("clear", "pop", "popitem", "update", "setdefault"):
            assert not hasattr(pads, name), name
        with pytest.raises(AttributeError):
            m.frame = 0  # a named tuple: no field can be rebound
        with pytest.raises(AttributeError):
            m.pads = {}
        with pytest.raises(AttributeError):
            pads[3].peak = 2.0
        # A copy is the caller's own; the next call still sees the snapshot.
        mine = dict(pads)
        mine.clear()
        again = e.meters()
        assert again is m and dict(again.pads) == before and len(again.pads) == 2
