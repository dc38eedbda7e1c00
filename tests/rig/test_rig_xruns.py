# SPDX-License-Identifier: MIT
"""The rig's account of server xruns and the rule built on it.

rig.py copies jackd's log and stamps each xrun line with the CLOCK_MONOTONIC
time it arrived (FLZ_RIG_SERVER_XRUNS); rerun_while_server_late() measures
again only when a check made with Attempt.expect() failed while the server
was late in the check's window. Here: the kinds jackd's lines are sorted
into, the rule on made-up xruns (a failure with the server on time fails at
once, a plain assert is never excused, a pass is returned, a server late in
every attempt ends in skip naming the counts), and a real server stopped for
30 ms three times logging timer xruns inside the window of the stops.
"""

import os
import shutil
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402

S = 1000 * 1000 * 1000


def test_kinds_of_jackd_lines():
    kind = rig._server_xrun_kind
    assert kind("JackTimedDriver::Process XRun = 124 usec", ("rec",)) == "timer"
    assert kind("JackEngine::XRun: client = rec was not finished, state = Triggered",
                ("rec",)) == "recorder"
    assert kind("JackEngine::XRun: client rec finished after current callback",
                ("rec",)) == "recorder"
    assert kind("JackEngine::XRun: client = alsa-jack.jackP.123.0 was not finished, "
                "state = Running", ("rec",)) == "client"
    # Without a recorder, a client named rec is not the rig's.
    assert kind("JackEngine::XRun: client = rec was not finished, state = Triggered",
                ()) == "client"
    assert kind("JACK server starting in realtime mode with priority 80", ("rec",)) is None


def test_server_late_matches_window_and_kind(tmp_path):
    path = tmp_path / "xruns.txt"
    path.write_text("%d timer JackTimedDriver::Process XRun = 90 usec\n"
                    "%d client JackEngine::XRun: client = x was not finished\n"
                    "%d recorder JackEngine::XRun: client = rec was not finished\n"
                    "garbage line\n" % (10 * S, 20 * S, 30 * S))
    entries = rig.read_server_xruns(str(path))
    assert [e[1] for e in entries] == ["timer", "client", "recorder"]
    assert [e[0] for e in rig.server_late(9 * S, 11 * S, entries)] == [10 * S]
    # A client's own lateness excuses nothing.
    assert rig.server_late(19 * S, 21 * S, entries) == []
    # The margin (0.1 s) on both sides, and not beyond it.
    assert len(rig.server_late(10 * S + rig.WINDOW_MARGIN_NS,
                               30 * S - rig.WINDOW_MARGIN_NS, entries)) == 2
    assert rig.server_late(10 * S + rig.WINDOW_MARGIN_NS + 1,
                           30 * S - rig.WINDOW_MARGIN_NS - 1, entries) == []
    assert rig.read_server_xruns(str(tmp_path / "missing.txt")) == []


class Skipped(Exception):
    pass


def skip(reason):
    raise Skipped(reason)


LATE = [(5 * S, "timer", "JackTimedDriver::Process XRun = 21431 usec"),
        (6 * S, "timer", "JackTimedDriver::Process XRun = 87 usec")]


def run(measure, entries, log):
    return rig.rerun_while_server_late(measure, skip, source=lambda: entries, log=log)


def test_rule_on_made_up_xruns(capsys):
    calls = []

    def failing(attempt):
        calls.append(attempt.number)
        attempt.window(4 * S, 7 * S)
        attempt.expect(False, "the engine reported xruns")

    # The server late in the window of every attempt: three attempts, then a
    # skip that names the server's xruns of each.
    with pytest.raises(Skipped) as skipped:
        run(failing, LATE, sys.stderr)
    assert calls == [1, 2, 3]
    assert "each of 3 attempts (2, 2, 2 server xruns)" in str(skipped.value)
    assert "the engine reported xruns" in str(skipped.value)
    assert "JackTimedDriver::Process XRun = 21431 usec" in str(skipped.value)
    assert capsys.readouterr().err.count("inconclusive") == 3

    # The same failure while the server was on time in the window: fails at once.
    calls.clear()
    with pytest.raises(AssertionError, match="the engine reported xruns.*on time"):
        run(failing, [(9 * S, "timer", "late, but after the window")], sys.stderr)
    assert calls == [1]

    # A check made with a plain assert is never excused, late server or not.
    calls.clear()

    def content_wrong(attempt):
        calls.append(attempt.number)
        attempt.window(4 * S, 7 * S)
        assert 1 == 2, "content differs"

    with pytest.raises(AssertionError, match="content differs"):
        run(content_wrong, LATE, sys.stderr)
    assert calls == [1]

    # Passing in the second attempt returns its result: a pass is a pass.
    def second_time_lucky(attempt):
        attempt.window(4 * S, 7 * S)
        attempt.expect(attempt.number == 2, "late")
        return "measured"

    assert run(second_time_lucky, LATE, sys.stderr) == "measured"

    # A passing check is not affected by server xruns at all.
    def passes(attempt):
        attempt.window(4 * S, 7 * S)
        attempt.expect(True, "never")
        return attempt.number

    assert run(passes, LATE, sys.stderr) == 1


@pytest.mark.skipif(not (shutil.which("jackd") and shutil.which("jack_wait")),
                    reason="no jackd (install jackd2 and libasound2-plugins)")
def test_stopped_server_logs_timer_xruns_in_the_window():
    with rig.Rig(export_env=False) as r:
        assert r.env["FLZ_RIG_SERVER_XRUNS"] == r.server_xruns_path
        time.sleep(0.3)
        t0 = time.monotonic_ns()
        for _ in range(3):
            os.kill(r._jackd.pid, signal.SIGSTOP)
            time.sleep(0.03)
            os.kill(r._jackd.pid, signal.SIGCONT)
            time.sleep(0.2)
        t1 = time.monotonic_ns()
        late = rig.server_late(t0, t1, r.server_xruns(), margin_ns=0)
    assert len(late) >= 3, r.server_xruns()
    assert all(e[1] == "timer" and "XRun" in e[2] for e in late), late
    # Kept after stop(), which removed the file with the rig's temp dir.
    assert not os.path.exists(r.server_xruns_path)
    assert len(r.server_xruns()) >= len(late)
