#!/usr/bin/env bash
# Test of the campaign export: on a throwaway cluster with the storefront's
# database (examples/storefront/setup.sql), runs export.py and checks its
# JSON lines against SQL (check.py), plus its argument errors. One PASS/FAIL
# line per check.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
/usr/bin/python3 -c 'import psycopg' 2>/dev/null || {
    sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y python3-psycopg >/dev/null 2>&1 || { echo "SKIP campaign export: python3-psycopg cannot be installed"; exit 0; }
}
make -s -C "$repo" -j2 PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null || { echo "FAIL build"; exit 1; }
out=$(mktemp -d -t campaign.XXXXXX)
chmod 777 "$out"
trap 'rm -rf "$out"' EXIT
PGTZ=UTC "$repo/scripts/with-temp-cluster.sh" bash -c '
    set -uo pipefail
    psql -X -q -v ON_ERROR_STOP=1 -f "$1/../storefront/setup.sql" >/dev/null || { echo "FAIL setup"; exit 1; }
    if /usr/bin/python3 "$1/export.py" --as-of 2026-01-01 --out "$2/campaign.jsonl" 2>"$2/err"; then
        echo "PASS campaign: export.py ran ($(cat "$2/err"))"
    else
        echo "FAIL campaign: export.py failed: $(tail -3 "$2/err")"; exit 1
    fi
    /usr/bin/python3 "$1/check.py" "$2/campaign.jsonl" 2026-01-01
    if /usr/bin/python3 "$1/export.py" --suggestions 0 >/dev/null 2>"$2/err"; then
        echo "FAIL campaign: --suggestions 0 accepted"
    else
        grep -q -- "--suggestions must be between 1 and 50" "$2/err" && echo "PASS campaign: --suggestions 0 is refused with a message" || echo "FAIL campaign: --suggestions 0: $(cat "$2/err")"
    fi
' campaign "$here" "$out" 2>&1 | grep -E '^(PASS|FAIL|SKIP) '
