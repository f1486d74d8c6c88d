#!/usr/bin/env python3
"""Checks the events of `tiferry install --json` (stdout, one JSON object per line).

usage: progress.py EVENTS [--ok] [--skipped STEP,...] [--hosts STEP=HOST,HOST...]...

Always: every line is one object with exactly the documented keys; "total" is the same in all;
each step index names one step; every step has either one "started" event and then one result
(ok or failed), or one "skipped" event alone; host events fall between their step's start and
result, and each host's last event is a result (not "running").
--ok: every step ended ok or skipped.
--skipped: exactly these steps were skipped.
--hosts STEP=H1,H2: the hosts reported in STEP are exactly these, each ending ok, warn or fixed.
Prints what is wrong on stderr and exits 1, or prints nothing and exits 0.
"""
import json
import sys

KEYS = {"time", "event", "step", "index", "total", "host", "state", "elapsed_s", "detail"}
RESULTS = {"ok", "failed"}
HOST_STATES = {"running", "ok", "warn", "fixed", "failed"}


def main(argv):
    path, args = argv[1], argv[2:]
    want_ok, want_skipped, want_hosts = False, None, {}
    while args:
        a = args.pop(0)
        if a == "--ok":
            want_ok = True
        elif a == "--skipped":
            want_skipped = set(s for s in args.pop(0).split(",") if s)
        elif a == "--hosts":
            step, hosts = args.pop(0).split("=", 1)
            want_hosts[step] = set(h for h in hosts.split(",") if h)
        else:
            sys.exit("progress.py: unknown argument " + a)
    bad = []
    events = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                e = json.loads(line)
            except ValueError:
                bad.append("line %d is not JSON: %r" % (n, line[:200]))
                continue
            if not isinstance(e, dict) or set(e) != KEYS:
                bad.append("line %d: keys %s" % (n, sorted(e) if isinstance(e, dict) else e))
                continue
            events.append(e)
    if not events:
        bad.append("no events")
    totals = {e["total"] for e in events}
    if len(totals) > 1:
        bad.append("totals differ: %s" % totals)
    names = {}
    for e in events:
        if names.setdefault(e["index"], e["step"]) != e["step"]:
            bad.append("index %d names %s and %s" % (e["index"], names[e["index"]], e["step"]))
    total = max(totals) if totals else 0
    if set(names) != set(range(1, total + 1)):
        bad.append("steps reported: %s of 1..%d" % (sorted(names), total))
    skipped, hosts_seen = set(), {}
    for i in range(1, total + 1):
        step = names.get(i)
        ev = [e for e in events if e["index"] == i]
        se = [e for e in ev if e["event"] == "step"]
        states = [e["state"] for e in se]
        if states == ["skipped"]:
            skipped.add(step)
            if any(e["event"] == "host" for e in ev):
                bad.append("%s: host events in a skipped step" % step)
            continue
        if len(states) != 2 or states[0] != "started" or states[1] not in RESULTS:
            bad.append("%s: step events %s, expected started then ok or failed" % (step, states))
            continue
        if want_ok and states[1] != "ok":
            bad.append("%s: %s: %s" % (step, states[1], se[1]["detail"]))
        start, end = events.index(se[0]), events.index(se[1])
        last = {}
        for e in ev:
            if e["event"] != "host":
                continue
            k = events.index(e)
            if not start < k < end:
                bad.append("%s: host event outside the step: %s" % (step, e))
            if e["state"] not in HOST_STATES:
                bad.append("%s: host state %s" % (step, e["state"]))
            last[e["host"]] = e
        for h, e in last.items():
            if e["state"] == "running":
                bad.append("%s: host %s left running" % (step, h))
        hosts_seen[step] = last
    if want_skipped is not None and skipped != want_skipped:
        bad.append("skipped %s, expected %s" % (sorted(skipped), sorted(want_skipped)))
    for step, hosts in want_hosts.items():
        last = hosts_seen.get(step, {})
        if set(last) != hosts:
            bad.append("%s: hosts %s, expected %s" % (step, sorted(last), sorted(hosts)))
        for h, e in last.items():
            if e["state"] not in ("ok", "warn", "fixed"):
                bad.append("%s: host %s ended %s: %s" % (step, h, e["state"], e["detail"]))
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
