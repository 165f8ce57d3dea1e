#!/usr/bin/env bash
# Benchmark for relkit health (issue 19), three parts:
#  1. the Debian graph of each full index (bullseye, bookworm, trixie): an SBOM run with one
#     --debian-packages and no repositories is parsing, SCC condensation and the transitive
#     counts; wall time and peak RSS (GNU time). Goal: < 3 s and < 500 MB per index.
#  2. per repository of ../shared/data/git: relkit's history pass (an SBOM naming only that
#     project, no Debian index, the bundle already unpacked in the cache) vs
#     `git log --branches --tags --no-merges --no-renames --name-status` on the same unpacked
#     repository (the floor for reading the same history). Goal: relkit <= 1.5x git log.
#  3. the whole report: CPython 3.13.5's externals and sbom SBOMs with the shared repositories
#     and the three indexes. Goal: < 10 s.
# Usage: bench/health.sh   (needs hyperfine, git, GNU time; RELKIT_BIN to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --profile ci -q -p relkit
  relkit=$PWD/target/ci/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
data=$(realpath ../shared/data)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=$work/cache
runs=${RUNS:-5}
sbom=$data/cpython/v3.13.5/externals.spdx.json

echo "== 1. Debian graph per full index"
for suite in bullseye bookworm trixie; do
  idx=$data/debian/${suite}_main_binary-amd64_Packages.xz
  /usr/bin/time -f "$suite: %e s wall, %M KB peak RSS" \
    "$relkit" health "$sbom" --debian-packages "$idx" -q --format json -o "$work/$suite.json" || true
done

echo "== 2. history pass vs git log"
one_sbom() {
  cat > "$work/$1.spdx.json" <<JSON
{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"$1",
 "documentNamespace":"https://example.org/$1","creationInfo":{"created":"2025-01-01T00:00:00Z","creators":["Tool: bench"]},
 "packages":[{"SPDXID":"SPDXRef-$1","name":"$1","downloadLocation":"NOASSERTION"}]}
JSON
}
for name in xz zlib libffi bzip2 libb2; do
  one_sbom "$name"
  # Unpack the bundle once (cached), then find the unpacked repository for git.
  "$relkit" health "$work/$name.spdx.json" --repos "$data/git" --cache "$cache" -q -o /dev/null || true
  repo=$(ls -dt "$cache"/bundle-* | head -1)
  commits=$(git -C "$repo" rev-list --branches --tags --count)
  echo "-- $name: $commits commits"
  hyperfine -N -w 1 -r "$runs" --export-json "$work/$name-h.json" \
    -n "relkit history ($name)" "$relkit health $work/$name.spdx.json --repos $data/git --cache $cache -q -o /dev/null" \
    -n "git log ($name)" "git -C $repo log --branches --tags --no-merges --no-renames --name-status --format=%H%x00%an%x00%ae%x00%ct" \
    -i 2>&1 | grep -E "Time|±|faster|slower" || true
done

echo "== 3. whole report, CPython SBOMs, three indexes"
debs=()
for suite in bullseye bookworm trixie; do
  debs+=(--debian-packages "$data/debian/${suite}_main_binary-amd64_Packages.xz")
done
for s in externals sbom; do
  /usr/bin/time -f "$s.spdx.json: %e s wall, %M KB peak RSS" \
    "$relkit" health "$data/cpython/v3.13.5/$s.spdx.json" --repos "$data/git" "${debs[@]}" \
      --cache "$cache" -q --format json -o "$work/$s.json" || true
  /usr/bin/time -f "$s.spdx.json --timeline --format html: %e s wall, %M KB peak RSS" \
    "$relkit" health "$data/cpython/v3.13.5/$s.spdx.json" --repos "$data/git" "${debs[@]}" \
      --cache "$cache" -q --timeline --format html -o "$work/$s.html" || true
done
