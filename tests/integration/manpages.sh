#!/usr/bin/env bash
# The man pages (docs/man/*.1): they render without a warning, `cmake --install` puts them in
# share/man/man1, and they say what the programs say. For each program, the subcommands of
# `PROG --help` are the man page's COMMANDS subsections; for each subcommand, the options in
# `PROG SUB --help` (its usage lines and its option table) are the options of the .TP tags in
# that subsection, both ways; and each usage form of --help is a SYNOPSIS
# form of the page, word for word (whitespace aside). A mismatch names the program, the
# subcommand and the option or form.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init manpages

MANDIR=$TF_SRC/docs/man
SECTIONS=(NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO")
export LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat
unset MAN_KEEP_FORMATTING

# render PAGE WIDTH: the page as man(1) shows it, plain text (man-db strips the overstrikes
# when its output is not a terminal).
render() {
	MANWIDTH=$2 man -l "$1"
}

# ---- each page renders, with every section, and no formatter warns ----
for page in tiferry tiferry-build; do
	f=$MANDIR/$page.1
	if ! expect_exit 0 render "$f" 80; then
		fail "$page.1: man -l exits $TF_RC: ${TF_ERR:0:600}"
		continue
	fi
	assert_eq "$page.1: man -l prints no warning" "$TF_ERR" ""
	assert_true "$page.1: renders non-empty" test -s "$TF_TMP/last.out"
	for s in "${SECTIONS[@]}"; do
		assert_true "$page.1: section '$s'" grep -qx "$s" "$TF_TMP/last.out"
	done
	wide=$(python3 -c 'import sys
for n, l in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if len(l.rstrip("\n")) > 80: print("line %d: %s" % (n, l.strip()))' "$TF_TMP/last.out")
	assert_eq "$page.1: no rendered line wider than 80 columns" "$wide" ""
	expect_exit 0 groff -man -Tutf8 -ww -z "$f" || true
	assert_eq "$page.1: groff -ww exit status" "$TF_RC" 0
	assert_eq "$page.1: groff -ww warnings" "$TF_ERR" ""
	if command -v mandoc >/dev/null 2>&1; then
		expect_exit 0 mandoc -Tlint -W warning "$f" || true
		assert_eq "$page.1: mandoc -Tlint warnings" "$TF_OUT$TF_ERR" ""
	else
		echo "manpages: mandoc not installed, lint skipped (scripts/deps.sh installs it)" >&2
	fi
done

# ---- make install puts them in share/man/man1, where man finds them ----
prefix=$TF_TMP/prefix
if expect_exit 0 cmake --install "$TF_BUILD" --prefix "$prefix"; then
	for page in tiferry tiferry-build; do
		assert_true "installed: share/man/man1/$page.1 is the source page" \
			cmp "$MANDIR/$page.1" "$prefix/share/man/man1/$page.1"
		assert_eq "installed: man -M finds $page(1)" \
			"$(man -M "$prefix/share/man" -w "$page" 2>&1)" "$prefix/share/man/man1/$page.1"
	done
else
	fail "cmake --install '$TF_BUILD' --prefix '$prefix' exits $TF_RC: ${TF_ERR:0:600}"
fi

# ---- the pages against --help ----
# compare PROG BINARY PAGE: one "pass<TAB>what" or "fail<TAB>what" line per comparison.
compare() {
	local synopsis
	synopsis=$TF_TMP/$1.synopsis
	render "$3" 1000 >"$synopsis"
	python3 - "$1" "$2" "$3" "$synopsis" <<'EOF'
import re, subprocess, sys

prog, binary, page, rendered = sys.argv[1:]
OPT = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?![\w-])")
# what groff may print for an ASCII hyphen or quote in a UTF-8 locale
TRANS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2019": "'", "\u2018": "'"})

def say(ok, what):
    print(("pass" if ok else "fail") + "\t" + what.replace("\n", " "))

def norm(s):
    return " ".join(s.translate(TRANS).split())

def opts(text):
    return set(OPT.findall(text))

def run_help(args):
    p = subprocess.run([binary] + args + ["--help"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr

def parse_help(text):
    """(usage forms, option set): the forms are the lines from 'usage:' to the first blank
    line, a new one at each line starting with the program's name; the options are those of
    the forms and of the option table's terms (an indented line starting with '-', up to the
    first run of two spaces)."""
    lines = text.splitlines()
    forms, i = [], 0
    while i < len(lines) and not lines[i].startswith("usage: "):
        i += 1
    if i == len(lines):
        return None, set()
    forms.append(lines[i][len("usage: "):])
    i += 1
    while i < len(lines) and lines[i].strip():
        if lines[i].strip().startswith(prog + " "):
            forms.append(lines[i])
        else:
            forms[-1] += " " + lines[i]
        i += 1
    found = set()
    for f in forms:
        found |= opts(f)
    for l in lines[i:]:
        if re.match(r"^\s{2,}-", l):
            found |= opts(re.split(r"\s{2,}", l.strip())[0])
    return [norm(f) for f in forms], found

def unroff(s):
    s = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", s)
    s = s.replace("\\-", "-").replace("\\&", "").replace('"', "")
    return s

# The page's source: COMMANDS subsections (.SS "PROG SUB") and their .TP tags.
src = open(page, encoding="utf-8").read().splitlines()
sections, cur, in_commands = {}, None, False
for n, l in enumerate(src):
    if l.startswith(".SH "):
        in_commands = l[4:].strip().strip('"') == "COMMANDS"
        cur = None
    elif l.startswith(".SS ") and in_commands:
        title = unroff(l[4:]).strip().split()
        if len(title) != 2 or title[0] != prog:
            say(False, "%s: subsection '%s' is not titled '%s SUBCOMMAND'" % (page, l, prog))
            continue
        cur = title[1]
        sections[cur] = []
    elif l == ".TP" and cur is not None and n + 1 < len(src):
        tag = unroff(src[n + 1].split(None, 1)[1] if " " in src[n + 1] else "")
        sections[cur].append(tag)

# The rendered SYNOPSIS, one form per line (rendered wide enough never to wrap).
syn, on = [], False
for l in open(rendered, encoding="utf-8").read().splitlines():
    if re.match(r"^\S", l):
        on = l.strip() == "SYNOPSIS"
        continue
    if on and l.strip():
        syn.append(norm(l))

rc, out, err = run_help([])
say(rc == 0, "%s --help exits 0 (exit %d)" % (prog, rc))
top = [m.group(1) for m in re.finditer(r"^  (\S+)\s{2,}", out.split("\ncommands:\n", 1)[-1], re.M)]
gforms, _ = parse_help(out)
subs = set(top) | set(sections)
man_forms = {}
for f in syn:
    w = f.split()
    if w[0] != prog:
        say(False, "%s: SYNOPSIS form '%s' does not start with '%s'" % (page, f, prog))
        continue
    key = w[1] if len(w) > 1 and w[1] in subs else ""
    man_forms.setdefault(key, []).append(f)
say(gforms == man_forms.get(""), "%s: SYNOPSIS '%s' is the usage of '%s --help' ('%s')"
    % (page, man_forms.get(""), prog, gforms))

for s in sorted(subs):
    who = "%s %s" % (prog, s)
    if s not in top:
        say(False, "%s: subcommand '%s' is in the man page but not in '%s --help'" % (who, s, prog))
    if s not in sections:
        say(False, "%s: subcommand '%s' of '%s --help' has no subsection in %s" % (who, s, prog, page))
    # Every option --help shows must be described (a .TP tag), not only in the SYNOPSIS.
    man_opts = set()
    for tag in sections.get(s, []):
        found = opts(tag)
        if not found:
            say(False, "%s: the man page's .TP tag '%s' names no option" % (who, tag))
        man_opts |= found
    if s not in top:
        continue
    rc, out, err = run_help([s])
    say(rc == 0 and err == "", "%s --help exits 0 and prints to stdout only (exit %d, stderr %r)"
        % (who, rc, err[:200]))
    forms, help_opts = parse_help(out)
    if forms is None:
        say(False, "%s --help has no 'usage:' line" % who)
        continue
    for o in sorted(help_opts - man_opts):
        say(False, "%s: option '%s' is in --help but not in the man page" % (who, o))
    for o in sorted(man_opts - help_opts):
        say(False, "%s: option '%s' is in the man page but not in --help" % (who, o))
    if help_opts == man_opts:
        say(True, "%s: the same %d options in --help and the man page" % (who, len(help_opts)))
    mf = man_forms.get(s, [])
    for f in forms:
        if f not in mf:
            say(False, "%s: usage form of --help not in the man page's SYNOPSIS: '%s'" % (who, f))
    for f in mf:
        if f not in forms:
            say(False, "%s: SYNOPSIS form not in --help's usage: '%s'" % (who, f))
    if forms == mf:
        say(True, "%s: SYNOPSIS is --help's usage" % who)
EOF
}

for p in tiferry:"$TIFERRY" tiferry-build:"$TIFERRY_BUILD"; do
	name=${p%%:*}
	while IFS=$'\t' read -r verdict what; do
		if [[ $verdict == pass ]]; then
			pass "$what"
		else
			fail "$what"
		fi
	done < <(compare "$name" "${p#*:}" "$MANDIR/$name.1" || echo "fail	$name: the comparison itself failed")
done

tf_finish
