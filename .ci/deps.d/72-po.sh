#!/usr/bin/env bash
# GNU gettext is the oracle of relkit-audit's .po check (crates/relkit-audit/tests/po_msgmerge.rs):
# msgmerge makes updates that must be explained as such, msgfmt --check proves the tampered
# files are valid PO and msgfmt --statistics counts entries as relkit does.
set -euo pipefail
apt-get install -y -qq gettext >/dev/null
for tool in msgmerge msgfmt; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
