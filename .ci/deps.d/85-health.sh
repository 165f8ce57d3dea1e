#!/usr/bin/env bash
# relkit health: Chromium renders the HTML report (screenshot, no console error), gpg reads the
# xz tag signatures as the oracle of relkit's OpenPGP issuer parser, git builds the synthetic
# repository and a shallow clone and lists the changes the history pass must see; lz4 writes
# the .lz4 Packages index apt keeps in /var/lib/apt/lists.
set -euo pipefail
apt-get install -y -qq chromium gnupg git lz4 xz-utils >/dev/null
for tool in chromium gpg git lz4 xz; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
