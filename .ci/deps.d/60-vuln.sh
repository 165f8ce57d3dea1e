#!/usr/bin/env bash
# Oracles for relkit-vuln (crates/relkit/tests/cli_scan.rs): cyclonedx-python-lib validates the
# CycloneDX 1.6 VEX output against its JSON schema; Microsoft's SARIF multitool (npm, self-contained
# linux binary) validates the SARIF 2.1.0 output. sqlite3 is the query baseline of bench/scan.sh.
# Missing = failure.
set -euo pipefail
apt-get install -y -qq python3 python3-pip sqlite3 >/dev/null
# The machine may bring its own Node.js, which Debian's npm package conflicts with.
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
python3 -m pip install -q 'cyclonedx-python-lib[json-validation]==11.12.0' 2>/dev/null \
  || python3 -m pip install -q --break-system-packages 'cyclonedx-python-lib[json-validation]==11.12.0'
npm install -g --silent @microsoft/sarif-multitool@5.7.0
# npm may skip the package's postinstall `chmod u+x`; do it here.
find "$(npm root -g)/@microsoft" -name Sarif.Multitool -type f -exec chmod +x {} + 2>/dev/null || true
python3 -c "from cyclonedx.validation.json import JsonStrictValidator" \
  || { echo "missing oracle: cyclonedx-python-lib" >&2; exit 1; }
command -v sarif-multitool >/dev/null || { echo "missing oracle: sarif-multitool" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "missing: sqlite3" >&2; exit 1; }
