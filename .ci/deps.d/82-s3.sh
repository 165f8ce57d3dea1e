#!/usr/bin/env bash
# relkit serve --blobs s3://… (crates/relkit/tests/it/cli_serve_s3.rs, bench/serve.sh): a real
# S3-compatible server, s3s-fs (the s3s project's S3 server on a file system), built from
# crates.io at a pinned version with its own Cargo.lock (--locked; crates.io checksums every
# crate) into /opt/relkit-s3s. 0.14.1 is the last release whose rust-version (1.92) this
# toolchain meets (0.15+ want 1.96). Build: 258 s on the 2-core CI machine while loaded.
set -euo pipefail
ver=0.14.1
bin=/opt/relkit-s3s/bin/s3s-fs
if ! "$bin" --version 2>/dev/null | grep -q " $ver\$"; then
  target=$(mktemp -d)
  CARGO_TARGET_DIR="$target" cargo install -q --locked s3s-fs --version "$ver" \
    --features binary --root /opt/relkit-s3s
  rm -rf "$target"
fi
"$bin" --version
command -v curl >/dev/null || { echo "missing oracle: curl (SigV4 requests in the S3 tests)" >&2; exit 1; }
