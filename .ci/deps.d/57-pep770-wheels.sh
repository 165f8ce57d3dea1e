#!/usr/bin/env bash
# Real manylinux wheels that carry PEP 770 SBOMs (`*.dist-info/sboms/auditwheel.cdx.json`,
# written by auditwheel 6.x for the system libraries it copied into `NAME.libs/`), for the
# wheel tests of `relkit sbom generate` (crates/relkit/tests/it/cli_sbom_pep770.rs).
# Pinned by SHA-256; kept in target/relkit-data/ (not committed: ~12 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=target/relkit-data
mkdir -p "$data"
fetch_wheel() { # sha256 requirement file
  if echo "$1  $data/$3" | sha256sum -c --status 2>/dev/null; then return 0; fi
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.13 \
    --platform manylinux_2_17_x86_64 -d "$tmp" "$2"
  mv "$tmp/$3" "$data/$3"; rm -rf "$tmp"
  echo "$1  $data/$3" | sha256sum -c --quiet
}
fetch_wheel f04ada42bcd537adbaf8b7f3140237a204e452a88d0c1831cfce69f7d2e59f4e psycopg2-binary==2.9.13 \
  psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
fetch_wheel 03f6fab9219220f041c74aeaa2939ff0062bd5c364ba9ce037197f4c6d498cd9 pillow==12.2.0 \
  pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
# PyPI `wheel`: `wheel unpack` verifies every RECORD hash of the wheels relkit writes
# (--pep770).
python3 -m pip install -q wheel==0.45.1 2>/dev/null \
  || python3 -m pip install -q --break-system-packages wheel==0.45.1
python3 -m wheel version >/dev/null || { echo "missing oracle: python3 -m wheel" >&2; exit 1; }
