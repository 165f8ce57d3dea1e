#!/usr/bin/env bash
# Benchmark: `relkit db import` throughput and `relkit scan` latency / memory.
#
# 1. Imports all real OSV data in ../shared/data/osv (PyPA YAML, Go JSON, RustSec markdown; about
#    8.2k records) plus generated NVD-like CVE API 2.0 pages (made-up CVE-2099-* ids, one
#    configuration each over 5,000 vendor:product pairs) up to >= 100,000 records; reports
#    records/s.
# 2. Scans generated SPDX SBOMs of 10, 1,000 and 10,000 components (real PyPI / Go / crates.io
#    names from the imported data with versions, half of them also with a CPE of a generated
#    product) against the big DB and against the shipped sample DB (~8,200 records); reports wall time (best of
#    3) and max RSS. RSS independent of DB size = the index, not the records, is what is loaded.
# 3. Baseline: the same index lookups as plain sqlite3 queries (`sqlite3 db < lookups.sql`),
#    so the ratio shows what matching and version evaluation cost on top of SQLite.
#
# Usage: bench/scan.sh [TOTAL_RECORDS]   (default 100000). Needs python3, sqlite3, GNU time.
# RELKIT_BIN: a relkit binary to measure instead of building this checkout's (release).
set -euo pipefail
total=${1:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${RELKIT_SHARED:-$root/../shared/data}
work=${RELKIT_BENCH_WORK:-$root/target/bench/scan}
mkdir -p "$work"
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p relkit
fi
relkit=${RELKIT_BIN:-$root/target/release/relkit}

# Wall seconds (ms resolution) and max RSS (KiB) of a command: prints "SECONDS KIB".
measure() {
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || rc=$?
  t1=$(date +%s%N)
  # relkit scan exits 1 when it has findings: that is a result, not a failure.
  if [ $rc -gt 1 ]; then cat "$work/stderr.txt" >&2; exit $rc; fi
  echo "$(awk "BEGIN{printf \"%.3f\", ($t1-$t0)/1e9}") $(tail -1 "$work/time.txt")"
}

best_of_3() {
  local best="" rss=""
  for _ in 1 2 3; do
    read -r s k < <(measure "$@")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    rss=$k
  done
  echo "$best $rss"
}

db=$work/big.sqlite
rm -f "$db" "$db-journal"
osv_records=$(find "$shared/osv" -name '*.tar.xz' | wc -l)
[ "$osv_records" -gt 0 ] || { echo "no OSV exports in $shared/osv" >&2; exit 2; }

python3 - "$work" "$total" <<'PY'
import json, os, sys
work, total = sys.argv[1], int(sys.argv[2])
gen = os.path.join(work, "nvd-gen")
os.makedirs(gen, exist_ok=True)
for f in os.listdir(gen):
    os.remove(os.path.join(gen, f))
n = max(total - 8000, 0)
per_page = 2000
for start in range(0, n, per_page):
    items = []
    for i in range(start, min(start + per_page, n)):
        p = i % 5000
        items.append({"cve": {
            "id": "CVE-2099-%07d" % i, "vulnStatus": "Analyzed",
            "lastModified": "2099-01-01T00:00:00.000",
            "descriptions": [{"lang": "en", "value": "generated record %d" % i}],
            "metrics": {"cvssMetricV31": [{"source": "gen", "type": "Primary", "cvssData": {
                "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]},
            "weaknesses": [{"source": "gen", "type": "Primary", "description": [{"lang": "en", "value": "CWE-787"}]}],
            "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [{
                "vulnerable": True, "criteria": "cpe:2.3:a:genvendor%d:genprod%d:*:*:*:*:*:*:*:*" % (p % 500, p),
                "versionStartIncluding": "%d.0" % (i % 7), "versionEndExcluding": "%d.%d" % (i % 7 + 1, i % 10)}]}]}],
        }})
    page = {"resultsPerPage": len(items), "startIndex": start, "totalResults": n,
            "format": "NVD_CVE", "version": "2.0", "vulnerabilities": items}
    with open(os.path.join(gen, "page-%07d.json" % start), "w") as fh:
        json.dump(page, fh)
PY

read -r secs rss < <(measure "$relkit" db import --db "$db" "$shared"/osv/*.tar.xz "$work/nvd-gen")
records=$(sqlite3 "$db" 'SELECT count(*) FROM records')
dbsize=$(du -m "$db" | cut -f1)
echo "import: $records records in ${secs}s = $(awk "BEGIN{printf \"%d\", $records/$secs}") records/s, max RSS $((rss/1024)) MiB, DB $dbsize MiB"

small=$work/sample.sqlite
rm -f "$small"
"$relkit" db import --quiet --db "$small" "$root/crates/relkit-vuln/data/sample.tar.xz"

# SBOMs: real package names from the big DB, versions "1.0" / "0.1.0", CPEs of generated products.
python3 - "$work" "$db" <<'PY'
import json, sqlite3, sys, os
work, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
rows = con.execute("SELECT DISTINCT ecosystem, name FROM pkg_index ORDER BY ecosystem, name").fetchall()
purl_type = {"PyPI": "pypi", "Go": "golang", "crates.io": "cargo", "npm": "npm"}
rows = [r for r in rows if r[0] in purl_type]
lookups = []
for n in (10, 1000, 10000):
    pkgs = []
    for i in range(n):
        eco, name = rows[i % len(rows)]
        ver = "v0.1.0" if eco == "Go" else ("0.1.0" if eco == "crates.io" else "1.0")
        p = {"SPDXID": "SPDXRef-%d" % i, "name": name, "versionInfo": ver.lstrip("v"),
             "downloadLocation": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:%s/%s@%s" % (purl_type[eco], name, ver)}]}
        if i % 2 == 0:
            p["externalRefs"].append({"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                "referenceLocator": "cpe:2.3:a:genvendor%d:genprod%d:%d.5:*:*:*:*:*:*:*" % ((i % 5000) % 500, i % 5000, i % 7)})
        pkgs.append(p)
    doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
           "name": "bench-%d" % n, "documentNamespace": "https://example.org/bench/%d" % n,
           "creationInfo": {"created": "2025-06-11T00:00:00Z", "creators": ["Tool: bench"]},
           "packages": pkgs}
    with open(os.path.join(work, "sbom-%d.spdx.json" % n), "w") as fh:
        json.dump(doc, fh)
    with open(os.path.join(work, "lookups-%d.sql" % n), "w") as fh:
        for i, p in enumerate(pkgs):
            eco, name = rows[i % len(rows)]
            fh.write("SELECT r.body FROM pkg_index p JOIN records r ON r.id = p.id WHERE p.ecosystem = '%s' AND p.name = '%s' AND r.excluded = 0;\n" % (eco, name.replace("'", "''")))
            if i % 2 == 0:
                fh.write("SELECT r.body FROM cpe_index c JOIN records r ON r.id = c.id WHERE c.vendor = 'genvendor%d' AND c.product = 'genprod%d' AND r.excluded = 0;\n" % ((i % 5000) % 500, i % 5000))
PY

echo
echo "| components | scan, ${records}-record DB | max RSS | scan, sample DB | max RSS | sqlite3 lookups only | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in 10 1000 10000; do
  read -r s_big k_big < <(best_of_3 "$relkit" scan "$work/sbom-$n.spdx.json" --db "$db" --format json)
  read -r s_small k_small < <(best_of_3 "$relkit" scan "$work/sbom-$n.spdx.json" --db "$small" --format json)
  read -r s_sql _ < <(best_of_3 sh -c "sqlite3 '$db' < '$work/lookups-$n.sql'")
  ratio=$(awk "BEGIN{ if ($s_sql > 0) printf \"%.1fx\", $s_big/$s_sql; else print \"-\" }")
  echo "| $n | ${s_big}s | $((k_big/1024)) MiB | ${s_small}s | $((k_small/1024)) MiB | ${s_sql}s | $ratio |"
done
