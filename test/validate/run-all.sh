#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/validate/run-all.sh SHARED_DATA_DIR
# Runs every validation script beside this one. Each prints lines
# "PASS name: ..." / "FAIL name: ..." / "SKIP name: ...".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:?usage: run-all.sh SHARED_DATA_DIR}
export PGTZ=UTC
psql -qX -c "CREATE EXTENSION IF NOT EXISTS pg_personalize" >/dev/null
for script in "$here"/[a-z]*.sh; do
    [ "$(basename "$script")" = run-all.sh ] && continue
    bash "$script" "$data" || echo "FAIL $(basename "$script" .sh): exited with status $?"
done
