#!/usr/bin/env bash
# Runs clang-tidy (with the build's compile database) and cppcheck over our sources.
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
echo "lint: clean"
