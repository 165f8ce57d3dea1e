#!/usr/bin/env bash
# relkit audit: the official xz-utils 5.8.1 release tarball (upstream's own, as Debian ships
# it: xz-utils_5.8.1.orig.tar.xz) for the tarball-vs-tag tests, into target/relkit-data/
# (not committed: 1.4 MB, and the point is that it is upstream's file). diffoscope and
# hyperfine are the comparison tools of bench/audit.sh; tar/git come from 10-base.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
apt-get install -y -qq hyperfine diffoscope-minimal >/dev/null
data=target/relkit-data
mkdir -p "$data"
want=0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e
file="$data/xz-utils_5.8.1.orig.tar.xz"
if ! echo "$want  $file" | sha256sum -c --status 2>/dev/null; then
  tmp=$(mktemp -d)
  bash ../shared/scripts/debian-source xz-utils trixie "$tmp" >/dev/null
  cp "$tmp/xz-utils_5.8.1.orig.tar.xz" "$file"
  rm -rf "$tmp"
fi
echo "$want  $file" | sha256sum -c
