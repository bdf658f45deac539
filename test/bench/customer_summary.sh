#!/usr/bin/env bash
# Benchmark: personalize.customer_summary against the plain-SQL GROUP BY a DBA
# would write for the same numbers, on the demo shop's `bench` data
# (200k customers, ~1M orders), same server, same run.
#
# Usage: scripts/with-temp-cluster.sh test/bench/customer_summary.sh [ROUNDS]
# Prints the load time, each timing, the medians and the ratio as a
# Markdown table (what docs/BENCHMARKS.md records).
set -euo pipefail
rounds=${1:-5}
export PGTZ=UTC
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
start=$(date +%s.%N)
psql_q -c "SELECT table_name || ': ' || row_count FROM personalize.load_demo_shop('bench_shop', 'bench', 42)"
load_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "bench shop generated and loaded in ${load_seconds}s"
psql_q -c "VACUUM ANALYZE bench_shop.orders"

extension_sql="
CREATE TEMP TABLE result AS
SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day')).*
FROM bench_shop.orders WHERE status <> 'cancelled'
GROUP BY customer_id"

plain_sql="
CREATE TEMP TABLE result AS
WITH days AS (
    SELECT customer_id, ordered_at::date AS day, sum(total) AS amount, count(*) AS orders,
           min(ordered_at) AS first_at, max(ordered_at) AS last_at
    FROM bench_shop.orders WHERE status <> 'cancelled'
    GROUP BY customer_id, ordered_at::date
)
SELECT customer_id, sum(orders) AS orders, min(first_at) AS first_order_at, max(last_at) AS last_order_at,
       count(*) - 1 AS frequency, max(day) - min(day) AS recency, date '2026-01-01' - min(day) AS age,
       coalesce((sum(amount) - (array_agg(amount ORDER BY day))[1]) / nullif(count(*) - 1, 0), 0) AS monetary,
       sum(amount) AS total
FROM days GROUP BY customer_id"

# Milliseconds of one run of $1 (psql's \timing), result table dropped after.
time_ms() {
    psql -qX -v ON_ERROR_STOP=1 <<SQL | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' | head -1
\\timing on
$1;
\\timing off
DROP TABLE result;
SQL
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

time_ms "$extension_sql" >/dev/null  # warm the cache once
ext_times=()
sql_times=()
for ((i = 1; i <= rounds; i++)); do  # alternate, so drift hits both alike
    ext_times+=("$(time_ms "$extension_sql")")
    sql_times+=("$(time_ms "$plain_sql")")
done
ext=$(printf '%s\n' "${ext_times[@]}" | median)
sql=$(printf '%s\n' "${sql_times[@]}" | median)
rows=$(psql_q -c "SELECT count(DISTINCT customer_id) FROM bench_shop.orders WHERE status <> 'cancelled'")
orders=$(psql_q -c "SELECT count(*) FROM bench_shop.orders WHERE status <> 'cancelled'")

echo "extension runs (ms): ${ext_times[*]}"
echo "plain SQL runs (ms): ${sql_times[*]}"
echo
echo "| what | input | extension (median ms) | plain SQL (median ms) | extension / plain SQL |"
echo "|---|---|---|---|---|"
printf '| customer_summary vs GROUP BY | %s orders, %s customers | %.0f | %.0f | %.2f |\n' \
    "$orders" "$rows" "$ext" "$sql" "$(awk -v a="$ext" -v b="$sql" 'BEGIN { print a / b }')"
