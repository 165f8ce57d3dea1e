#!/usr/bin/env bash
# Benchmark of `relkit sbom verify` (issue 10): verify CPython 3.13.5's in-tree SBOM
# (Misc/sbom.spdx.json) against the unpacked official tarball, next to `relkit sbom generate`
# on the same tree (goal: verify <= 0.5x generate: it reads only the files the rules name,
# generate hashes every file). Also verify straight from the .tar.xz (one listing pass and one
# fetch pass through the archive).
# Usage: bench/verify.sh [CPython .tar.xz] (default: the Debian orig tarball of 3.13.5 in
#   target/relkit-data/ or /work/cache/py/). Needs hyperfine; builds relkit in release mode
#   unless RELKIT names a relkit binary.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=${1:-}
for cand in target/relkit-data/python3.13_3.13.5.orig.tar.xz /work/cache/py/python3.13_3.13.5.orig.tar.xz; do
  [ -n "$tarball" ] || { [ -f "$cand" ] && tarball=$cand; }
done
[ -f "$tarball" ] || { echo "no CPython tarball; run .ci/deps.d/15-upstream-data.sh or pass one" >&2; exit 2; }
tarball=$(realpath "$tarball")
command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install hyperfine)" >&2; exit 2; }
relkit=${RELKIT:-}
if [ -z "$relkit" ]; then
  cargo build --release -q -p relkit
  relkit=$PWD/target/release/relkit
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1749600000
tar -xJf "$tarball" -C "$work"
tree=$(echo "$work"/Python-*)
sbom=$tree/Misc/sbom.spdx.json
echo "== $(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1)"
# Exit codes are checked, never ignored: verify must exit exactly 1 (CPython 3.13.5's SBOM
# declares expat 2.6.3, the header says 2.7.1), so it runs through a shell that turns 1 into
# success and anything else (a crash, 2 for an input error) into a failure hyperfine stops on;
# generate must exit 0. The outputs are checked once, untimed, before the timing.
for against in "$tree" "$tarball"; do
  out=$("$relkit" sbom verify "$sbom" --against "$against" -q) && code=0 || code=$?
  if [ "$code" != 1 ] || ! grep -q 'CONTRADICTED  expat declared 2.6.3, found 2.7.1' <<<"$out"; then
    echo "sbom verify against $against: exit $code, expected 1 with expat contradicted:" >&2
    echo "$out" >&2
    exit 1
  fi
done
"$relkit" sbom generate "$tree" -o spdx-json="$work/check.spdx.json" -q
grep -q '"SPDXRef-PACKAGE-expat"' "$work/check.spdx.json" || {
  echo "sbom generate wrote no expat package" >&2
  exit 1
}
verify() { echo "sh -c '$relkit sbom verify $sbom --against $1 -q >/dev/null; test \$? -eq 1'"; }
hyperfine --warmup 2 --runs 10 --export-markdown "$work/verify.md" \
  -n "relkit sbom verify (tree)" "$(verify "$tree")" \
  -n "relkit sbom generate (tree)" "$relkit sbom generate $tree -o spdx-json=$work/gen.spdx.json -q"
hyperfine --warmup 1 --runs 5 \
  -n "relkit sbom verify (tar.xz)" "$(verify "$tarball")" \
  -n "relkit sbom generate (tar.xz)" "$relkit sbom generate $tarball -o spdx-json=$work/gen2.spdx.json -q"
cat "$work/verify.md"
