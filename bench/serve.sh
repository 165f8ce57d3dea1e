#!/usr/bin/env bash
# relkit serve: download throughput of a large file vs nginx serving the same file from disk
# (loopback, wrk), and release-listing latency (p99) with 10k releases, SQLite and (when
# RELKIT_BENCH_POSTGRES is a postgres:// URL) PostgreSQL; with s3s-fs (.ci/deps.d/82-s3.sh),
# download throughput through relkit serve --blobs s3://… vs a direct signed GET of the same
# object from s3s-fs (curl, one connection, median of 5); listing throughput of 2 replicas
# vs 1 on one SQLite database (wrk); the time and memory of re-scanning 1,000 published
# releases' SBOMs after the vulnerability DB changes (`--vuln-db`, real PyPA records from
# ../shared/data). Needs a release build of relkit, nginx, wrk, curl, sqlite3.
# Usage: bench/serve.sh [SIZE_MIB]; RELKIT_BENCH_ONLY=download,s3,replicas,rescan (comma list;
# "download" is the nginx comparison and the listings) runs only those sections.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
want() { [ -z "${RELKIT_BENCH_ONLY:-}" ] || [[ ",$RELKIT_BENCH_ONLY," == *",$1,"* ]]; }
relkit=${RELKIT:-target/release/relkit}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"   # nginx workers run as www-data
head -c $((size_mib << 20)) /dev/urandom > "$work/big.bin"
chmod 644 "$work/big.bin"
sha=$(sha256sum "$work/big.bin" | cut -d' ' -f1)

cat > "$work/nginx.conf" <<NGINX
worker_processes 2; pid $work/nginx.pid; error_log $work/nginx.err;
events {}
http { access_log off; sendfile on; server { listen 127.0.0.1:18181; root $work; } }
NGINX
nginx -c "$work/nginx.conf"
[ "$(curl -sf http://127.0.0.1:18181/big.bin | sha256sum | cut -d' ' -f1)" = "$sha" ] || { echo "nginx does not serve the file" >&2; exit 1; }

bench_backend() {
  local name=$1 db=$2 data="$work/data-$1"
  mkdir -p "$data"
  "$relkit" serve token create --data "$data" ${db:+--database "$db"} --project bench > "$data/token"
  "$relkit" serve --data "$data" ${db:+--database "$db"} --listen 127.0.0.1:18182 -q &
  local pid=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:18182/healthz >/dev/null && break; sleep 0.1; done
  local auth="Authorization: Bearer $(cat "$data/token")"
  curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"version":"0"}' \
    http://127.0.0.1:18182/api/v1/projects/bench/releases >/dev/null
  curl -sf -X PUT -H "$auth" -H "X-Content-SHA256: $sha" --data-binary @"$work/big.bin" \
    http://127.0.0.1:18182/api/v1/projects/bench/releases/0/files/big.bin >/dev/null
  [ "$(curl -sf http://127.0.0.1:18182/api/v1/projects/bench/releases/0/files/big.bin | sha256sum | cut -d' ' -f1)" = "$sha" ]
  if [ "$name" = sqlite ]; then
    echo "== download ${size_mib} MiB, 4 connections, 15 s"
    echo "-- nginx";  wrk -t2 -c4 -d15s http://127.0.0.1:18181/big.bin | grep -E 'Requests/sec|Transfer/sec'
    echo "-- relkit"; wrk -t2 -c4 -d15s http://127.0.0.1:18182/api/v1/projects/bench/releases/0/files/big.bin | grep -E 'Requests/sec|Transfer/sec'
  fi
  echo "== $name: creating 10000 releases"
  seq 1 9999 | awk -v auth="$auth" '{ if (NR > 1) print "next"; printf "url = \"http://127.0.0.1:18182/api/v1/projects/bench/releases\"\nheader = \"%s\"\nheader = \"Content-Type: application/json\"\ndata = \"{\\\"version\\\":\\\"%d\\\"}\"\noutput = \"/dev/null\"\n", auth, $1 }' > "$work/create.curl"
  curl -sf --no-progress-meter --parallel --parallel-max 8 -K "$work/create.curl"
  [ "$(curl -sf 'http://127.0.0.1:18182/api/v1/projects/bench/releases?limit=1&offset=9999' | grep -c '"version"')" = 1 ]
  echo "-- $name: listing (first page of 100 of 10000 releases), 4 connections, 10 s"
  wrk -t2 -c4 -d10s --latency http://127.0.0.1:18182/api/v1/projects/bench/releases | grep -E 'Requests/sec|50%|99%'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
if want download; then
  bench_backend sqlite ""
  if [ -n "${RELKIT_BENCH_POSTGRES:-}" ]; then bench_backend postgres "$RELKIT_BENCH_POSTGRES"; fi
fi

s3s=${S3S_FS:-/opt/relkit-s3s/bin/s3s-fs}
if want s3 && [ -x "$s3s" ]; then
  mkdir -p "$work/s3root" "$work/data-s3"
  "$s3s" --host 127.0.0.1 --port 18183 --access-key benchkey --secret-key benchsecret "$work/s3root" >/dev/null 2>&1 &
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18183/ && break; sleep 0.1; done
  sig=(--aws-sigv4 aws:amz:us-east-1:s3 --user benchkey:benchsecret)
  empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  curl -sf "${sig[@]}" -H "x-amz-content-sha256: $empty" -X PUT http://127.0.0.1:18183/bench >/dev/null
  printf 'AWS_ENDPOINT_URL=http://127.0.0.1:18183\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=benchkey\nAWS_SECRET_ACCESS_KEY=benchsecret\nAWS_ALLOW_HTTP=true\n' > "$work/s3.env"
  s3args=(--blobs s3://bench/p --blobs-env "$work/s3.env")
  data="$work/data-s3"
  "$relkit" serve token create --data "$data" --project bench > "$data/token"
  "$relkit" serve --data "$data" "${s3args[@]}" --listen 127.0.0.1:18184 -q &
  pid=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:18184/healthz >/dev/null && break; sleep 0.1; done
  auth="Authorization: Bearer $(cat "$data/token")"
  curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"version":"0"}' \
    http://127.0.0.1:18184/api/v1/projects/bench/releases >/dev/null
  t0=$(date +%s.%N)
  curl -sf -X PUT -H "$auth" -H "X-Content-SHA256: $sha" --data-binary @"$work/big.bin" \
    http://127.0.0.1:18184/api/v1/projects/bench/releases/0/files/big.bin >/dev/null
  t1=$(date +%s.%N)
  relkit_url=http://127.0.0.1:18184/api/v1/projects/bench/releases/0/files/big.bin
  direct_url=http://127.0.0.1:18183/bench/p/blobs/sha256/${sha:0:2}/$sha
  [ "$(curl -sf "$relkit_url" | sha256sum | cut -d' ' -f1)" = "$sha" ]
  [ "$(curl -sf "${sig[@]}" -H "x-amz-content-sha256: $empty" "$direct_url" | sha256sum | cut -d' ' -f1)" = "$sha" ]
  median() { sort -g | sed -n 3p; }
  direct=$(for _ in 1 2 3 4 5; do curl -sf "${sig[@]}" -H "x-amz-content-sha256: $empty" -o /dev/null -w '%{speed_download}\n' "$direct_url"; done | median)
  through=$(for _ in 1 2 3 4 5; do curl -sf -o /dev/null -w '%{speed_download}\n' "$relkit_url"; done | median)
  echo "== S3 (s3s-fs): upload ${size_mib} MiB through relkit (multipart): $(echo "$t1 - $t0" | bc) s"
  echo "-- download, 1 connection, median of 5: direct from s3s-fs $((${direct%.*} >> 20)) MiB/s, through relkit $((${through%.*} >> 20)) MiB/s, ratio $(echo "scale=2; $through / $direct" | bc)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
fi

wait_healthy() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done; echo "relkit serve on :$1 did not start" >&2; return 1; }

# 2 replicas vs 1: the same SQLite database and data directory, listings under wrk (one wrk
# per replica, run at the same time, requests/s summed).
if want replicas; then
  data="$work/data-replicas"; mkdir -p "$data"
  "$relkit" serve token create --data "$data" --project bench > "$data/token"
  auth="Authorization: Bearer $(cat "$data/token")"
  "$relkit" serve --data "$data" --listen 127.0.0.1:18185 -q & a=$!
  wait_healthy 18185
  seq 1 2000 | awk -v auth="$auth" '{ if (NR > 1) print "next"; printf "url = \"http://127.0.0.1:18185/api/v1/projects/bench/releases\"\nheader = \"%s\"\nheader = \"Content-Type: application/json\"\ndata = \"{\\\"version\\\":\\\"%d\\\"}\"\noutput = \"/dev/null\"\n", auth, $1 }' > "$work/create-r.curl"
  curl -sf --no-progress-meter --parallel --parallel-max 8 -K "$work/create-r.curl"
  list=/api/v1/projects/bench/releases
  rps() { awk '/Requests\/sec/ {print $2}'; }
  one=$(wrk -t2 -c8 -d10s "http://127.0.0.1:18185$list" | rps)
  "$relkit" serve --data "$data" --listen 127.0.0.1:18186 -q & b=$!
  wait_healthy 18186
  wrk -t1 -c4 -d10s "http://127.0.0.1:18185$list" | rps > "$work/ra" &
  wa=$!
  wrk -t1 -c4 -d10s "http://127.0.0.1:18186$list" | rps > "$work/rb"
  wait "$wa"
  two=$(echo "$(cat "$work/ra") + $(cat "$work/rb")" | bc)
  echo "== replicas (SQLite, listing the first 100 of 2000 releases, 8 connections, 10 s): 1 replica $one req/s, 2 replicas $two req/s ($(cat "$work/ra") + $(cat "$work/rb")) on $(nproc) cores"
  kill "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
fi

# Re-scan of 1,000 published releases after a DB update: each release has one CycloneDX SBOM
# naming jinja2 (2.10 in the even ones, 3.1.4 in the odd ones); the DB first holds
# PYSEC-2021-66 (CVE-2020-28493, affects the even ones); PYSEC-2019-217 (CVE-2019-10906,
# < 2.10.1) is imported while the server runs, and the time until every release is scanned
# against the new DB state is measured (vuln_scans.stamp), with the server's peak memory.
pypa=../shared/data/vulns/osv/pypa/jinja2
if want rescan && [ -f "$pypa/PYSEC-2021-66.yaml" ]; then
  n=${RELKIT_BENCH_RELEASES:-1000}
  data="$work/data-rescan"; vdb="$work/vuln.sqlite"; mkdir -p "$data" "$work/sboms"
  "$relkit" db import --db "$vdb" "$pypa/PYSEC-2021-66.yaml" >/dev/null
  "$relkit" serve token create --data "$data" --project webapp > "$data/token"
  auth="Authorization: Bearer $(cat "$data/token")"
  "$relkit" serve --data "$data" --vuln-db "$vdb" --listen 127.0.0.1:18187 -q & pid=$!
  wait_healthy 18187
  base=http://127.0.0.1:18187/api/v1/projects/webapp/releases
  : > "$work/c1.curl"; : > "$work/c2.curl"; : > "$work/c3.curl"; : > "$work/c4.curl"
  printf 'webapp release file\n' > "$work/file"
  fsha=$(sha256sum "$work/file" | cut -d' ' -f1)
  for i in $(seq 1 "$n"); do
    if [ $((i % 2)) = 0 ]; then j=2.10; else j=3.1.4; fi
    cat > "$work/sboms/$i.json" <<JSON
{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:$(printf '3e671687-395b-41f5-a30f-%012d' "$i")","version":1,"metadata":{"timestamp":"2026-12-06T00:00:00Z","tools":{"components":[{"type":"application","name":"bench"}]},"component":{"type":"application","bom-ref":"app","name":"webapp","version":"$i"}},"components":[{"type":"library","bom-ref":"pkg:pypi/jinja2@$j","name":"jinja2","version":"$j","purl":"pkg:pypi/jinja2@$j"}],"dependencies":[{"ref":"app","dependsOn":["pkg:pypi/jinja2@$j"]},{"ref":"pkg:pypi/jinja2@$j","dependsOn":[]}]}
JSON
    ssha=$(sha256sum "$work/sboms/$i.json" | cut -d' ' -f1)
    printf 'url = "%s"\nheader = "%s"\nheader = "Content-Type: application/json"\ndata = "{\\"version\\":\\"%s\\"}"\noutput = "/dev/null"\nnext\n' "$base" "$auth" "$i" >> "$work/c1.curl"
    printf 'url = "%s/%s/files/webapp.tar.gz"\nrequest = "PUT"\nheader = "%s"\nheader = "X-Content-SHA256: %s"\nupload-file = "%s"\noutput = "/dev/null"\nnext\n' "$base" "$i" "$auth" "$fsha" "$work/file" >> "$work/c2.curl"
    printf 'url = "%s/%s/files/webapp.tar.gz/sbom/webapp.cdx.json"\nrequest = "PUT"\nheader = "%s"\nheader = "X-Content-SHA256: %s"\nupload-file = "%s"\noutput = "/dev/null"\nnext\n' "$base" "$i" "$auth" "$ssha" "$work/sboms/$i.json" >> "$work/c3.curl"
    printf 'url = "%s/%s/publish"\nrequest = "POST"\nheader = "%s"\noutput = "/dev/null"\nnext\n' "$base" "$i" "$auth" >> "$work/c4.curl"
  done
  for c in c1 c2 c3 c4; do
    sed -i '$ d' "$work/$c.curl"
    curl -sf --no-progress-meter --parallel --parallel-max 8 -K "$work/$c.curl"
  done
  db="$data/relkit-serve.sqlite3"
  scans() { sqlite3 "$db" "SELECT count(*) FROM vuln_scans WHERE project = 'webapp' $1"; }
  for _ in $(seq 600); do [ "$(scans "")" = "$n" ] && break; sleep 0.5; done
  old=$(sqlite3 "$db" "SELECT DISTINCT stamp FROM vuln_scans")
  [ "$(echo "$old" | wc -l)" = 1 ] || { echo "the first scans are of several DB states" >&2; exit 1; }
  t0=$(date +%s.%N)
  "$relkit" db import --db "$vdb" "$pypa/PYSEC-2019-217.yaml" >/dev/null
  for _ in $(seq 1200); do [ "$(scans "AND stamp <> '$old' AND error IS NULL")" = "$n" ] && break; sleep 0.1; done
  t1=$(date +%s.%N)
  [ "$(scans "AND stamp <> '$old' AND error IS NULL")" = "$n" ] || { echo "not every release was re-scanned" >&2; exit 1; }
  affected=$(curl -sf http://127.0.0.1:18187/api/v1/projects/webapp/vulnerabilities | python3 -c 'import json,sys; d=json.load(sys.stdin); print({a["advisory"]: len(a["releases"]) for a in d["advisories"]})')
  echo "== re-scan of $n published releases after a DB update: $(echo "$t1 - $t0" | bc) s (includes the watcher's 1 s poll), peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status); affected releases per advisory: $affected"
  kill "$pid"; wait "$pid" 2>/dev/null || true
fi
