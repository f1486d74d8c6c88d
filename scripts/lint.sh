#!/usr/bin/env bash
# Runs clang-tidy (with the build's compile database) and cppcheck over our sources, then checks
# the clang-format style, the layers (scripts/layers.sh) and that a file past 1,000 lines says
# why it is one file.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
srcs=$(git ls-files '*.c' 2>/dev/null | grep -v '^tests/' || find common manifests mirror builder installer -name '*.c')
echo "lint: clang-tidy"
# shellcheck disable=SC2086
clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option $srcs 2>/dev/null
echo "lint: cppcheck"
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem -I . --std=c11 -D_GNU_SOURCE $srcs
echo "lint: clang-format"
# The checked-in .clang-format is the style; a file that differs fails (fix: clang-format -i).
# shellcheck disable=SC2046
clang-format --dry-run --Werror $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')
echo "lint: layers"
scripts/layers.sh
echo "lint: file length"
# A file past 1,000 lines says near its top why it is one file (STYLE.md, "Layout").
long=0
while IFS= read -r f; do
	if (($(wc -l <"$f") > 1000)) && ! head -n 15 "$f" | grep -qi 'one file'; then
		echo "lint: $f has $(wc -l <"$f") lines and does not say at its top why it is one file"
		long=1
	fi
done < <(git ls-files '*.c' '*.h' '*.sh' '*.py' 'tests/lab/*' 2>/dev/null)
((long == 0))
echo "lint: clean"
