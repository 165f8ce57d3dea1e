#!/usr/bin/env bash
# cdxgen (npm @cyclonedx/cdxgen, pinned), the second oracle of relkit's catalogers
# (crates/relkit/tests/it/catalog_oracles.rs: every package cdxgen lists from a lockfile is in
# relkit's SBOM with the same PURL) and the peer of bench/catalog.sh. Run offline by the tests
# (--no-install-deps, FETCH_LICENSE=false). Missing oracle = failure.
set -euo pipefail
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
if ! cdxgen --version 2>/dev/null | grep -q '12\.8\.4'; then
  npm install -g --silent --no-audit --no-fund --ignore-scripts @cyclonedx/cdxgen@12.8.4 >/dev/null
fi
cdxgen --version >/dev/null || { echo "missing oracle: cdxgen" >&2; exit 1; }
