#!/usr/bin/env bash
# The macOS (delocate: `NAME/.dylibs/*.dylib`, thin x86_64 + arm64 or one universal2 file) and
# Windows (delvewheel: `NAME.libs/*.dll`) wheels of the same releases whose manylinux wheels
# 57-pep770-wheels.sh and 58-evidence-wheels.sh fetch, for the Mach-O and PE evidence tests
# (crates/relkit/tests/it/cli_sbom_macho_pe.rs, crates/relkit-sbom/src/macho.rs, wheel_libs.rs):
# the libraries in them must have the versions the Linux wheel's libraries report at run time,
# except where a platform's build vendors another release (psycopg2-binary: krb5 1.22.2 on
# macOS, OpenSSL 3.6.3 on Windows), which the test lists.
# Tags are the ones PyPI serves for these releases (checked with pip download): Pillow and
# psycopg2-binary ship thin macOS wheels per architecture, lxml a universal2 one (fat files).
# Pillow's Windows wheel links its libraries into the .pyd files (no NAME.libs/); lxml's too.
# Pinned by SHA-256; kept in target/relkit-data/ (not committed: ~40 MB).
set -euo pipefail
# llvm-nm / llvm-objdump / llvm-readobj: the Mach-O and PE-import oracles of relkit-sbom's
# macho and pe tests.
command -v llvm-objdump >/dev/null && command -v llvm-nm >/dev/null \
  && command -v llvm-readobj >/dev/null \
  || apt-get install -y -qq llvm >/dev/null
cd "$(dirname "$0")/../.."
data=target/relkit-data
mkdir -p "$data"
fetch_wheel() { # sha256 python-version platform requirement file
  if echo "$1  $data/$5" | sha256sum -c --status 2>/dev/null; then return 0; fi
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$2" \
    --platform "$3" -d "$tmp" "$4"
  mv "$tmp/$5" "$data/$5"
  rm -rf "$tmp"
  echo "$1  $data/$5" | sha256sum -c --quiet
}
fetch_wheel 5d2fd0fa6b5d9d1de415060363433f28da8b1526c1c129020435e186794b3795 3.13 \
  macosx_10_13_x86_64 pillow==12.2.0 pillow-12.2.0-cp313-cp313-macosx_10_13_x86_64.whl
fetch_wheel 56b25336f502b6ed02e889f4ece894a72612fe885889a6e8c4c80239ff6e5f5f 3.13 \
  macosx_11_0_arm64 pillow==12.2.0 pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl
fetch_wheel 390ede346628ccc626e5730107cde16c42d3836b89662a115a921f28440e6a3b 3.13 \
  win_amd64 pillow==12.2.0 pillow-12.2.0-cp313-cp313-win_amd64.whl
fetch_wheel 4d66bfd44a46eb88cff0287929a4193fb45166b6c1f84bb1b233cc17ece0813c 3.13 \
  macosx_10_13_x86_64 psycopg2-binary==2.9.13 \
  psycopg2_binary-2.9.13-cp313-cp313-macosx_10_13_x86_64.whl
fetch_wheel f818161d2302b3b3e9c75d5a1d0a5c5679e92e45cfec6432b9d5432dde5ff1f1 3.13 \
  macosx_11_0_arm64 psycopg2-binary==2.9.13 \
  psycopg2_binary-2.9.13-cp313-cp313-macosx_11_0_arm64.whl
fetch_wheel 691da68ae5dd7c3ac77514357d35ece7b1ba8b5f3e6c92735198aa6159c355c8 3.13 \
  win_amd64 psycopg2-binary==2.9.13 psycopg2_binary-2.9.13-cp313-cp313-win_amd64.whl
fetch_wheel 058ea38e79a65b7e84286b427142e7d7f2b20b1640f0ff42eed202ac9704fd3a 3.11 \
  macosx_11_0_universal2 lxml==6.2.0 lxml-6.2.0-cp311-cp311-macosx_10_9_universal2.whl
fetch_wheel 32154f827e3e5af2a0098e3a59b5f30454a7334c55fb6dc8f36a5f20f133ccc1 3.11 \
  win_amd64 lxml==6.2.0 lxml-6.2.0-cp311-cp311-win_amd64.whl
