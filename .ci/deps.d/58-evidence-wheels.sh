#!/usr/bin/env bash
# Real manylinux wheels whose native code carries libraries statically (no NAME.libs/), for the
# ELF evidence tests of the binary rules (crates/relkit/tests/it/cli_sbom_pep770.rs): lxml's
# etree module links libxml2 and libxslt in. cp311 so that it is the machine's Python's own ABI.
# Pinned by SHA-256; kept in target/relkit-data/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=target/relkit-data
mkdir -p "$data"
fetch_wheel() { # sha256 requirement file [platform]
  if echo "$1  $data/$3" | sha256sum -c --status 2>/dev/null; then return 0; fi
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform "${4:-manylinux_2_17_x86_64}" -d "$tmp" "$2"
  mv "$tmp/$3" "$data/$3"
  rm -rf "$tmp"
  echo "$1  $data/$3" | sha256sum -c --quiet
}
fetch_wheel 2158aa10c47de8b2021c3f213993d450ce002795eeb6738a26dd888911a660b9 lxml==6.2.0 \
  lxml-6.2.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
# numpy's vendored OpenBLAS (numpy.libs/libscipy_openblas64_-*.so), whose openblas_get_config()
# string the OpenBLAS rule reads and the test asks through ctypes.
fetch_wheel 8cba086a43d54ca804ce711b2a940b16e452807acebe7852ff327f1ecd49b0d4 numpy==2.3.5 \
  numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl manylinux_2_28_x86_64
