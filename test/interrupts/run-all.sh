#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/interrupts/run-all.sh
# Checks that need two sessions, which pg_regress cannot express. Each check
# prints "PASS name: ..." or "FAIL name: ...".
set -uo pipefail
psql -qX -c "CREATE EXTENSION IF NOT EXISTS pg_personalize" >/dev/null

# pg_cancel_backend() from another session stops a call that spends its time
# inside one C++ function (generating 10M order lines) promptly, with
# PostgreSQL's own message; the backend stays usable.
check_cancel() {
    local name=pg_cancel_backend out pid started elapsed
    out=$(mktemp)
    psql -qXAt -c "SET application_name = 'cancel_me'" \
         -c "SELECT count(*) FROM personalize.demo_order_lines('bench', 1)" \
         -c "SELECT 'usable after cancel: ' || count(*) FROM personalize.demo_customers('tiny', 1)" \
         >"$out" 2>&1 &
    local client=$!
    for _ in $(seq 50); do  # wait until the call is running
        pid=$(psql -qXAt -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'cancel_me' AND state = 'active' AND query LIKE '%demo_order_lines%'")
        [ -n "$pid" ] && break
        sleep 0.1
    done
    sleep 1
    started=$(date +%s.%N)
    psql -qXAt -c "SELECT pg_cancel_backend($pid)" >/dev/null
    wait $client
    elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    if grep -q "canceling statement due to user request" "$out" && grep -q "usable after cancel: [1-9]" "$out" &&
       awk -v e="$elapsed" 'BEGIN { exit !(e < 5) }'; then
        echo "PASS $name: canceled after ${elapsed}s with PostgreSQL's message; the session went on"
    else
        echo "FAIL $name: after ${elapsed}s, output: $(tr '\n' ' ' <"$out")"
    fi
    rm -f "$out"
}

check_cancel
