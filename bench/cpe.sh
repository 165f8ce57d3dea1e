#!/usr/bin/env bash
# Benchmarks for relkit-ident (issue 5):
#  1. import throughput: a dictionary of >= 1,000,000 CPE names (the real NVD dictionary sample,
#     real CVE records, plus realistic generated NVD CPE API 2.0 pages), goal >= 100k entries/s;
#  2. `relkit cpe search` latency at that size for 2-character ("xz"), medium ("zlib",
#     "openssl"), long ("user_profile_&_membership") and typo ("libexapt") queries, goal < 10 ms
#     (whole process, measured by hyperfine);
#  3. parse+bind+match throughput vs the Python reference (PyPI `cpe`) on the same names,
#     goal >= 50x.
# Usage: bench/cpe.sh [NAMES (default 1000000)] [MATCH_NAMES (default 20000)]
# Needs: hyperfine, python3 with `cpe` (pip install cpe); builds relkit in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
names=${1:-1000000}
match_names=${2:-20000}
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release -q -p relkit
  relkit=$PWD/target/release/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
cargo build --release -q -p relkit-ident --example parse_match
probe=$PWD/target/release/examples/parse_match
fix=$PWD/crates/relkit-ident/tests/fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== generating $names CPE names as CPE API 2.0 pages in $work/pages"
python3 - "$names" "$work/pages" "$fix/cpe/official-cpe-dictionary_v2.3.sample.xml" <<'PY'
import json, os, random, re, sys
n, out, sample = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(out)
rng = random.Random(5)
real = re.findall(r'cpe23-item name="cpe:2\.3:([aoh]):([^:]+):([^:]+):', open(sample).read())
words = sorted({w for _, v, p in real for w in re.split(r"[_\-.]", v + "_" + p) if len(w) > 2})
ts = ["*", "*", "*", "*", "wordpress", "python", "node.js", "go", "android"]
page, pages, i = [], 0, 0
products = max(1, n // 8)
while i < n:
    k = rng.randrange(products)
    r = random.Random(k)
    if k < len(real):
        part, vendor, product = real[k]
    else:
        part = r.choice("aaaaoh")
        vendor = "_".join(r.sample(words, r.choice((1, 1, 2))))
        product = "_".join(r.sample(words, r.choice((1, 2, 2, 3))))
    version = ".".join(str(rng.randrange(20)) for _ in range(rng.choice((2, 3, 3, 4))))
    name = f"cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:{r.choice(ts)}:*:*"
    page.append({"cpe": {"deprecated": False, "cpeName": name,
                         "titles": [{"title": f"{vendor} {product} {version}", "lang": "en"}]}})
    i += 1
    if len(page) == 10000 or i == n:
        json.dump({"resultsPerPage": len(page), "startIndex": pages * 10000, "totalResults": n,
                   "format": "NVD_CPE", "version": "2.0", "products": page},
                  open(f"{out}/page-{pages:04d}.json", "w"))
        page, pages = [], pages + 1
PY

echo "== import (1 run)"
start=$(date +%s.%N)
"$relkit" cpe import --dict "$work/cpe.sqlite" --format json \
  "$fix/cpe/official-cpe-dictionary_v2.3.sample.xml" "$fix/nvd" "$work/pages" | tee "$work/import.json"
end=$(date +%s.%N)
python3 -c "import json,sys; d=json.load(open('$work/import.json')); print(f\"import: {d['names']+d['cves']} entries, {d['products']} products in {float(sys.argv[2])-float(sys.argv[1]):.2f} s wall = {(d['names']+d['cves'])/(float(sys.argv[2])-float(sys.argv[1])):.0f} entries/s\")" "$start" "$end"
ls -l "$work/cpe.sqlite"

echo "== search latency (whole process)"
hyperfine -N --warmup 3 --runs 30 \
  "$relkit cpe search --dict $work/cpe.sqlite xz" \
  "$relkit cpe search --dict $work/cpe.sqlite zlib" \
  "$relkit cpe search --dict $work/cpe.sqlite openssl" \
  "$relkit cpe search --dict $work/cpe.sqlite user_profile_&_membership" \
  "$relkit cpe search --dict $work/cpe.sqlite libexapt" \
  "$relkit cpe search --dict $work/cpe.sqlite e"

echo "== parse+bind+match: relkit vs Python cpe on the same $match_names names"
python3 - "$work/pages" "$match_names" > "$work/names.txt" <<'PY'
import glob, json, sys
out, want = [], int(sys.argv[2])
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    for p in json.load(open(f))["products"]:
        out.append(p["cpe"]["cpeName"])
        if len(out) >= want:
            break
    if len(out) >= want:
        break
print("\n".join(out))
PY
"$probe" "$work/names.txt"
python3 bench/cpe_parse_match.py "$work/names.txt"
hyperfine -N --warmup 1 --runs 5 \
  "$probe $work/names.txt" \
  "python3 bench/cpe_parse_match.py $work/names.txt"
