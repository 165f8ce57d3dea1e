#!/usr/bin/env bash
# Oracle for relkit-ident: the PyPI package `cpe` (NISTIR 7695/7696 reference implementation
# in Python), used by crates/relkit-ident/tests/cpe_oracle.rs. Missing = failure.
set -euo pipefail
python3 -m pip install -q cpe==1.3.1 2>/dev/null \
  || python3 -m pip install -q --break-system-packages cpe==1.3.1
python3 -c "import cpe" || { echo "missing oracle: python3 package cpe" >&2; exit 1; }
