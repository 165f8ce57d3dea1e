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
# verify exits 1 (expat is contradicted): hyperfine must not treat that as a failure.
hyperfine --warmup 2 --runs 10 -i --export-markdown "$work/verify.md" \
  -n "relkit sbom verify (tree)" "$relkit sbom verify $sbom --against $tree -q" \
  -n "relkit sbom generate (tree)" "$relkit sbom generate $tree -o spdx-json=$work/gen.spdx.json -q"
hyperfine --warmup 1 --runs 5 -i \
  -n "relkit sbom verify (tar.xz)" "$relkit sbom verify $sbom --against $tarball -q" \
  -n "relkit sbom generate (tar.xz)" "$relkit sbom generate $tarball -o spdx-json=$work/gen2.spdx.json -q"
cat "$work/verify.md"
