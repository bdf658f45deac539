#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/hostile/run.sh [SECONDS]
# The catalogue-driven hostile-input test (hostile.py): every function and
# aggregate of schema personalize, called with hostile values per argument
# type; one PASS/FAIL line each. Needs /usr/bin/python3 with psycopg 3
# (python3-psycopg, scripts/install-deps.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import psycopg' 2>/dev/null; then
    echo "FAIL hostile: /usr/bin/python3 has no psycopg (install python3-psycopg: scripts/install-deps.sh)"
    exit 1
fi
exec /usr/bin/python3 "$here/hostile.py" "$@"
