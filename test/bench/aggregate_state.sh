#!/usr/bin/env bash
# Benchmark: single-node time of the aggregates whose state type moved from
# internal to personalize.aggregate_state (issue 13), on the demo shop's
# `bench` data, without parallel workers (the per-row transition cost is what
# the expanded state form must keep). Run it against two builds to compare.
#
# Usage: scripts/with-temp-cluster.sh test/bench/aggregate_state.sh [ROUNDS]
# Prints one Markdown row per aggregate: the median and every timing (ms).
set -euo pipefail
rounds=${1:-5}
export PGTZ=UTC
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
q -c "SELECT count(*) FROM personalize.load_demo_shop('bench_shop', 'bench', 42)" >/dev/null
q -c "VACUUM ANALYZE bench_shop.orders, bench_shop.order_lines"
q -c "CREATE TABLE cs AS
      SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day')).*
      FROM bench_shop.orders WHERE status <> 'cancelled' GROUP BY customer_id;
      ANALYZE cs"

declare -A sql=(
  [baskets]="SELECT personalize.baskets(order_id, product_id) IS NOT NULL FROM bench_shop.order_lines"
  [customer_summary]="SELECT count(s) FROM (SELECT personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day') AS s
                      FROM bench_shop.orders WHERE status <> 'cancelled' GROUP BY customer_id) x"
  [kmeans]="SELECT personalize.kmeans(ARRAY[frequency::float8, recency, monetary], 8, 42, 'zscore') IS NOT NULL FROM cs"
  [bgnbd_fit]="SELECT personalize.bgnbd_fit(frequency, recency, age) IS NOT NULL FROM cs"
  [logistic_fit]="SELECT personalize.logistic_fit(frequency > 1, ARRAY[recency, age, ln(1 + monetary)]) IS NOT NULL FROM cs"
)
echo "| aggregate | input rows | median ms | runs (ms) |"
echo "|---|---|---|---|"
for name in baskets customer_summary kmeans bgnbd_fit logistic_fit; do
    case $name in
        baskets) rows=$(q -c "SELECT count(*) FROM bench_shop.order_lines") ;;
        customer_summary) rows=$(q -c "SELECT count(*) FROM bench_shop.orders WHERE status <> 'cancelled'") ;;
        *) rows=$(q -c "SELECT count(*) FROM cs") ;;
    esac
    times=()
    for _ in $(seq "$rounds"); do
        t=$(q -c "SET max_parallel_workers_per_gather = 0" -c "SET personalize.memory_limit = '2GB'" -c "SET client_min_messages = error" -c '\timing on' -c "${sql[$name]}" |
            sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
        times+=("$t")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }')
    echo "| $name | $rows | $median | $(printf '%.0f ' "${times[@]}")|"
done
