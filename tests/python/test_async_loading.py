# SPDX-License-Identifier: MIT
"""load_sample_async(), cancel_load() and the Load* messages, on the offline device (no rig).

Every request's messages are LoadProgress with a rising fraction, then exactly one
LoadDone or LoadFailed; what a request published is checked by rendering it against
a synchronous load of the same source."""

import os
import time

import numpy
import pytest

from flitzis_looper_rs import AudioEngine, AudioMessage, NotRunningError, QueueFullError

from conftest import RATE_HZ, write_wav

LOAD_KINDS = (AudioMessage.LoadProgress, AudioMessage.LoadDone, AudioMessage.LoadFailed)
ENDS = (AudioMessage.LoadDone, AudioMessage.LoadFailed)


def pattern(n, k=37):
    return [((i * k) % 2001 - 1000) * 8 / 32768.0 for i in range(n)]


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("async") / "pattern.wav", pattern(4800))


def drain_until_ended(e, requests, others=None, limit_s=60.0):
    """Take messages until every request in requests has ended; return them per request.
    The limit only keeps a broken pool from hanging the suite."""
    got = {r: [] for r in requests}
    open_ = set(requests)
    deadline = time.monotonic() + limit_s
    while open_:
        m = e.receive_msg()
        if m is None:
            assert time.monotonic() < deadline, "requests %r never ended" % sorted(open_)
            time.sleep(0.001)
            continue
        if not isinstance(m, LOAD_KINDS):
            if others is not None:
                others.append(m)
            continue
        assert m.request in got, m
        assert m.request in open_, "message after the end of request %d: %r" % (m.request, m)
        got[m.request].append(m)
        if isinstance(m, ENDS):
            open_.discard(m.request)
    return got


def check_order(msgs):
    """Progress (rising) then one end; return the end."""
    *progress, end = msgs
    assert progress and all(isinstance(p, AudioMessage.LoadProgress) for p in progress)
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert all(isinstance(p.stage, str) and p.stage for p in progress)
    assert progress[0].stage == "queued"
    assert isinstance(end, ENDS)
    return end


def render_pad(e, pad, n=3000):
    e.play_sample(pad, 1.0)
    return e.render(n)


def test_file_progress_then_done_renders_as_load_sample(wav):
    with AudioEngine(device="offline") as a, AudioEngine(device="offline") as b:
        r = a.load_sample_async(3, wav)
        assert isinstance(r, int)
        end = check_order(drain_until_ended(a, [r])[r])
        assert isinstance(end, AudioMessage.LoadDone)
        assert end.id == 3 and end.request == r
        assert end.duration_s == pytest.approx(4800 / RATE_HZ, abs=1e-9)
        b.load_sample(3, wav)
        got, want = render_pad(a, 3), render_pad(b, 3)
        assert numpy.abs(want).max() > 0.1
        numpy.testing.assert_array_equal(got, want)


def test_bytes_memoryview_and_array_sources(wav):
    data = open(wav, "rb").read()
    x = numpy.array(pattern(3000, 53), dtype=numpy.float32)
    with AudioEngine(device="offline") as a, AudioEngine(device="offline") as b:
        rs = [a.load_sample_async(0, data), a.load_sample_async(1, memoryview(bytearray(data))),
              a.load_sample_async(2, x, sample_rate=44100)]
        got = drain_until_ended(a, rs)
        for r in rs:
            assert isinstance(check_order(got[r]), AudioMessage.LoadDone)
        b.load_sample_data(0, data)
        b.load_sample_data(1, data)
        b.load_sample_array(2, x, 44100)
        for pad in (0, 1, 2):
            numpy.testing.assert_array_equal(render_pad(a, pad), render_pad(b, pad))


def test_missing_file_fails_with_load_samples_exception(tmp_path):
    missing = str(tmp_path / "nope.wav")
    with AudioEngine(device="offline") as e:
        r = e.load_sample_async(5, missing)
        end = check_order(drain_until_ended(e, [r])[r])
        assert isinstance(end, AudioMessage.LoadFailed) and end.id == 5
        with pytest.raises(FileNotFoundError) as sync:
            e.load_sample(5, missing)
        assert type(end.error) is FileNotFoundError
        assert end.error.args == sync.value.args
        assert end.error.filename == missing
        assert e.sample_info(5) is None


def test_undecodable_bytes_fail_with_value_error():
    with AudioEngine(device="offline") as e:
        r = e.load_sample_async(0, b"not audio at all")
        end = check_order(drain_until_ended(e, [r])[r])
        assert isinstance(end, AudioMessage.LoadFailed)
        with pytest.raises(ValueError) as sync:
            e.load_sample_data(0, b"not audio at all")
        assert type(end.error) is ValueError and str(end.error) == str(sync.value)


def test_later_load_supersedes_first_never_published():
    # The workers are paused (a test hook) until both requests are queued, so
    # neither has begun when the second supersedes the first.
    x1 = numpy.array(pattern(20000, 11), dtype=numpy.float32)
    x2 = numpy.array(pattern(3000, 71), dtype=numpy.float32)
    with AudioEngine(device="offline", load_workers=1) as a, \
            AudioEngine(device="offline") as b:
        a._pause_loads(True)
        r1 = a.load_sample_async(7, x1, sample_rate=44100)
        r2 = a.load_sample_async(7, x2, sample_rate=44100)
        a._pause_loads(False)
        got = drain_until_ended(a, [r1, r2])
        e1, e2 = check_order(got[r1]), check_order(got[r2])
        assert isinstance(e2, AudioMessage.LoadDone)
        assert isinstance(e1, AudioMessage.LoadFailed)
        assert type(e1.error) is RuntimeError and "superseded" in str(e1.error)
        b.load_sample_array(7, x2, 44100)
        assert a.sample_info(7) == b.sample_info(7)
        numpy.testing.assert_array_equal(render_pad(a, 7), render_pad(b, 7))


def test_unload_supersedes():
    x = numpy.array(pattern(3000), dtype=numpy.float32)
    with AudioEngine(device="offline", load_workers=1) as e:
        # Paused workers: pad 4's request is still queued when the unload comes.
        e._pause_loads(True)
        r = e.load_sample_async(4, x, sample_rate=44100)
        e.unload_sample(4)
        e._pause_loads(False)
        end = check_order(drain_until_ended(e, [r])[r])
        assert isinstance(end, AudioMessage.LoadFailed)
        assert type(end.error) is RuntimeError and "superseded" in str(end.error)
        assert e.sample_info(4) is None
        assert not render_pad_quiet(e, 4).any()


def render_pad_quiet(e, pad):
    try:
        e.play_sample(pad, 1.0)
    except Exception:
        pass
    return e.render(1000)


def test_cancel_load():
    x = numpy.array(pattern(3000), dtype=numpy.float32)
    with AudioEngine(device="offline", load_workers=1) as e:
        # Paused workers: both requests are queued; the second is cancelled
        # before it begins, the first goes on.
        e._pause_loads(True)
        r0 = e.load_sample_async(0, x, sample_rate=44100)
        r1 = e.load_sample_async(1, x, sample_rate=44100)
        assert e.cancel_load(r1) is True
        e._pause_loads(False)
        got = drain_until_ended(e, [r0, r1])
        assert isinstance(check_order(got[r0]), AudioMessage.LoadDone)
        end = check_order(got[r1])
        assert isinstance(end, AudioMessage.LoadFailed)
        assert type(end.error) is RuntimeError and str(end.error) == "cancelled"
        assert e.sample_info(1) is None
        assert e.sample_info(0) is not None
        assert e.cancel_load(r1) is False  # ended
        with pytest.raises(ValueError, match="no such load request"):
            e.cancel_load(r1 + 100)


def test_twenty_requests_over_eight_pads_each_end_once():
    srcs = [numpy.array(pattern(1000 + 10 * i, 3 + i), dtype=numpy.float32) for i in range(20)]
    with AudioEngine(device="offline", load_workers=2) as e:
        rs = [e.load_sample_async(i % 8, s, sample_rate=RATE_HZ) for i, s in enumerate(srcs)]
        assert len(set(rs)) == 20
        got = drain_until_ended(e, rs)
        last = {}
        for i, r in enumerate(rs):
            end = check_order(got[r])
            assert end.id == i % 8
            last[i % 8] = (r, end, i)
        for pad, (r, end, i) in last.items():
            assert isinstance(end, AudioMessage.LoadDone)
            assert e.sample_info(pad).n_frames == 1000 + 10 * i


def test_calls_answered_while_a_big_load_decodes():
    big = numpy.array(pattern(2_000_000, 19), dtype=numpy.float32)
    with AudioEngine(device="offline", load_workers=1) as e:
        r = e.load_sample_async(0, big, sample_rate=44100)
        # The call returned with the request queued; commands and renders go on.
        e.ping()
        e.render(256)
        others = []
        msgs = drain_until_ended(e, [r], others=others)[r]
        assert any(isinstance(m, AudioMessage.Pong) for m in others)
        assert isinstance(check_order(msgs), AudioMessage.LoadDone)


def test_unreceived_requests_bounded_then_queue_full():
    # 256 requests whose last message has not been received are held; one more
    # raises QueueFullError and changes nothing (its pad keeps what it has).
    x = numpy.array(pattern(500, 29), dtype=numpy.float32)
    with AudioEngine(device="offline", load_workers=2) as e:
        e.load_sample_array(9, x, RATE_HZ)
        rs = [e.load_sample_async(i % 8, x, sample_rate=RATE_HZ) for i in range(256)]
        with pytest.raises(QueueFullError, match="load request buffer is full"):
            e.load_sample_async(9, numpy.zeros(10, dtype=numpy.float32), sample_rate=RATE_HZ)
        got = drain_until_ended(e, rs)
        assert all(isinstance(check_order(got[r]), ENDS) for r in rs)
        assert e.sample_info(9).n_frames == 500  # not superseded by the refused request
        r = e.load_sample_async(9, x, sample_rate=RATE_HZ)  # room again
        assert r == rs[-1] + 1
        assert isinstance(check_order(drain_until_ended(e, [r])[r]), AudioMessage.LoadDone)


def test_bad_arguments():
    with pytest.raises(ValueError, match="load_workers"):
        AudioEngine(device="offline", load_workers=0)
    with pytest.raises(ValueError, match="load_workers"):
        AudioEngine(device="offline", load_workers=17)
    with pytest.raises(TypeError):
        AudioEngine(device="offline", load_workers=1.5)
    e = AudioEngine(device="offline")
    with pytest.raises(NotRunningError):
        e.load_sample_async(0, "x.wav")
    with e:
        with pytest.raises(ValueError):
            e.load_sample_async(-1, "x.wav")
        with pytest.raises(TypeError):
            e.load_sample_async(0, 12)
        with pytest.raises(ValueError, match="needs sample_rate"):
            e.load_sample_async(0, numpy.zeros(10, dtype=numpy.float32))
        with pytest.raises(ValueError, match="sample_rate out of range"):
            e.load_sample_async(0, numpy.zeros(10, dtype=numpy.float32), sample_rate=1)
        with pytest.raises(ValueError, match="NaN"):
            e.load_sample_async(0, numpy.array([0, numpy.nan], dtype=numpy.float32),
                                sample_rate=RATE_HZ)
        with pytest.raises(ValueError, match="dtype|float32|int16"):
            e.load_sample_async(0, numpy.zeros(10, dtype=numpy.float64), sample_rate=RATE_HZ)
        with pytest.raises(TypeError):
            e.cancel_load("1")
        assert e.receive_msg() is None  # nothing was queued
        with pytest.raises(TypeError, match="keyword-only"):
            e.load_sample_async(0, numpy.zeros(10, dtype=numpy.float32), RATE_HZ)


def test_shut_down_drops_pending_requests_and_run_continues_ids():
    big = numpy.array(pattern(400000, 23), dtype=numpy.float32)
    e = AudioEngine(device="offline", load_workers=1)
    with e:
        rs = [e.load_sample_async(i, big, sample_rate=44100) for i in range(3)]
    # shut_down joined the workers; nothing was left running nor published later.
    assert not e.running
    with e:
        assert all(e.sample_info(i) is None for i in range(3))
        r = e.load_sample_async(0, numpy.zeros(100, dtype=numpy.float32), sample_rate=RATE_HZ)
        assert r > max(rs)
        assert e.cancel_load(rs[0]) is False
        end = check_order(drain_until_ended(e, [r])[r])
        assert isinstance(end, AudioMessage.LoadDone)
