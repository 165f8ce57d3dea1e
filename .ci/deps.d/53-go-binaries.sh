#!/usr/bin/env bash
# Real Go executables for relkit-catalog's build-info reader (crates/relkit-catalog/tests/it/
# go_binary.rs): esbuild 0.13.15 (Go 1.17, the pre-1.18 pointer layout) as ELF, PE and Mach-O
# from npm, and shfmt 4.2.0 (Go 1.2x, inline layout) as PE and arm64 Mach-O from PyPI's
# shfmt-py wheels. Pinned by SHA-256; kept in target/relkit-data/ (not committed: ~20 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=target/relkit-data
mkdir -p "$data"
check() { echo "$1  $data/$2" | sha256sum -c --status 2>/dev/null; }
fetch_npm() { # sha256 package version
  local file="$2-$3.tgz"
  check "$1" "$file" && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$2@$3" >/dev/null)
  mv "$tmp/$file" "$data/$file"; rm -rf "$tmp"
  echo "$1  $data/$file" | sha256sum -c --quiet
}
fetch_wheel() { # sha256 platform file
  check "$1" "$3" && return 0
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --platform "$2" -d "$tmp" "shfmt-py==4.2.0"
  mv "$tmp/$3" "$data/$3"; rm -rf "$tmp"
  echo "$1  $data/$3" | sha256sum -c --quiet
}
fetch_npm 4441c72e5a251f9d7c83fc1949f74c46d92ddeff8ca67eb7f3050dc6401e9f03 esbuild-linux-64 0.13.15
fetch_npm 4375a3c8fc77d1ca5ecdc067d96f34442d7b593371d3670d2b2641f44f3bf4b1 esbuild-windows-64 0.13.15
fetch_npm 56db352b45ac183afb7add3387d08f94cd3cd4ccf103ce3637b44c7863b15c80 esbuild-darwin-64 0.13.15
fetch_wheel 566f46c036cb475ac84ac952d83122b67c9557418c24b04628c5782f9f57eccf win_amd64 \
  shfmt_py-4.2.0-py2.py3-none-win_amd64.whl
fetch_wheel 7b7fa81b120fdccebbe60b9c3411ce1b549fa2828f2809e8fa5e231a9bac65dd macosx_11_0_arm64 \
  shfmt_py-4.2.0-py2.py3-none-macosx_11_0_arm64.whl
