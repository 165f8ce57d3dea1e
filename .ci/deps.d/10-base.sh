#!/usr/bin/env bash
# GNU tar/gzip/xz/zip/unzip are the oracles for the archive writers; missing = failure.
set -euo pipefail
apt-get install -y -qq tar gzip xz-utils zip unzip >/dev/null
for tool in tar gzip xz zip unzip; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
