#!/usr/bin/env bash
# Oracles of `relkit sbom verify` (crates/relkit/tests/cli_sbom_verify.rs): the SARIF
# Multitool (npm @microsoft/sarif-multitool, `sarif-multitool validate`) checks the SARIF
# report against the SARIF 2.1.0 schema and rules; pyspdxtools (PyPI spdx-tools, installed by
# 50-sbom.sh) checks the SBOM written by --fix. The tests also need CPython's official
# tarball from 15-upstream-data.sh. crates/relkit-truth/tests/system_headers.rs reads the
# versions of Debian's -dev headers with the source rules and compares them with dpkg's
# package versions (the oracle). Missing oracle = failure.
set -euo pipefail
apt-get install -y -qq libexpat1-dev zlib1g-dev libsqlite3-dev libssl-dev libffi-dev \
  liblzma-dev tcl8.6-dev tk8.6-dev >/dev/null
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
npm install -g --silent @microsoft/sarif-multitool@5.7.0 >/dev/null
# npm may skip the package's postinstall (chmod of the self-contained binary): do it here.
bin=$(npm root -g)/@microsoft/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
[ -f "$bin" ] && chmod u+x "$bin"
command -v sarif-multitool >/dev/null || { echo "missing oracle: sarif-multitool" >&2; exit 1; }
command -v pyspdxtools >/dev/null || { echo "missing oracle: pyspdxtools (50-sbom.sh)" >&2; exit 1; }
