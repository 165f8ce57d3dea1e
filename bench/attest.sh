#!/usr/bin/env bash
# Benchmarks for relkit-attest (issue 7), each a ratio against a peer measured in one run:
#  1. `relkit checksum` of a multi-GB set of artifacts vs coreutils `sha256sum` (goal >= 1x;
#     relkit hashes files in parallel across cores);
#  2. offline verification of a real Sigstore bundle: `relkit verify --bundle` vs
#     `python -m sigstore verify identity --offline` on the same bundle (goal >= 20x).
# Usage: bench/attest.sh [SIZE_MB_PER_FILE (default 512)] [FILES (default 4)]
# Needs: hyperfine, sha256sum, python3 with `sigstore`; builds relkit in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-512}
nfiles=${2:-4}
# RELKIT_BIN=path/to/relkit skips the build (e.g. to time an already built binary).
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release -q -p relkit
  relkit=$PWD/target/release/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
fix=$PWD/crates/relkit-attest/tests/fixtures/sigstore
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== generating $nfiles x ${size_mb} MiB artifacts in $work"
for i in $(seq 1 "$nfiles"); do
  head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/artifact-$i.bin"
done
cd "$work"
# Both tools must agree before we time them.
"$relkit" checksum artifact-*.bin > relkit.sums
sha256sum artifact-*.bin > coreutils.sums
cmp relkit.sums coreutils.sums

echo "== checksum: $((size_mb * nfiles)) MiB in $nfiles files (page cache warm)"
hyperfine --warmup 1 --runs 5 --export-markdown checksum.md \
  -n "relkit checksum" "$relkit checksum artifact-*.bin" \
  -n "sha256sum" "sha256sum artifact-*.bin"
cat checksum.md

echo "== verify: sigstore-python bundle_v3 (staging, hashedrekord, v0.3), offline"
"$relkit" verify "$fix/bundle_v3.txt" --bundle "$fix/bundle_v3.txt.sigstore" \
  --trusted-root "$fix/trusted_root.staging.json" -q
python3 -m sigstore --staging verify identity --offline --bundle "$fix/bundle_v3.txt.sigstore" \
  --cert-identity william@yossarian.net --cert-oidc-issuer https://github.com/login/oauth \
  "$fix/bundle_v3.txt" 2>/dev/null
hyperfine --warmup 2 --runs 10 -N --export-markdown verify.md \
  -n "relkit verify" \
  "$relkit verify $fix/bundle_v3.txt --bundle $fix/bundle_v3.txt.sigstore --trusted-root $fix/trusted_root.staging.json -q" \
  -n "python -m sigstore verify --offline" \
  "python3 -m sigstore --staging verify identity --offline --bundle $fix/bundle_v3.txt.sigstore --cert-identity william@yossarian.net --cert-oidc-issuer https://github.com/login/oauth $fix/bundle_v3.txt"
cat verify.md
