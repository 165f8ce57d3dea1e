#!/usr/bin/env bash
# Benchmarks for relkit-attest (issues 7 and 17), each a ratio against a peer measured in one run:
#  1. `relkit checksum` of a multi-GB set of artifacts vs coreutils `sha256sum` (goal >= 1x;
#     relkit hashes files in parallel across cores);
#  2. offline verification of a real Sigstore bundle WITH the signer identity checked on both
#     sides: `relkit verify --bundle --certificate-identity --certificate-oidc-issuer` vs
#     `python -m sigstore verify identity --offline` (sigstore 4.5.1, .ci/deps.d/40-attest.sh)
#     on the same bundle and the same trusted root (relkit's shipped staging root is
#     sigstore-python 4.5.1's, byte for byte). Exit codes are checked first (both accept the
#     right signer, both refuse another). `python3 -c pass` and `python3 -c 'import sigstore'`
#     are timed in the same run so the ratio can be given without interpreter start-up.
# Usage: bench/attest.sh [verify] [SIZE_MB_PER_FILE (default 512)] [FILES (default 4)]
#   `verify` runs only part 2. Needs hyperfine, sha256sum, python3 with `sigstore`.
# RELKIT_BIN=path/to/relkit times that binary; by default the CI-profile build
# (target/ci/relkit, optimized) is built and used.
set -euo pipefail
cd "$(dirname "$0")/.."
only_verify=
if [ "${1:-}" = verify ]; then only_verify=1; shift; fi
size_mb=${1:-512}
nfiles=${2:-4}
# RELKIT_BIN=path/to/relkit skips the build (e.g. to time an already built binary).
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --profile ci --locked -q -p relkit
  relkit=$PWD/target/ci/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
fix=$PWD/crates/relkit-attest/tests/fixtures/sigstore
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$only_verify" ]; then
echo "== generating $nfiles x ${size_mb} MiB artifacts in $work"
for i in $(seq 1 "$nfiles"); do
  head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/artifact-$i.bin"
done
(
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

)
fi

cd "$work"
echo "== load: $(uptime)"
id=william@yossarian.net
iss=https://github.com/login/oauth
art=$fix/bundle_v3.txt
bundle=$fix/bundle_v3.txt.sigstore
ours="$relkit verify $art --bundle $bundle --staging --certificate-identity $id --certificate-oidc-issuer $iss -q"
theirs="python3 -m sigstore --staging verify identity --offline --bundle $bundle --cert-identity $id --cert-oidc-issuer $iss $art"
echo "== verify: sigstore-python's bundle_v3 (staging, hashedrekord, v0.3), offline, identity checked"
# Both must accept the right signer and refuse another before anything is timed.
$ours
$theirs 2>/dev/null
if $relkit verify "$art" --bundle "$bundle" --staging --certificate-identity hugo@example.org \
  --certificate-oidc-issuer "$iss" -q >/dev/null; then
  echo "relkit accepted the wrong identity" >&2; exit 1
fi
if python3 -m sigstore --staging verify identity --offline --bundle "$bundle" \
  --cert-identity hugo@example.org --cert-oidc-issuer "$iss" "$art" >/dev/null 2>&1; then
  echo "sigstore-python accepted the wrong identity" >&2; exit 1
fi
hyperfine --warmup 3 --runs 20 -N --export-json verify.json --export-markdown verify.md \
  -n "relkit verify (identity)" "$ours" \
  -n "python -m sigstore verify identity --offline" "$theirs" \
  -n "python3 -c pass" "python3 -c pass" \
  -n "python3 -c 'import sigstore'" "python3 -c 'import sigstore'"
cat verify.md
python3 - verify.json <<'EOF'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
ours = r["relkit verify (identity)"]
theirs = r["python -m sigstore verify identity --offline"]
bare = r["python3 -c pass"]
imp = r["python3 -c 'import sigstore'"]
print(f"relkit {ours*1000:.1f} ms, sigstore-python {theirs*1000:.1f} ms: {theirs/ours:.1f}x")
print(f"without interpreter start-up (python3 -c pass, {bare*1000:.1f} ms): {(theirs-bare)/ours:.1f}x")
print(f"without start-up and `import sigstore` ({imp*1000:.1f} ms): {(theirs-imp)/ours:.1f}x")
EOF
