#!/usr/bin/env bash
# Real upstream release tarballs for the bit-for-bit tests, from Debian's archive (the only
# place they can come from here): CPython 3.13.5's official Python-3.13.5.tar.xz is Debian's
# python3.13_3.13.5.orig.tar.xz. Kept in target/relkit-data/ (not committed: 22 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=target/relkit-data
mkdir -p "$data"
want=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
file="$data/python3.13_3.13.5.orig.tar.xz"
if ! echo "$want  $file" | sha256sum -c --status 2>/dev/null; then
  tmp=$(mktemp -d)
  bash ../shared/scripts/debian-source python3.13 trixie "$tmp" >/dev/null
  cp "$tmp/python3.13_3.13.5.orig.tar.xz" "$file"
  rm -rf "$tmp"
fi
echo "$want  $file" | sha256sum -c
