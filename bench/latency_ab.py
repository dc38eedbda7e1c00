#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Trigger-to-sound latency of two builds of the engine, measured in alternation.

Runs bench/latency.py (of this tree) in rounds with two Python interpreters,
each a virtual environment with its own installed wheel: per round and
configuration one run of A and one of B, the order swapped every round
(A B, B A, A B, ...), so that the machine's load and the JACK dummy server's
own lateness fall on both alike. Each run is a fresh rig and engine with
--exclude-server-late: the triggers in whose window the server itself xrun'd
are left out and counted.

The table gives per configuration and build the pooled kept triggers'
median, p90, p99 and max, the excluded triggers, the server xruns during
the triggers (kinds timer and recorder: the ones that exclude), the client
xruns there (another JACK client late, the engine's own included: counted,
never excluded) and the engine's own xrun count; then
per percentile the difference B - A of the per-round values, paired round by
round (mean of the differences, with twice its standard error as the noise
band), and the spread (max - min) of that percentile between the rounds of
each build. Not part of CI: the figures depend on the machine.

    python3 bench/latency_ab.py --a-python /tmp/lat-old/.venv/bin/python --a-name old \\
        --b-python .venv/bin/python --b-name new --rounds 6 --triggers 200 \\
        --config 128x2@64 --config 64x2@64
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

QS = (("median", 0.5), ("p90", 0.9), ("p99", 0.99))


def percentile(sorted_values, q):
    """Nearest-rank percentile, as latency.py computes it."""
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(math.ceil(q * len(sorted_values))) - 1))
    return sorted_values[k]


def mean_sd(xs):
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))


def run_one(python, config, args, out):
    cmd = [python, os.path.join(HERE, "latency.py"), "--config", config,
           "--triggers", str(args.triggers), "--xrun-seconds", "0", "--exclude-server-late",
           "--json", out]
    if args.recorder:
        cmd += ["--recorder", args.recorder]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("latency.py failed with %s (%d)" % (python, proc.returncode))
    with open(out) as f:
        return json.load(f)[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a-python", required=True, help="interpreter of build A (its venv's python)")
    p.add_argument("--b-python", required=True, help="interpreter of build B")
    p.add_argument("--a-name", default="A")
    p.add_argument("--b-name", default="B")
    p.add_argument("--config", action="append", metavar="PxN@J",
                   help="as latency.py's (repeatable; default 128x2@64 and 64x2@64)")
    p.add_argument("--rounds", type=int, default=3, help="runs of each build per configuration")
    p.add_argument("--triggers", type=int, default=200, help="triggers per run")
    p.add_argument("--recorder", help="path of flz-jack-rec (else latency.py looks for it)")
    p.add_argument("--json", metavar="FILE", help="also write every run's result here")
    args = p.parse_args()
    configs = args.config or ["128x2@64", "64x2@64"]
    builds = ((args.a_name, args.a_python), (args.b_name, args.b_python))
    runs = {(c, name): [] for c in configs for name, _ in builds}
    with tempfile.TemporaryDirectory(prefix="flz-latency-ab-") as tmp:
        for r in range(args.rounds):
            order = builds if r % 2 == 0 else builds[::-1]
            for c in configs:
                for name, python in order:
                    res = run_one(python, c, args, os.path.join(tmp, "run.json"))
                    res["loadavg_1min"] = os.getloadavg()[0]
                    runs[(c, name)].append(res)
                    print("round %d %s %s: n %d excluded %d median %.2f p99 %.2f max %.2f "
                          "server xruns %d %s, load average %.1f"
                          % (r + 1, c, name, res["n"], res["excluded"], res["median"],
                             res["p99"], res["worst"], res["server_late_xruns"],
                             res.get("server_xrun_kinds", {}), res["loadavg_1min"]),
                          file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"%s %s" % k: v for k, v in runs.items()}, f)

    head = ("config", "engine", "rounds", "triggers kept", "excluded", "missed", "median ms",
            "p90 ms", "p99 ms", "max ms", "server xruns", "client xruns", "engine xruns")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for c in configs:
        for name, _ in builds:
            rs = runs[(c, name)]
            pooled = sorted(x for res in rs for x in res["lat_ms"])
            row = (rs[0]["config"], name, str(len(rs)), str(len(pooled)),
                   str(sum(res["excluded"] for res in rs)), str(sum(res["missed"] for res in rs)),
                   "%.2f" % percentile(pooled, 0.5), "%.2f" % percentile(pooled, 0.9),
                   "%.2f" % percentile(pooled, 0.99), "%.2f" % (pooled[-1] if pooled else math.nan),
                   str(sum(res["server_late_xruns"] for res in rs)),
                   str(sum(res.get("client_xruns", 0) for res in rs)),
                   str(sum(res["xruns_trigger"] for res in rs)))
            print("| " + " | ".join(row) + " |")
    print()
    a, b = args.a_name, args.b_name
    head = ("config", "percentile", "%s - %s ms (mean of paired rounds)" % (b, a),
            "noise: 2 x std. error ms", "%s between rounds ms" % a, "%s between rounds ms" % b,
            "within noise")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for c in configs:
        ra, rb = runs[(c, a)], runs[(c, b)]
        for label, q in QS + (("max", 1.0),):
            va = [percentile(res["lat_ms"], q) for res in ra]
            vb = [percentile(res["lat_ms"], q) for res in rb]
            d_mean, d_sd = mean_sd([y - x for x, y in zip(va, vb)])
            noise = 2 * d_sd / math.sqrt(len(va)) if len(va) > 1 else float("nan")
            row = (ra[0]["config"], label, "%+.3f" % d_mean, "%.3f" % noise,
                   "%.2f" % (max(va) - min(va)), "%.2f" % (max(vb) - min(vb)),
                   "yes" if abs(d_mean) <= noise else "no")
            print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
