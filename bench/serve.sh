#!/usr/bin/env bash
# relkit serve: download throughput of a large file vs nginx serving the same file from disk
# (loopback, wrk), and release-listing latency (p99) with 10k releases, SQLite and (when
# RELKIT_BENCH_POSTGRES is a postgres:// URL) PostgreSQL; with s3s-fs (.ci/deps.d/82-s3.sh),
# download throughput through relkit serve --blobs s3://… vs a direct signed GET of the same
# object from s3s-fs (curl, one connection, median of 5). Needs a release build of relkit,
# nginx, wrk, curl. Usage: bench/serve.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
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
bench_backend sqlite ""
if [ -n "${RELKIT_BENCH_POSTGRES:-}" ]; then bench_backend postgres "$RELKIT_BENCH_POSTGRES"; fi

s3s=${S3S_FS:-/opt/relkit-s3s/bin/s3s-fs}
if [ -x "$s3s" ]; then
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
