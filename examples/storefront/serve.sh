#!/usr/bin/env bash
# Inside a throwaway cluster (scripts/with-temp-cluster.sh): loads setup.sql,
# starts the storefront, and either waits for it (no arguments: until
# Ctrl-C) or runs the given command against it and stops it afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
echo "Loading the demo shop and refreshing the pipeline (about a minute) ..."
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -f "$here/setup.sql" >"${SETUP_LOG:-/dev/null}"
export STOREFRONT_PORT=${STOREFRONT_PORT:-$((30000 + RANDOM % 20000))}
node "$here/server.js" &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$STOREFRONT_PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done
export STOREFRONT_URL="http://127.0.0.1:$STOREFRONT_PORT"
if [ $# -eq 0 ]; then
    echo "The storefront is at $STOREFRONT_URL/ (sign in as e.g. customer 42; /insights for the marketer). Ctrl-C stops it and removes the cluster."
    wait "$node_pid"
else
    "$@"
fi
