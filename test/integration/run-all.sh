#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/integration/run-all.sh [CHECK...]
# Checks that need two sessions, a scheduler or the wall clock, which
# pg_regress cannot express. Each check prints "PASS name: ...", "FAIL name: ..." or "SKIP ...".
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

# The documented refresh recipe, scheduled with pg_cron: a job refreshes the
# rules materialized view concurrently (pg_cron 1.4 schedules by the minute,
# so this waits for the next minute to start).
check_pg_cron_refresh() {
    local name=pg_cron_refresh status
    if [ "$(psql -qXAt -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'")" = 0 ] ||
       ! psql -qXAt -c "SHOW shared_preload_libraries" | grep -q pg_cron; then
        echo "SKIP $name: pg_cron is not installed and preloaded"
        return
    fi
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION pg_cron;
SELECT personalize.load_demo_shop('cron_shop', 'tiny', 1);
CREATE MATERIALIZED VIEW cron_shop.product_rules AS
SELECT r.* FROM personalize.association_rules(
    (SELECT personalize.baskets(order_id, product_id) FROM cron_shop.order_lines), min_count => 5, min_len => 1) r;
CREATE UNIQUE INDEX ON cron_shop.product_rules (antecedent, consequent);
SELECT cron.schedule('refresh-product-rules', '* * * * *',
                     'REFRESH MATERIALIZED VIEW CONCURRENTLY cron_shop.product_rules');
SQL
    for _ in $(seq 80); do
        status=$(psql -qXAt -c "SELECT status FROM cron.job_run_details ORDER BY runid DESC LIMIT 1")
        case "$status" in succeeded|failed) break ;; esac
        sleep 1
    done
    if [ "$status" = succeeded ]; then
        echo "PASS $name: pg_cron ran REFRESH MATERIALIZED VIEW CONCURRENTLY on the rules view"
    else
        echo "FAIL $name: last run status '${status:-none}': $(psql -qXAt -c "SELECT return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 1")"
    fi
    psql -qX -c "SELECT cron.unschedule('refresh-product-rules')" -c "DROP SCHEMA cron_shop CASCADE" >/dev/null
}

# Frequency caps hold under concurrency: 8 clients decide for the same
# customer at once, 25 times each, for an offer capped at once a day; the
# log must have exactly one row. Under REPEATABLE READ a racing decision
# fails with a serialization error (pgbench retries it), never exceeds the cap.
check_concurrent_caps() {
    local name=concurrent_caps script logged level
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT personalize.load_demo_shop('caps_shop', 'tiny', 1);
SELECT personalize.configure_offer_context('caps_shop.orders');
INSERT INTO personalize.offers (offer_key, rule, percent_off, channels, cap_count, cap_interval)
VALUES ('once_a_day', 'cart.total >= 1 GBP', 5, '{web}', 1, '1 day');
SQL
    script=$(mktemp)
    echo "SELECT count(*) FROM personalize.decide_offer(424242, '{\"total\": 9.99}', '{}', 'web');" >"$script"
    for level in "read committed" "repeatable read"; do
        psql -qX -c "DELETE FROM personalize.offer_log" >/dev/null
        PGOPTIONS="-c default_transaction_isolation=${level// /\\ }" \
            pgbench -n -c 8 -j 8 -t 25 --max-tries=100 -f "$script" >/dev/null 2>&1
        logged=$(psql -qXAt -c "SELECT count(*) FROM personalize.offer_log WHERE customer_id = 424242")
        if [ "$logged" = 1 ]; then
            echo "PASS $name ($level): 8 clients x 25 concurrent decisions logged the capped offer once"
        else
            echo "FAIL $name ($level): the offer capped at 1 was logged $logged times"
        fi
    done
    rm -f "$script"
    psql -qX -c "DELETE FROM personalize.offers" -c "DELETE FROM personalize.offer_log" \
         -c "DELETE FROM personalize.offer_context_source" -c "DROP SCHEMA caps_shop CASCADE" >/dev/null
}

# statement_timeout = 1s stops each long-running function inside its own C++
# loops: every call below runs for many seconds uncancelled, and must end with
# 57014 within 2.5 s of its start (1 s of slack over the issue's 1 s after the timeout, for a loaded CI machine). The data is made first (not timed); each
# query reads it from a table, so the timeout fires inside the function.
check_timeouts() {
    local name out started elapsed label query
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET personalize.memory_limit = '4GB';
CREATE SCHEMA cancel_data;
CREATE TABLE cancel_data.sim AS SELECT *, 10 + random() * 90 AS monetary
    FROM personalize.simulate_customers('bgnbd', ARRAY[0.5, 4, 0.8, 2.5], 1000000, 1, 30, 40);
CREATE TABLE cancel_data.models AS
    SELECT (SELECT personalize.bgnbd_fit(frequency, recency, age) FROM cancel_data.sim WHERE customer_id <= 10000) AS m,
           (SELECT personalize.gamma_gamma_fit(frequency, monetary) FROM cancel_data.sim
             WHERE customer_id <= 10000 AND frequency > 0) AS s;
CREATE TABLE cancel_data.lists (rec bigint[], rel bigint[]);
INSERT INTO cancel_data.lists SELECT (SELECT array_agg(g) FROM generate_series(1, 2000000) g),
                                     (SELECT array_agg(g) FROM generate_series(1000001, 3000000) g);
CREATE TABLE cancel_data.labelled AS SELECT g % 2 = 0 AS label, ARRAY(SELECT random() FROM generate_series(1, 100) WHERE g > 0) AS f
    FROM generate_series(1, 200000) g;
CREATE TABLE cancel_data.interactions AS
    SELECT (random() * 100000)::bigint AS c, (random() * 20000)::bigint AS i FROM generate_series(1, 1000000);
CREATE TABLE cancel_data.points AS
    SELECT ARRAY[random(), random(), random(), random(), random(), random(), random(), random()] AS p
    FROM generate_series(1, 500000);
CREATE TABLE cancel_data.lines AS SELECT b, (random() * 2000)::bigint AS item FROM generate_series(1, 500000) b, generate_series(1, 8);
CREATE TABLE cancel_data.baskets AS SELECT personalize.baskets(b, item) AS v FROM cancel_data.lines;
SQL
    while IFS='|' read -r label query; do
        [ -z "$label" ] && continue
        name="statement_timeout $label"
        out=$(mktemp)
        started=$(date +%s.%N)
        psql -qXAt -c "SET personalize.memory_limit = '4GB'" -c "SET statement_timeout = '1s'" -c "$query" >"$out" 2>&1
        elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        if grep -q "canceling statement due to statement timeout" "$out" && awk -v e="$elapsed" 'BEGIN { exit !(e < 2.5) }'; then
            echo "PASS $name: 57014 within 2.5 s"
        elif grep -q "canceling statement due to statement timeout" "$out"; then
            echo "FAIL $name: 57014, but later than 2.5 s after the start"
        else
            echo "FAIL $name: no 57014: $(head -c 300 "$out" | tr '\n' ' ')"
        fi
        rm -f "$out"
    done <<'CALLS'
simulate_customers|SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[0.5, 1, 0.5, 3], 5000000, 1, 30, 40)
simulate_customers (purchase loop)|SELECT count(*) FROM personalize.simulate_customers('bgnbd', ARRAY[1e6, 1e-6, 1e-6, 1e6], 10, 1, 1e6, 1e6)
customer_lifetime_value_interval|SELECT personalize.customer_lifetime_value_interval(m, s, 2, 30, 38, 20, 100000, draws => 100000) FROM cancel_data.models
customer_lifetime_value|SELECT personalize.customer_lifetime_value(m, s, 2, 30, 38, 20, 100000) FROM cancel_data.models, generate_series(1, 100)
ranking_metrics|SELECT sum((personalize.ranking_metrics(rec, rel, 2147483647)).ndcg_at_k) FROM cancel_data.lists, generate_series(1, 1000)
bgnbd_fit|SELECT personalize.bgnbd_fit(frequency, recency, age) IS NULL FROM cancel_data.sim
pareto_nbd_fit|SELECT personalize.pareto_nbd_fit(frequency, recency, age) IS NULL FROM cancel_data.sim
gamma_gamma_fit|SELECT personalize.gamma_gamma_fit(frequency, monetary + g * 1e-3) IS NULL FROM cancel_data.sim, generate_series(1, 10) g WHERE frequency > 0
logistic_fit|SELECT personalize.logistic_fit(label, f) IS NULL FROM cancel_data.labelled
als_fit|SELECT personalize.als_fit(c, i, 1.0, 64) IS NULL FROM cancel_data.interactions
kmeans|SELECT personalize.kmeans(p, 200, 1) IS NULL FROM cancel_data.points
baskets|SELECT personalize.baskets(b, item) IS NULL FROM cancel_data.lines, generate_series(1, 3)
association_rules|SELECT count(*) FROM cancel_data.baskets, personalize.association_rules(v, min_support => 0.00002, max_len => 4)
CALLS
    psql -qX -c "DROP SCHEMA cancel_data CASCADE" >/dev/null
}

# The pipeline (docs/pipeline.md) on a configured demo shop.
pipeline_setup() {  # schema, size
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT personalize.load_demo_shop('$1', '$2', 1);
SELECT personalize.configure_shop('$1.orders', '$1.order_lines', '$1.customers', '$1.products', '$1.sessions',
                                  settings => '{"as_of": "2026-01-01", "rules_min_count": 5}');
SQL
}
pipeline_teardown() {  # schema
    psql -qX -c "DELETE FROM personalize.shop_settings" -c "DELETE FROM personalize.shop_source" \
         -c "DELETE FROM personalize.offer_context_source" -c "DELETE FROM personalize.refresh_runs" \
         -c "DELETE FROM personalize.refresh_state" -c "DELETE FROM personalize.refresh_fingerprints" \
         -c "DROP SCHEMA $1 CASCADE" >/dev/null
}
# The refresh lock of this database is held (by a refresh in progress).
refresh_lock_pid() {
    psql -qXAt -c "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
                   AND ((l.classid::bigint << 32) | l.objid::bigint) = personalize.refresh_lock_key()"
}

# A refresh in progress: readers see the previous models whole, a second
# refresh is refused with a clear error naming the running one, and the
# next refresh after it commits succeeds.
check_pipeline_concurrent_refresh() {
    local name=pipeline_concurrent_refresh out pid second reader after
    pipeline_setup pipe_conc tiny
    psql -qXAt -c "SELECT count(*) FROM personalize.refresh()" >/dev/null
    out=$(mktemp)
    psql -qXAt -c "BEGIN" -c "SELECT count(*) FROM personalize.refresh()" -c "SELECT pg_sleep(4)" -c "COMMIT" \
        >"$out" 2>&1 &
    local client=$!
    for _ in $(seq 100); do pid=$(refresh_lock_pid); [ -n "$pid" ] && break; sleep 0.1; done
    second=$(psql -qXAt -c "SELECT count(*) FROM personalize.refresh()" 2>&1)
    # Every profile a reader sees comes from the committed refresh (one refreshed_at).
    reader=$(psql -qXAt -c "SELECT count(DISTINCT refreshed_at) || ' ' || count(*) FROM personalize.customer_profiles")
    wait $client
    after=$(psql -qXAt -c "SELECT count(*) FROM personalize.refresh()" 2>&1)
    if [ -n "$pid" ] && echo "$second" | grep -q "another refresh is running (backend $pid)" &&
       [ "$reader" = "1 300" ] && [ "$after" = 11 ]; then
        echo "PASS $name: a second refresh was refused naming backend $pid; readers saw one whole model; the next refresh ran"
    else
        echo "FAIL $name: lock holder '${pid}', second: $second; reader: $reader; after: $after; first: $(tr '\n' ' ' <"$out")"
    fi
    rm -f "$out"
    pipeline_teardown pipe_conc
}

# pg_cancel_backend() during CALL run_refresh(): the run is recorded as
# failed with PostgreSQL's message, the previous models keep serving, and the
# next refresh succeeds.
check_pipeline_cancel() {
    local name=pipeline_cancel out pid before after logged next
    pipeline_setup pipe_cancel demo
    psql -qXAt -c "SELECT count(*) FROM personalize.refresh(ARRAY['customer_profiles'])" >/dev/null
    before=$(psql -qXAt -c "SELECT max(refreshed_at) FROM personalize.customer_profiles")
    out=$(mktemp)
    psql -qXAt -c "CALL personalize.run_refresh()" >"$out" 2>&1 &
    local client=$!
    for _ in $(seq 100); do pid=$(refresh_lock_pid); [ -n "$pid" ] && break; sleep 0.1; done
    sleep 1
    psql -qXAt -c "SELECT pg_cancel_backend($pid)" >/dev/null
    wait $client
    after=$(psql -qXAt -c "SELECT max(refreshed_at) FROM personalize.customer_profiles")
    logged=$(psql -qXAt -c "SELECT status || ' ' || (error ->> 'sqlstate') FROM personalize.refresh_runs ORDER BY run_id DESC LIMIT 1")
    next=$(psql -qXAt -c "SELECT count(*) FROM personalize.refresh(ARRAY['product_rules'])" 2>&1)
    if grep -q "canceling statement due to user request" "$out" && [ "$before" = "$after" ] &&
       [ "$logged" = "failed 57014" ] && [ "$next" = 1 ]; then
        echo "PASS $name: canceled, logged as failed (57014), the previous profiles kept serving, the next refresh ran"
    else
        echo "FAIL $name: output: $(tr '\n' ' ' <"$out"); profiles $before -> $after; logged: $logged; next: $next"
    fi
    rm -f "$out"
    pipeline_teardown pipe_cancel
}

# A server crash in the middle of CALL run_refresh() (its backend killed with
# SIGKILL: the postmaster ends every backend and recovers): after recovery
# the previous models are there, the run's row stays 'running' with a backend
# that no longer exists, and the next refresh succeeds.
check_pipeline_crash() {
    local name=pipeline_crash out pid before after logged next
    pipeline_setup pipe_crash demo
    psql -qXAt -c "SELECT count(*) FROM personalize.refresh(ARRAY['customer_profiles'])" >/dev/null
    before=$(psql -qXAt -c "SELECT max(refreshed_at) || ' ' || count(*) FROM personalize.customer_profiles")
    out=$(mktemp)
    psql -qXAt -c "CALL personalize.run_refresh()" >"$out" 2>&1 &
    local client=$!
    for _ in $(seq 100); do pid=$(refresh_lock_pid); [ -n "$pid" ] && break; sleep 0.1; done
    sleep 1
    [ -n "$pid" ] && kill -KILL "$pid"
    wait $client
    for _ in $(seq 150); do psql -qXAt -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
    after=$(psql -qXAt -c "SELECT max(refreshed_at) || ' ' || count(*) FROM personalize.customer_profiles")
    logged=$(psql -qXAt -c "SELECT r.status || ' ' || (r.finished_at IS NULL)::text || ' '
                                   || EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.backend_pid)::text
                            FROM personalize.refresh_runs r ORDER BY r.run_id DESC LIMIT 1")
    next=$(psql -qXAt -c "SELECT count(*) FROM personalize.refresh()" 2>&1)
    if [ -n "$pid" ] && [ "$before" = "$after" ] && [ "$logged" = "running true false" ] && [ "$next" = 11 ]; then
        echo "PASS $name: backend $pid killed mid-refresh; after recovery the previous profiles served, the run stayed 'running' with its backend gone, the next refresh ran"
    else
        echo "FAIL $name: killed '${pid}'; profiles $before -> $after; logged: $logged; next: $next; output: $(tr '\n' ' ' <"$out")"
    fi
    rm -f "$out"
    pipeline_teardown pipe_crash
}

# schedule_refresh() through pg_cron: the job runs CALL personalize.run_refresh(),
# which records a succeeded run; unschedule_refresh() removes it.
check_pipeline_schedule() {
    local name=pipeline_schedule status runs removed
    if [ "$(psql -qXAt -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'")" = 0 ] ||
       ! psql -qXAt -c "SHOW shared_preload_libraries" | grep -q pg_cron; then
        echo "SKIP $name: pg_cron is not installed and preloaded"
        return
    fi
    pipeline_setup pipe_cron tiny
    psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
         -c "SELECT personalize.schedule_refresh('* * * * *')" >/dev/null
    for _ in $(seq 80); do
        status=$(psql -qXAt -c "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                WHERE j.jobname = 'pg_personalize_refresh' ORDER BY d.runid DESC LIMIT 1")
        case "$status" in succeeded|failed) break ;; esac
        sleep 1
    done
    runs=$(psql -qXAt -c "SELECT count(*) FROM personalize.refresh_runs WHERE status = 'succeeded' AND jsonb_array_length(stages) = 11")
    removed=$(psql -qXAt -c "SELECT personalize.unschedule_refresh()")
    if [ "$status" = succeeded ] && [ "$runs" -ge 1 ] && [ "$removed" = t ]; then
        echo "PASS $name: pg_cron ran CALL personalize.run_refresh(); refresh_runs recorded it; unschedule_refresh() removed the job"
    else
        echo "FAIL $name: job status '${status:-none}' ($(psql -qXAt -c "SELECT d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'pg_personalize_refresh' ORDER BY d.runid DESC LIMIT 1")), succeeded runs $runs, unscheduled $removed"
    fi
    pipeline_teardown pipe_cron
}

# Arguments: run only the named checks (e.g. check_timeouts).
for check in "${@:-check_cancel check_timeouts check_pg_cron_refresh check_concurrent_caps check_pipeline_concurrent_refresh check_pipeline_cancel check_pipeline_crash check_pipeline_schedule}"; do
    for c in $check; do "$c"; done
done
