#!/usr/bin/env bash
# The demo: installs missing build dependencies, builds pg_personalize, starts
# a throwaway PostgreSQL 15, loads the demo shop (10k customers) and prints
# what the extension computes from it. Leaves nothing running.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/install-deps.sh
echo "Building pg_personalize ..."
make -s -j "$(nproc 2>/dev/null || echo 2)" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
# pg_virtualenv runs the command from /, so pass the showcase as a path.
PGTZ=UTC scripts/with-temp-cluster.sh \
    psql -X -q -v ON_ERROR_STOP=1 -P pager=off -f "$repo/scripts/demo.sql" 2>&1 |
    grep -v -E '^(Creating new PostgreSQL cluster|Dropping cluster)'
