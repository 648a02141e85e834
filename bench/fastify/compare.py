#!/usr/bin/env python3
"""The same list page from tradesphere and from the Fastify baseline, in one run.

usage: compare.py --ours http://127.0.0.1:18080 --token JWT --fastify http://127.0.0.1:18181
                  [--limit 1000] [--rounds 60]

One keep-alive connection to each server; the requests alternate (ours, theirs,
ours, ...) so both see the same machine load; the first 5 of each are warm-up.
Checks that both pages list the same customer ids in the same order, then prints
p50/p95/mean per server and the ratio of the p50s. Python 3 standard library only.
"""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def connect(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def fetch(conn, path, headers):
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status}: {body[:200]!r}")
    return ms, body


def summary(ts):
    ts = sorted(ts)
    return {"p50": statistics.median(ts), "p95": ts[min(len(ts) - 1, int(len(ts) * 0.95))], "mean": statistics.fmean(ts)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--fastify", required=True)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=60)
    a = ap.parse_args()
    path = f"/v1/customers?limit={a.limit}"
    ours, theirs = connect(a.ours), connect(a.fastify)
    auth = {"Authorization": "Bearer " + a.token}
    t_ours, t_theirs = [], []
    sizes = {}
    for i in range(a.rounds + 5):
        m1, b1 = fetch(ours, path, auth)
        m2, b2 = fetch(theirs, path, {})
        if i == 0:
            ids1 = [c["id"] for c in json.loads(b1)["items"]]
            ids2 = [c["id"] for c in json.loads(b2)["items"]]
            if ids1 != ids2:
                raise SystemExit("the two servers list different pages")
            sizes = {"bytes_tradesphere": len(b1), "bytes_fastify": len(b2), "rows": len(ids1)}
        if i >= 5:
            t_ours.append(m1)
            t_theirs.append(m2)
    s1, s2 = summary(t_ours), summary(t_theirs)
    out = {"path": path, "rounds": a.rounds, **sizes, "tradesphere": s1, "fastify": s2,
           "fastify_p50_over_ours": s2["p50"] / s1["p50"]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
