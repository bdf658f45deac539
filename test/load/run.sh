#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/load/run.sh [SECONDS]
# Load and fault test, about SECONDS (default 90) in all, on a database of its
# own (load_test) with the tiny demo shop:
#   load      pgbench, 4 clients: decide_offer, cart_suggestions, suggestions and
#             als_recommend, while a refresher rebuilds the models again and
#             again (REFRESH MATERIALIZED VIEW CONCURRENTLY of the rules, the
#             similarity table replaced in one transaction, a new ALS model);
#             4 witness clients call decide_offer for customers of their own
#             and keep every decision they were shown;
#   fault     kill -9 of the refresher's backend in the middle of an ALS
#             refresh: PostgreSQL ends every connection and recovers; the
#             witnesses reconnect and go on;
#   reconcile every decision a witness saw is in offer_log, and offer_log holds
#             nothing else for them but what was in flight when the crash
#             cut a connection; frequency caps held; the model tables are
#             what their last committed refresh wrote (amcheck on their
#             indexes, equal to a fresh computation); live_cpp_objects() is 0
#             after serving and after a cancelled fit.
# Prints "PASS load NAME: ..." or "FAIL load NAME: ..." per check.
set -uo pipefail
total=${1:-90}
load_seconds=$(( total * 45 / 100 ))
after_crash_seconds=$(( total * 15 / 100 ))
work=$(mktemp -d -t pg_personalize_load.XXXXXX)
chmod 755 "$work"
cleanup() {
    touch "$work/stop"
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
pgbench=/usr/lib/postgresql/15/bin/pgbench
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
pass() { echo "PASS load $*"; }
fail() { echo "FAIL load $*"; }

# --- setup -------------------------------------------------------------------
q -d postgres -c "DROP DATABASE IF EXISTS load_test" -c "CREATE DATABASE load_test" >/dev/null || exit 1
export PGDATABASE=load_test
if ! q >"$work/setup.log" 2>&1 <<'SQL'; then
SET client_min_messages = warning;
CREATE EXTENSION pg_personalize;
CREATE EXTENSION amcheck;
SELECT count(*) FROM personalize.load_demo_shop('load', 'tiny', 1);
SELECT personalize.configure_offer_context('load.orders', 'load.customers');
-- One capped offer and one uncapped with a holdout group; both stack.
INSERT INTO personalize.offers (offer_key, rule, percent_off, stacking, priority, cap_count, cap_interval)
VALUES ('load_capped', 'cart.total >= 30 GBP', 5, 'stackable', 10, 3, '1 day');
INSERT INTO personalize.offers (offer_key, rule, free_shipping, stacking, priority, holdout_share, experiment_key)
VALUES ('load_open', 'cart.total >= 30 GBP', true, 'stackable', 20, 0.2, 'load_open');
CREATE VIEW load.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM load.orders o JOIN load.order_lines l USING (order_id) WHERE o.status = 'completed';
-- The models, as the refresh recipes of docs/complements.md and docs/suggestions.md build them.
CREATE MATERIALIZED VIEW load.rules AS
SELECT * FROM personalize.association_rules(
    (SELECT personalize.baskets(l.order_id, l.product_id) FROM load.order_lines l), min_count => 5, min_len => 1);
CREATE UNIQUE INDEX rules_key ON load.rules (antecedent, consequent);
CREATE TABLE load.sims AS
SELECT * FROM personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM load.history),
                                            'cosine', 10, 2);
CREATE INDEX sims_item ON load.sims (item);
CREATE TABLE load.models (name text PRIMARY KEY, model personalize.als_model NOT NULL, refreshes bigint NOT NULL);
INSERT INTO load.models
SELECT 'als', personalize.als_fit(customer_id, item_id, 1.0::float8, 16, 10, 0.05, 5.0, 42), 0 FROM (SELECT DISTINCT customer_id, item_id FROM load.history) h;
SQL
    fail "setup: $(tail -5 "$work/setup.log" | tr '\n' ' ')"
    exit 0
fi
customers=$(q -c "SELECT max(customer_id) FROM load.customers")
items=$(q -c "SELECT max(product_id) FROM load.products")
witnesses=4
per_witness=10  # witness w decides for customers 10(w-1)+1 .. 10w; pgbench for the others

# --- the refresher -------------------------------------------------------------
# The ALS refresh is the slow step (a few seconds): the fault hits it.
cat >"$work/refresh.sql" <<'SQL'
REFRESH MATERIALIZED VIEW CONCURRENTLY load.rules;
BEGIN;
DELETE FROM load.sims;
INSERT INTO load.sims SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM load.history), 'cosine', 10, 2);
COMMIT;
UPDATE load.models SET model = (SELECT personalize.als_fit(customer_id, item_id, 1.0::float8, 64, 150, 0.05, 5.0, 42)
                                FROM (SELECT DISTINCT customer_id, item_id FROM load.history) h),
                       refreshes = refreshes + 1
WHERE name = 'als';
SQL
refresher() {
    while [ ! -f "$work/stop" ]; do
        if PGAPPNAME=load_refresh q -f "$work/refresh.sql" >>"$work/refresh.out" 2>>"$work/refresh.err"; then
            echo ok >>"$work/refresh.count"
        else
            echo failed >>"$work/refresh.count"
            sleep 0.5
        fi
    done
}

# --- the witnesses --------------------------------------------------------------
# Each psql run decides 200 times, one statement after the other, printing
# decision_id|customer|offer_key for every offer shown. A run cut by the crash
# exits non-zero; its last decision may be committed but unseen.
witness() {
    local w=$1 run=0 first=$(( (w - 1) * per_witness + 1 ))
    while [ ! -f "$work/stop" ]; do
        run=$((run + 1))
        for i in $(seq 200); do
            c=$(( first + (i % per_witness) ))
            echo "SELECT d.decision_id, $c, d.offer_key FROM personalize.decide_offer($c, '{\"total\": 45.00, \"items\": [3]}', '{}', 'web') d;"
            [ $((i % 10)) -eq 0 ] && echo "SELECT FROM pg_sleep(0.05);"  # a shop's pace, not a flood
        done | PGAPPNAME=load_witness psql -XAt -F '|' -v ON_ERROR_STOP=1 >>"$work/seen.$w" 2>"$work/witness.$w.$run.err"
        local rc=$?
        if [ $rc -ne 0 ]; then
            echo "$rc" >>"$work/witness.$w.failed"
            sleep 0.3
        else
            rm -f "$work/witness.$w.$run.err"
        fi
    done
}

# --- load --------------------------------------------------------------------
cat >"$work/decide.sql" <<EOF
\set c random($((witnesses * per_witness + 1)), $customers)
SELECT count(*) FROM personalize.decide_offer(:c, '{"total": 45.00, "items": [3]}', '{}', 'web');
EOF
cat >"$work/cart.sql" <<EOF
\set i random(1, $items)
\set j random(1, $items)
SELECT count(*) FROM personalize.cart_suggestions(ARRAY[:i, :j]::bigint[], 'load.rules', 5);
EOF
cat >"$work/suggest.sql" <<EOF
\set c random(1, $customers)
SELECT count(*) FROM personalize.suggestions(:c, 'load.history', 'load.sims', 5);
SELECT count(*) FROM load.models m, personalize.als_recommend(m.model, :c, 5) r WHERE m.name = 'als';
EOF

refresher & refresher_pid=$!
for w in $(seq $witnesses); do witness "$w" & done
started=$SECONDS
"$pgbench" -n -c 4 -j 2 -T "$load_seconds" -f "$work/decide.sql@5" -f "$work/cart.sql@3" -f "$work/suggest.sql@2" \
    >"$work/pgbench.out" 2>"$work/pgbench.err"
rc=$?
tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$work/pgbench.out")
failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$work/pgbench.out")
refreshes=$(grep -c ok "$work/refresh.count" 2>/dev/null || true)
if [ $rc -eq 0 ] && [ "${tx:-0}" -gt 0 ] && [ "${failed_tx:-0}" -eq 0 ] && ! grep -qi "abort\|error" "$work/pgbench.err" &&
   [ "${refreshes:-0}" -gt 0 ] && ! grep -q failed "$work/refresh.count"; then
    pass "pgbench: $tx transactions in ${load_seconds}s (decide_offer, cart_suggestions, suggestions, als_recommend), none failed, while $refreshes model refreshes committed"
else
    fail "pgbench: exit $rc, ${tx:-0} transactions, ${failed_tx:-?} failed, $refreshes refreshes; $(head -c 600 "$work/pgbench.err") $(head -c 400 "$work/refresh.err" 2>/dev/null)"
fi

echo "load phase done at $((SECONDS - started))s"
# --- fault: kill -9 of the refresher's backend inside the ALS fit --------------
victim=""
for _ in $(seq 200); do
    victim=$(q -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'load_refresh'
                               AND state = 'active' AND query LIKE '%als_fit%' AND now() - query_start > interval '0.1 s'")
    [ -n "$victim" ] && break
    sleep 0.05
done
if [ -z "$victim" ] || ! kill -9 "$victim"; then
    fail "fault: no refresh backend caught inside als_fit to kill"
else
    crash_at=$SECONDS
    # The postmaster ends every backend and recovers; wait until it accepts connections.
    for _ in $(seq 300); do
        q -d postgres -c "SELECT 1" >/dev/null 2>&1 && break
        sleep 0.1
    done
    recovered=$((SECONDS - crash_at))
    sleep "$after_crash_seconds"
    cut=$(cat "$work"/witness.*.failed 2>/dev/null | wc -l)
    if q -d postgres -c "SELECT 1" >/dev/null 2>&1 && [ "$cut" -gt 0 ]; then
        pass "fault: kill -9 of backend $victim inside als_fit; the server recovered within ${recovered}s, $cut witness connections were cut and reconnected"
    else
        fail "fault: after kill -9 of $victim the server did not come back or no connection was cut ($cut)"
    fi
fi
touch "$work/stop"
wait
q -c "SELECT 1" >/dev/null 2>&1 || sleep 3

echo "fault phase done at $((SECONDS - started))s"
# --- reconcile ------------------------------------------------------------------
cat "$work"/seen.* >"$work/seen.all" 2>/dev/null
# A cut run may have had one decision in flight, of up to two offers.
in_flight=$(( 2 * $(grep -l "server closed the connection\|terminating connection\|connection to server was lost" "$work"/witness.*.err 2>/dev/null | wc -l) ))
IFS="|" read -r seen missing duplicates unseen allowed caps_over wrong_rows <<<"$(q <<SQL | tail -1
CREATE TEMP TABLE seen (decision_id bigint, customer_id bigint, offer_key text);
\copy seen FROM '$work/seen.all' WITH (FORMAT text, DELIMITER '|')
SELECT (SELECT count(*) FROM seen),
       (SELECT count(*) FROM seen s WHERE NOT EXISTS (
            SELECT 1 FROM personalize.offer_log l WHERE l.decision_id = s.decision_id AND l.customer_id = s.customer_id
                                                    AND l.offer_key = s.offer_key AND NOT l.holdout)),
       (SELECT count(*) - count(DISTINCT decision_id) FROM seen),
       (SELECT count(*) FROM personalize.offer_log l
        WHERE l.customer_id <= $witnesses * $per_witness AND NOT l.holdout
          AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.decision_id = l.decision_id)),
       $in_flight,
       (SELECT count(*) FROM (SELECT customer_id FROM personalize.offer_log WHERE offer_key = 'load_capped'
                              GROUP BY customer_id HAVING count(*) > 3) o),
       (SELECT count(*) FROM personalize.offer_log l WHERE l.offer_key NOT IN ('load_capped', 'load_open')
                                                        OR l.reason = '' OR l.channel <> 'web');
SQL
)"
if [ "${seen:-0}" -gt 0 ] && [ "$missing" -eq 0 ] && [ "$duplicates" -eq 0 ] && [ "$unseen" -le "$allowed" ]; then
    pass "decisions: all $seen decisions the witnesses saw are in offer_log, each once; $unseen logged but unseen (at most $allowed were in flight when connections were cut)"
else
    fail "decisions: ${seen:-0} seen, ${missing:-?} missing from offer_log, ${duplicates:-?} duplicated, ${unseen:-?} logged but unseen (allowed ${allowed:-?})"
fi
if [ "${caps_over:-1}" -eq 0 ] && [ "${wrong_rows:-1}" -eq 0 ]; then
    pass "caps: no customer got load_capped more than 3 times; every offer_log row names a known offer"
else
    fail "caps: $caps_over customers over the cap of 3, $wrong_rows unexpected offer_log rows"
fi

echo "decisions reconciled at $((SECONDS - started))s"
# The model tables hold their last committed refresh: indexes sound, contents equal to a fresh computation.
models=$(q 2>&1 <<'SQL'
SELECT bt_index_check(c.oid, true) FROM pg_class c
WHERE c.relkind = 'i' AND c.relnamespace IN ('load'::regnamespace, 'personalize'::regnamespace);
CREATE TEMP TABLE fresh_rules AS SELECT * FROM personalize.association_rules(
    (SELECT personalize.baskets(l.order_id, l.product_id) FROM load.order_lines l), min_count => 5, min_len => 1);
CREATE TEMP TABLE fresh_sims AS SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM load.history), 'cosine', 10, 2);
SELECT 'rules ' || (SELECT count(*) FROM load.rules) || ' '
       || ((SELECT count(*) FROM (SELECT * FROM load.rules EXCEPT ALL SELECT * FROM fresh_rules) a) +
           (SELECT count(*) FROM (SELECT * FROM fresh_rules EXCEPT ALL SELECT * FROM load.rules) b));
SELECT 'sims ' || (SELECT count(*) FROM load.sims) || ' '
       || ((SELECT count(*) FROM (SELECT * FROM load.sims EXCEPT ALL SELECT * FROM fresh_sims) a) +
           (SELECT count(*) FROM (SELECT * FROM fresh_sims EXCEPT ALL SELECT * FROM load.sims) b));
SELECT 'model ' || m.refreshes || ' ' || i.factors || ' '
       || (SELECT count(*) FROM personalize.als_recommend(m.model, 8, 5))  -- customer 8 has not bought every item
FROM load.models m, personalize.als_model_info(m.model) i WHERE m.name = 'als';
REFRESH MATERIALIZED VIEW CONCURRENTLY load.rules;
SELECT 'refreshed';
SQL
)
# Every refresh the refresher saw commit, and no other (not the killed one).
committed=$(grep -c ok "$work/refresh.count" 2>/dev/null || true)
read -r _ rules rules_diff <<<"$(grep '^rules ' <<<"$models")"
read -r _ sims sims_diff <<<"$(grep '^sims ' <<<"$models")"
read -r _ model_refreshes factors recs <<<"$(grep '^model ' <<<"$models")"
if [ "${rules:-0}" -gt 0 ] && [ "${rules_diff:-1}" -eq 0 ] && [ "${sims:-0}" -gt 0 ] && [ "${sims_diff:-1}" -eq 0 ] &&
   [ "${factors:-0}" -eq 64 ] && [ "${recs:-0}" -eq 5 ] && [ "${model_refreshes:-x}" = "$committed" ] &&
   grep -q '^refreshed$' <<<"$models" && ! grep -qi error <<<"$models"; then
    pass "models: indexes pass amcheck; $rules rules and $sims similarities equal a fresh computation; the ALS model is refresh $model_refreshes, the last that committed (the killed one left no trace), and serves"
else
    fail "models: $(tr '\n' ' ' <<<"$models" | head -c 800) (refreshes committed: $committed)"
fi

# No C++ object outlives a statement: after serving, an erroring call and a cancelled fit.
objects=$(q 2>&1 <<'SQL'
SELECT count(*) FROM personalize.decide_offer(41, '{"total": 45.00}', '{}', 'web');
SELECT count(*) FROM personalize.cart_suggestions(ARRAY[1, 2]::bigint[], 'load.rules', 5);
SELECT count(*) FROM personalize.suggestions(1, 'load.history', 'load.sims', 5);
SELECT count(*) FROM load.models m, personalize.als_recommend(m.model, 1, 5) r;
SET statement_timeout = '150ms';
\set ON_ERROR_STOP 0
SELECT personalize.als_fit(customer_id, item_id, 1.0::float8, 64, 500, 0.05, 5.0, 42) FROM (SELECT DISTINCT customer_id, item_id FROM load.history) h;
SELECT personalize.als_fit(customer_id, item_id, -1.0::float8) FROM load.history;
RESET statement_timeout;
SELECT 'live ' || personalize.live_cpp_objects();
SQL
)
if grep -q '^live 0$' <<<"$objects" && grep -q 'canceling statement due to statement timeout' <<<"$objects"; then
    pass "objects: live_cpp_objects() is 0 after serving, a failed and a cancelled fit"
else
    fail "objects: $(tr '\n' ' ' <<<"$objects" | head -c 600)"
fi
echo "load test took $((SECONDS - started + 0))s after setup"
