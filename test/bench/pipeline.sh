#!/usr/bin/env bash
# Benchmark: the pipeline's refresh on a demo shop (default the `bench`
# shop: 200k customers, ~1M orders, ~10M order lines, sessions): a full
# refresh, then 1% new orders (copies of every 100th order with its lines,
# placed on the next day, strictly after the old as_of: the nightly case;
# as_of moved on a day) and the incremental refresh(), then a full refresh
# of the same data; each stage's seconds.
#
# Usage: scripts/with-temp-cluster.sh test/bench/pipeline.sh [SIZE]
# (SIZE: tiny, demo or bench). Prints Markdown tables (docs/BENCHMARKS.md).
set -euo pipefail
size=${1:-bench}
export PGTZ=UTC
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
start=$(now)
psql_q -c "SELECT table_name || ': ' || row_count FROM personalize.load_demo_shop('bench_pipe', '$size', 42)"
echo "$size shop generated and loaded in $(since "$start")s"
psql_q -c "VACUUM ANALYZE bench_pipe.orders, bench_pipe.order_lines, bench_pipe.customers, bench_pipe.sessions"
psql_q -c "SELECT count(*) FROM personalize.configure_shop('bench_pipe.orders', 'bench_pipe.order_lines',
               'bench_pipe.customers', 'bench_pipe.products', 'bench_pipe.sessions',
               settings => '{\"as_of\": \"2026-01-01\", \"rules_min_count\": 20}')" >/dev/null

# One refresh: each stage's seconds (from refresh()) and the wall time of the call.
run() {  # label, refresh arguments
    local t0 out
    t0=$(now)
    out=$(psql_q -F ' | ' -c "SELECT stage, rows, round(seconds::numeric, 2),
                                     concat_ws(', ', quality ->> 'mode',
                                               (quality ->> 'customers_recomputed') || ' customers recomputed',
                                               (quality ->> 'customers_merged') || ' of them merged')
                              FROM personalize.refresh($2)")
    echo "$1|$(since "$t0")" >>"$work/totals"
    printf '%s\n' "$out" | while IFS= read -r line; do echo "$1 | $line"; done >>"$work/stages"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run "full (first)" "full => true"
new_orders=$(psql_q <<'SQL'
CREATE TEMP TABLE picked AS
SELECT o.order_id, o.order_id + 1000000000 AS new_id FROM bench_pipe.orders o WHERE o.order_id % 100 = 0;
INSERT INTO bench_pipe.orders (order_id, customer_id, ordered_at, status, total, line_count)
SELECT p.new_id, o.customer_id, timestamptz '2026-01-01 00:00' + (1 + o.order_id % 86399) * interval '1 second',
       'completed', o.total, o.line_count
FROM picked p JOIN bench_pipe.orders o USING (order_id);
INSERT INTO bench_pipe.order_lines (order_id, line_no, product_id, quantity, unit_price, amount)
SELECT p.new_id, l.line_no, l.product_id, l.quantity, l.unit_price, l.amount
FROM picked p JOIN bench_pipe.order_lines l USING (order_id);
UPDATE personalize.shop_settings SET value = '2026-01-02' WHERE key = 'as_of';
ANALYZE bench_pipe.orders;
ANALYZE bench_pipe.order_lines;
SELECT count(*) FROM picked;
SQL
)
echo "added $new_orders orders ($(psql_q -c "SELECT round(100.0 * $new_orders / count(*), 2) FROM bench_pipe.orders WHERE order_id < 1000000000")% of the orders) on 2026-01-01, as_of moved to 2026-01-02"
run "incremental" ""
run "full" "full => true"

echo
echo "| refresh | seconds (wall) |"
echo "|---|---|"
while IFS='|' read -r label secs; do echo "| $label | $secs |"; done <"$work/totals"
echo
echo "| refresh | stage | rows | seconds | mode |"
echo "|---|---|---|---|---|"
while IFS= read -r line; do echo "| $line |"; done <"$work/stages"
psql_q -c "DELETE FROM personalize.shop_settings" -c "DELETE FROM personalize.shop_source" \
       -c "DELETE FROM personalize.offer_context_source" -c "DROP SCHEMA bench_pipe CASCADE" >/dev/null
