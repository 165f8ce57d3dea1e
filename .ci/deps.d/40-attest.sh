#!/usr/bin/env bash
# Oracles for relkit-attest (crates/relkit/tests/attest_cli.rs): coreutils sha256sum/sha512sum,
# Debian's minisign, the openssl CLI, and the Python packages securesystemslib (DSSE from the
# in-toto project), in-toto, and sigstore (bundle models + `python -m sigstore verify --offline`).
# hyperfine is for bench/attest.sh. Missing = failure.
set -euo pipefail
apt-get install -y -qq coreutils minisign openssl python3 python3-pip hyperfine >/dev/null
pkgs=(sigstore==4.5.1 securesystemslib==1.6.0 in-toto==3.1.0)
python3 -m pip install -q "${pkgs[@]}" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "${pkgs[@]}"
for tool in sha256sum sha512sum minisign openssl; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
python3 -c "import securesystemslib, in_toto, sigstore_models, cryptography" \
  || { echo "missing oracle: python3 packages securesystemslib / in-toto / sigstore" >&2; exit 1; }
python3 -m sigstore --version >/dev/null || { echo "missing oracle: python3 -m sigstore" >&2; exit 1; }
