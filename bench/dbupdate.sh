#!/usr/bin/env bash
# Benchmark: `relkit db update` from a loopback HTTP server vs `relkit db import` of the same
# files (issue 21), and a no-change update.
#
# 1. Builds OSV exports as OSV publishes them (`ECOSYSTEM/all.zip`, one `ID.json` per record)
#    from the shared real data: PyPI (pypa/advisory-database's YAML records written as JSON),
#    Go (golang/vulndb's OSV records), crates.io (RustSec's OSV records in vulns/osv/rustsec).
# 2. Serves them with `python3 -m http.server` on 127.0.0.1 (it sends Last-Modified and answers
#    If-Modified-Since with 304; no ETag), and times with hyperfine:
#    a. a full `db update` (fresh DB each run) from the server, vs
#    b. `db import` of the same three zip files (fresh DB each run);
#    target: a/b <= 1.2 (the overhead of HTTP, verification and per-source transactions),
#    judged on the medians of 10 runs each (a busy machine makes single runs swing by
#    +-30 %; the means and the CPU time, user + system, are printed too, and the load);
#    c. a no-change `db update` (every export answered 304): target < 1 s.
#    Every run's exit code is checked (no `hyperfine -i`); the record counts of a and b are
#    compared once before timing.
#
# Usage: bench/dbupdate.sh. Needs python3 (with PyYAML), hyperfine.
# RELKIT_BIN: a relkit binary to measure instead of building this checkout's (ci profile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${RELKIT_SHARED:-$root/../shared/data}
work=${RELKIT_BENCH_WORK:-$root/target/bench/dbupdate}
rm -rf "$work"
mkdir -p "$work/www/osv"
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --profile ci --quiet --manifest-path "$root/Cargo.toml" -p relkit
fi
relkit=${RELKIT_BIN:-$root/target/ci/relkit}

python3 - "$shared" "$work/www/osv" <<'PY'
import json, os, sys, tarfile, zipfile, yaml
shared, out = sys.argv[1], sys.argv[2]
def write(eco, records):
    os.makedirs(os.path.join(out, eco), exist_ok=True)
    with zipfile.ZipFile(os.path.join(out, eco, "all.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for rid, body in sorted(records.items()):
            z.writestr(rid + ".json", body)
    print(f"{eco}: {len(records)} records", file=sys.stderr)
pypi = {}
with tarfile.open(os.path.join(shared, "osv/pypa-advisory-database.tar.xz")) as t:
    for m in t:
        if m.isfile() and m.name.endswith(".yaml"):
            v = yaml.safe_load(t.extractfile(m))
            pypi[v["id"]] = json.dumps(v, default=str)
write("PyPI", pypi)
go = {}
with tarfile.open(os.path.join(shared, "osv/golang-vulndb-osv.tar.xz")) as t:
    for m in t:
        name = m.name.rsplit("/", 1)[-1]
        if m.isfile() and name.startswith("GO-") and name.endswith(".json"):
            go[name[:-5]] = t.extractfile(m).read().decode()
write("Go", go)
crates = {}
d = os.path.join(shared, "vulns/osv/rustsec")
for f in sorted(os.listdir(d)):
    if f.endswith(".json"):
        crates[f[:-5]] = open(os.path.join(d, f)).read()
write("crates.io", crates)
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/osv/Go/all.zip" 2>/dev/null && break
  sleep 0.1
done
cat >"$work/feeds.toml" <<TOML
[osv]
base = "http://127.0.0.1:$port/osv"
ecosystems = ["PyPI", "Go", "crates.io"]
TOML
zips=("$work/www/osv/PyPI/all.zip" "$work/www/osv/Go/all.zip" "$work/www/osv/crates.io/all.zip")

# Once, untimed: both ways give the same records.
"$relkit" --quiet db update --db "$work/u.sqlite" --feeds "$work/feeds.toml"
"$relkit" --quiet db import --db "$work/i.sqlite" "${zips[@]}"
u=$("$relkit" db stats --db "$work/u.sqlite" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
i=$("$relkit" db stats --db "$work/i.sqlite" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "records: update $u, import $i"
[ "$u" = "$i" ] && [ "$u" -gt 0 ] || { echo "record counts differ" >&2; exit 1; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --warmup 1 --runs 10 --export-json "$work/full.json" \
  --prepare "rm -f $work/u.sqlite $work/i.sqlite" \
  -n "db update (loopback HTTP)" "$relkit --quiet db update --db $work/u.sqlite --feeds $work/feeds.toml" \
  -n "db import (same zips)" "$relkit --quiet db import --db $work/i.sqlite ${zips[*]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Leave a complete DB for the no-change run.
"$relkit" --quiet db update --db "$work/u.sqlite" --feeds "$work/feeds.toml"
hyperfine --warmup 1 --runs 10 --export-json "$work/nochange.json" \
  -n "db update, nothing changed (3 x 304)" "$relkit --quiet db update --db $work/u.sqlite --feeds $work/feeds.toml"
grep -c '" 304 -' "$work/server.log" >/dev/null || { echo "the server answered no 304" >&2; exit 1; }

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
full = {r["command"]: r for r in json.load(open(f"{w}/full.json"))["results"]}
upd, imp = full["db update (loopback HTTP)"], full["db import (same zips)"]
no = json.load(open(f"{w}/nochange.json"))["results"][0]
ratio = upd["median"] / imp["median"]
cpu = lambda r: r["user"] + r["system"]  # hyperfine's means over the runs
print(f"full update median {upd['median']:.3f} s (mean {upd['mean']:.3f} ± {upd['stddev']:.3f}, cpu {cpu(upd):.3f}), "
      f"import median {imp['median']:.3f} s (mean {imp['mean']:.3f} ± {imp['stddev']:.3f}, cpu {cpu(imp):.3f})")
print(f"ratio of medians {ratio:.2f} (target <= 1.2); of means {upd['mean'] / imp['mean']:.2f}; of cpu {cpu(upd) / cpu(imp):.2f}")
print(f"no-change update {no['mean']*1000:.0f} ms ± {no['stddev']*1000:.0f} (target < 1 s)")
ok = ratio <= 1.2 and no["mean"] < 1.0
print("targets met" if ok else "TARGET MISSED")
sys.exit(0 if ok else 1)
PY
