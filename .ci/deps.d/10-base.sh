#!/usr/bin/env bash
# GNU tar/gzip/xz/bzip2/zstd/zip/unzip, coreutils and git are the oracles of the archive and source
# build tests (git only sets up test repositories; relkit itself never runs it).
set -euo pipefail
apt-get install -y -qq tar gzip xz-utils bzip2 zstd zip unzip coreutils git ca-certificates >/dev/null
for tool in tar gzip xz bzip2 zstd zip unzip sha256sum git; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
