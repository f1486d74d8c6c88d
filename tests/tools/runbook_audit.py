#!/usr/bin/env python3
"""runbook_audit.py [--tiup PROG]... RUNBOOK.md AUDIT.log: every command the install ran (the
audit log's "command" events) must be one the runbook lists. A runbook command is a template: a
word in angle brackets (<staging>, <state>, <pd-but-leader>, <unit>) stands for one word of the
real command, $TIUP_HOME for TiUP's home folder (a path without spaces), and the program is compared by its last path component (tiup may be called by its
full path). --tiup names a program the install was told to run instead of tiup (install --tiup). Prints each audit command with the runbook line it matched; exits 1 naming
every command the runbook does not list, or when the audit log holds no command at all."""
import json
import os
import re
import sys


def runbook_commands(path):
    cmds, inside = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("```"):
                inside = line.strip() == "```sh" if not inside else False
                continue
            if inside and line.strip():
                cmds.append(line)
    return cmds


def pattern(template, tiups):
    words = template.split(" ")
    out = []
    for i, w in enumerate(words):
        if i == 0:
            names = [w] + (tiups if w == "tiup" else [])
            out.append(r"(?:\S*/)?(?:" + "|".join(re.escape(os.path.basename(n)) for n in names) + ")")
            continue
        # a placeholder is one word, possibly inside a longer one (<staging>/mirror,
        # $TIUP_HOME/components/...)
        parts = re.split(r"(<[a-z][a-z-]*>|\$TIUP_HOME)", w)
        out.append("".join(r"\S+" if re.fullmatch(r"<[a-z][a-z-]*>|\$TIUP_HOME", p) else re.escape(p)
                           for p in parts))
    return re.compile(" ".join(out) + "$")


def main():
    args, tiups = sys.argv[1:], []
    while len(args) > 2 and args[0] == "--tiup":
        tiups.append(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.exit("usage: runbook_audit.py [--tiup PROG]... RUNBOOK.md AUDIT.log")
    templates = runbook_commands(args[0])
    pats = [(t, pattern(t, tiups)) for t in templates]
    ran, missing = 0, []
    with open(args[1], encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e.get("event") != "command":
                continue
            ran += 1
            cmd = e["command"]
            hit = next((t for t, p in pats if p.match(cmd)), None)
            if hit is None:
                missing.append(f'{e.get("step")} on {e.get("host")}: {cmd}')
            else:
                print(f"ok  {cmd}  <-  {hit}")
    print(f"{len(templates)} runbook commands; {ran} commands run; {len(missing)} not in the runbook")
    for m in missing:
        print(f"NOT IN RUNBOOK  {m}", file=sys.stderr)
    if ran == 0 or missing:
        sys.exit(1)


main()
