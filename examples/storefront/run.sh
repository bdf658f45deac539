#!/usr/bin/env bash
# Starts the storefront on a throwaway PostgreSQL cluster with the demo shop
# loaded and the pipeline configured and refreshed; prints the URL. Ctrl-C
# stops the server and removes the cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
command -v node >/dev/null || { echo "run.sh: node (Node.js 20) is needed: apt-get install -y nodejs npm" >&2; exit 1; }
echo "Building pg_personalize ..."
make -s -C "$repo" -j2 PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
[ -d "$here/node_modules/pg" ] || (cd "$here" && npm ci --no-audit --no-fund)
PGTZ=UTC "$repo/scripts/with-temp-cluster.sh" bash "$here/serve.sh" "$@"
