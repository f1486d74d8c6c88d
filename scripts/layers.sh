#!/usr/bin/env bash
# Checks that no library includes a header from a folder above it (docs/architecture.md):
# programs (builder/, installer/) -> cluster/, mirror/ -> manifests/ -> crypto/ -> common/.
# cluster/ and mirror/ sit side by side and do not include each other; the two programs do not
# include each other. Prints every offending #include and exits 1; exits 0 when the layers hold.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
	[common]="common"
	[crypto]="common crypto"
	[manifests]="common crypto manifests"
	[mirror]="common crypto manifests mirror"
	[cluster]="common crypto manifests cluster"
	[builder]="common crypto manifests mirror cluster builder"
	[installer]="common crypto manifests mirror cluster installer"
)
bad=0
for dir in "${!allowed[@]}"; do
	for f in "$dir"/*.[ch]; do
		[[ -e $f ]] || continue
		while IFS= read -r inc; do
			top=${inc%%/*}
			if [[ " ${allowed[$dir]} " != *" $top "* ]]; then
				echo "layers: $f includes \"$inc\" ($dir/ may include only: ${allowed[$dir]})"
				bad=1
			fi
		done < <(sed -n 's/^#include "\([a-z]*\/[^"]*\)".*/\1/p' "$f")
	done
done
[[ $bad == 0 ]] && echo "layers: every include points down"
exit "$bad"
