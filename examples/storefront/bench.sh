#!/usr/bin/env bash
# The storefront's load measurement (docs/BENCHMARKS.md): starts it on a
# throwaway cluster (serve.sh) and runs bench.js: autocannon, 20 concurrent
# clients on loopback, 30 s each on the product and the cart page, with
# 1,000 events/s posted meanwhile, then counts the events in shop.events.
# BENCH_SECONDS changes the duration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
make -s -C "$repo" -j2 PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "$(nproc) cores, $(node --version), PostgreSQL 15; started $(date -u +%FT%TZ)"
PGTZ=UTC "$repo/scripts/with-temp-cluster.sh" bash "$here/serve.sh" node "$here/bench.js" 2>&1 |
    grep -vE '^(Creating new PostgreSQL cluster|Dropping cluster|storefront listening)'
