#!/usr/bin/env bash
# relkit serve --vuln-db (crates/relkit/tests/it/cli_serve_watch.rs, cli_serve_webhooks.rs):
# the Atom feed is checked by feedparser (PyPI, bozo == 0, version atom10) and xmllint
# (well-formedness); the vulnerability pages are rendered and screenshot by headless Chromium
# (Debian; 80-serve.sh installs it too, this is a no-op then); webhook signatures are checked
# with Python's own hmac module (standard library).
set -euo pipefail
apt-get install -y -qq libxml2-utils chromium >/dev/null
python3 -m pip install -q feedparser==6.0.11 2>/dev/null \
  || python3 -m pip install -q --break-system-packages feedparser==6.0.11
command -v xmllint >/dev/null || { echo "missing oracle: xmllint" >&2; exit 1; }
command -v chromium >/dev/null || { echo "missing oracle: chromium" >&2; exit 1; }
python3 -c 'import feedparser, hmac, hashlib' || { echo "missing oracle: feedparser" >&2; exit 1; }
