#!/usr/bin/env bash
# Fails when git tracks a compiled executable (ELF, Mach-O or PE): build
# outputs belong in bin/ or nowhere, never in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
found=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue
	magic=$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')
	case "$magic" in
	7f454c46 | cffaedfe | cefaedfe | feedfacf | feedface | 4d5a*)
		echo "tracked binary: $f"
		found=1
		;;
	esac
done < <(git ls-files -z)
exit "$found"
