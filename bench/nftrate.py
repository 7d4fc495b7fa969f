#!/usr/bin/env python3
"""Samples an nftables counter (in the namespace it runs in) until SIGTERM, then
prints JSON: packets counted, seconds during which the count grew, mean and best
1-second rate.

    nftrate.py FAMILY TABLE COMMENT [--interval 0.1]
"""
import argparse
import json
import signal
import subprocess
import sys
import time


def read(family, table, comment):
    out = subprocess.run(["nft", "-j", "list", "table", family, table],
                         capture_output=True, text=True, check=True).stdout
    for o in json.loads(out)["nftables"]:
        r = o.get("rule")
        if r and r.get("comment") == comment:
            for e in r["expr"]:
                if "counter" in e:
                    return e["counter"]["packets"]
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("family")
    ap.add_argument("table")
    ap.add_argument("comment")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    samples = [(time.monotonic(), read(a.family, a.table, a.comment))]
    end = samples[0][0] + a.max_seconds
    while not stop and time.monotonic() < end:
        time.sleep(a.interval)
        samples.append((time.monotonic(), read(a.family, a.table, a.comment)))
    t0, c0 = samples[0]
    grew = [i for i in range(1, len(samples)) if samples[i][1] > samples[i - 1][1]]
    res = {"packets": samples[-1][1] - c0, "active_s": 0.0, "mean_pps": 0, "peak_pps": 0}
    if grew:
        first, last = grew[0] - 1, grew[-1]
        active = samples[last][0] - samples[first][0]
        res["active_s"] = round(active, 2)
        res["mean_pps"] = int((samples[last][1] - samples[first][1]) / active) if active > 0 else 0
        best = 0.0
        j = 0
        for i in range(len(samples)):
            while samples[i][0] - samples[j][0] > 1.0:
                j += 1
            # the window ending at i that spans at least 1 s
            k = j - 1 if j > 0 else None
            if k is not None and samples[i][0] - samples[k][0] >= 1.0:
                rate = (samples[i][1] - samples[k][1]) / (samples[i][0] - samples[k][0])
                best = max(best, rate)
        if best == 0.0 and active > 0:
            best = res["mean_pps"]
        res["peak_pps"] = int(best)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
