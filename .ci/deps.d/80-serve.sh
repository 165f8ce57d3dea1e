#!/usr/bin/env bash
# relkit serve: PostgreSQL (the second metadata backend; the same integration tests run on it),
# Chromium (headless screenshot + link check of the HTML pages), nginx + wrk for bench/serve.sh.
# Starts the cluster here: processes started by a deps script keep running for the tests.
set -euo pipefail
apt-get install -y -qq postgresql chromium nginx wrk >/dev/null
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >/dev/null
fi
pg_ctlcluster "$ver" main start 2>/dev/null || pg_ctlcluster "$ver" main status >/dev/null
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q && break
  sleep 1
done
runuser -u postgres -- psql -qv ON_ERROR_STOP=1 <<'SQL'
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relkit') THEN
    CREATE ROLE relkit LOGIN CREATEDB PASSWORD 'relkit';
  END IF;
END$$;
GRANT pg_signal_backend TO relkit;
SQL
runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'relkit_test'" | grep -q 1 \
  || runuser -u postgres -- createdb -O relkit relkit_test
PGPASSWORD=relkit psql -h 127.0.0.1 -U relkit -d relkit_test -qtAc 'SELECT 1' >/dev/null
for tool in chromium nginx wrk; do
  command -v "$tool" >/dev/null || { echo "missing oracle: $tool" >&2; exit 1; }
done
