#!/usr/bin/env bash
# Fails when a Dockerfile's FROM names an image by tag alone: every base image
# is pinned by a sha256 digest (a FROM that names an earlier stage is fine).
set -euo pipefail
cd "$(dirname "$0")/.."
found=0
while IFS= read -r f; do
	stages=" "
	while read -r kw image rest; do
		[ "${kw^^}" = FROM ] || continue
		# Skip flags such as --platform=...
		while [[ "$image" == --* ]]; do
			read -r image rest <<<"$rest"
		done
		if [[ "$stages" == *" $image "* ]]; then
			:
		elif [[ ! "$image" =~ @sha256:[0-9a-f]{64}$ ]]; then
			echo "$f: base image not pinned by digest: $image"
			found=1
		fi
		alias=$(sed -n 's/^[Aa][Ss] \([^ ]*\).*/\1/p' <<<"$rest")
		[ -n "$alias" ] && stages="$stages$alias "
	done <"$f"
done < <(git ls-files '*Dockerfile*')
exit "$found"
