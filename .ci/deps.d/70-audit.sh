#!/usr/bin/env bash
# relkit audit: the official xz-utils 5.8.1 release tarball (upstream's own, as Debian ships
# it: xz-utils_5.8.1.orig.tar.xz) for the tarball-vs-tag tests, into target/relkit-data/
# (not committed: 1.4 MB, and the point is that it is upstream's file). diffoscope and
# hyperfine are the comparison tools of bench/audit.sh; prlimit (util-linux) bounds memory in the
# 1 GiB tarball test; tar/git come from 10-base.sh. The GNU autotools run xz's own autogen.sh
# in the `--regenerate` test (crates/relkit-audit/tests/regenerate.rs; its exact figures are
# those of Debian 12's autoconf 2.71, automake 1.16.5, libtool 2.4.7, gettext 0.21).
set -euo pipefail
cd "$(dirname "$0")/../.."
apt-get install -y -qq hyperfine diffoscope-minimal util-linux >/dev/null
apt-get install -y -qq autoconf automake libtool gettext autopoint >/dev/null
# The SARIF report is validated by Microsoft's SARIF Multitool (also installed by 55-truth.sh).
if ! command -v sarif-multitool >/dev/null; then
  command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
  npm install -g --silent @microsoft/sarif-multitool@5.7.0 >/dev/null
  bin=$(npm root -g)/@microsoft/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
  [ -f "$bin" ] && chmod u+x "$bin"
fi
# setuptools makes the Python sdist whose metadata the audit must explain.
python3 -c 'import setuptools' 2>/dev/null || python3 -m pip install -q 'setuptools<81' >/dev/null
python3 -c 'import setuptools' || { echo "missing oracle: setuptools" >&2; exit 1; }
for tool in sarif-multitool prlimit diffoscope hyperfine autoconf automake libtoolize autopoint; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
data=target/relkit-data
mkdir -p "$data"
# fetch PACKAGE SUITE FILE SHA256: upstream's tarball as Debian SUITE ships it, checked.
fetch() {
  local file="$data/$3"
  if ! echo "$4  $file" | sha256sum -c --status 2>/dev/null; then
    local tmp
    tmp=$(mktemp -d)
    bash ../shared/scripts/debian-source "$1" "$2" "$tmp" >/dev/null
    cp "$tmp/$3" "$file"
    rm -rf "$tmp"
  fi
  echo "$4  $file" | sha256sum -c
}
fetch xz-utils trixie xz-utils_5.8.1.orig.tar.xz \
  0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e
# xz-utils 5.4.1 (Debian 12's, upstream's tarball of January 2023): an older real release for
# the audit (a libtool snapshot's macros, msgmerge-updated catalogs, groff PDFs).
fetch xz-utils bookworm xz-utils_5.4.1.orig.tar.xz \
  5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5
# xz-utils 5.2.5 (Debian 11's, upstream's tarball of March 2020): made with automake and libtool
# built from git, so its helper scripts announce released versions with other content.
fetch xz-utils bullseye xz-utils_5.2.5.orig.tar.xz \
  3e1e518ffc912f86608a8cb35e4bd41ad1aec210df2a47aaa1f95e7f5576ef56
# flex 2.6.4 (Debian 12's, upstream's tarball of May 2017, automake 1.15): an older automake's
# dist rules for the every-file alarm (no line of a clean release may be left unexplained).
fetch flex bookworm flex_2.6.4.orig.tar.gz \
  e87aae032bf07c26f85ac0ed3250998c37621d95f8bd748b31f15b33c45ee995
