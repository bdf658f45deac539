#!/usr/bin/env bash
# Benchmark: RFM scores for every customer of the demo shop's `bench` data
# with the extension (rfm_breakpoints aggregate + rfm_score per customer, and
# the one-call rfm_scores) against the hand-written SQL with three
# NTILE(5) window functions, same server, same run, alternating.
#
# Usage: scripts/with-temp-cluster.sh test/bench/rfm.sh [ROUNDS]
# Prints each timing, the medians and the ratios as a Markdown table, and
# checks that the scores equal NTILE's on a tie-free copy of the input.
set -euo pipefail
rounds=${1:-3}
export PGTZ=UTC
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
start=$(date +%s.%N)
psql_q -c "SELECT table_name || ': ' || row_count FROM personalize.load_demo_shop('bench_shop', 'bench', 42)"
load_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "bench shop generated and loaded in ${load_seconds}s"
psql_q -c "VACUUM ANALYZE bench_shop.orders"

# Per-customer input: recency = days since the last purchase (age - recency
# of customer_summary), frequency = repeat purchase days, monetary = mean
# repeat purchase amount. tie_free adds a tiny deterministic tie-breaker so
# NTILE's order is unique and the two methods must agree exactly.
psql_q <<'SQL'
CREATE TABLE bench_shop.rfm_input AS
SELECT customer_id, (s).age - (s).recency AS recency, (s).frequency::float8 AS frequency, (s).monetary AS monetary
FROM (SELECT customer_id, personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day') AS s
      FROM bench_shop.orders WHERE status <> 'cancelled' GROUP BY customer_id) q;
CREATE TABLE bench_shop.rfm_tie_free AS
SELECT customer_id, recency + customer_id * 1e-9 AS recency, frequency + customer_id * 1e-9 AS frequency,
       monetary + customer_id * 1e-9 AS monetary
FROM bench_shop.rfm_input;
VACUUM ANALYZE bench_shop.rfm_input;
VACUUM ANALYZE bench_shop.rfm_tie_free;
SQL

extension_sql() {
    echo "CREATE TEMP TABLE result AS
WITH b AS (SELECT personalize.rfm_breakpoints(recency, frequency, monetary) AS bp FROM $1)
SELECT c.customer_id, s.r, s.f, s.m
FROM $1 c CROSS JOIN b CROSS JOIN LATERAL personalize.rfm_score(b.bp, c.recency, c.frequency, c.monetary) s"
}
one_call_sql() {
    echo "CREATE TEMP TABLE result AS SELECT * FROM personalize.rfm_scores('$1')"
}
ntile_sql() {
    echo "CREATE TEMP TABLE result AS
SELECT customer_id, ntile(5) OVER (ORDER BY recency DESC) AS r, ntile(5) OVER (ORDER BY frequency) AS f,
       ntile(5) OVER (ORDER BY monetary) AS m
FROM $1"
}

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

customers=$(psql_q -c "SELECT count(*) FROM bench_shop.rfm_input")
echo "| input | extension: rfm_breakpoints + rfm_score (median ms) | extension: rfm_scores (median ms) | 3 x NTILE(5) (median ms) | breakpoints+score / NTILE | rfm_scores / NTILE |"
echo "|---|---|---|---|---|---|"
for table in bench_shop.rfm_input bench_shop.rfm_tie_free; do
    time_ms "$(extension_sql "$table")" >/dev/null  # warm the cache once
    time_ms "$(ntile_sql "$table")" >/dev/null
    ext_times=() one_times=() nt_times=()
    for ((i = 1; i <= rounds; i++)); do  # alternate, so drift hits all alike
        ext_times+=("$(time_ms "$(extension_sql "$table")")")
        nt_times+=("$(time_ms "$(ntile_sql "$table")")")
        one_times+=("$(time_ms "$(one_call_sql "$table")")")
    done
    ext=$(printf '%s\n' "${ext_times[@]}" | median)
    one=$(printf '%s\n' "${one_times[@]}" | median)
    nt=$(printf '%s\n' "${nt_times[@]}" | median)
    echo "$table runs (ms): breakpoints+score ${ext_times[*]} | rfm_scores ${one_times[*]} | NTILE ${nt_times[*]}" >&2
    printf '| %s (%s customers) | %.0f | %.0f | %.0f | %.2f | %.2f |\n' "$table" "$customers" "$ext" "$one" "$nt" \
        "$(awk -v a="$ext" -v b="$nt" 'BEGIN { print a / b }')" "$(awk -v a="$one" -v b="$nt" 'BEGIN { print a / b }')"
done

# Equality with NTILE: exact on the tie-free copy; on the real (tied) data
# the count of customers whose scores NTILE happens to give too.
for table in bench_shop.rfm_tie_free bench_shop.rfm_input; do
    psql_q -F ' ' <<SQL
CREATE TEMP TABLE e AS $(extension_sql "$table" | sed 's/^CREATE TEMP TABLE result AS//');
CREATE TEMP TABLE n AS $(ntile_sql "$table" | sed 's/^CREATE TEMP TABLE result AS//');
SELECT '$table: distinct values r/f/m = ' || (SELECT count(DISTINCT recency) || '/' || count(DISTINCT frequency) || '/' || count(DISTINCT monetary) FROM $table)
       || '; customers ' || count(*) || ', same r ' || count(*) FILTER (WHERE e.r = n.r)
       || ', same f ' || count(*) FILTER (WHERE e.f = n.f) || ', same m ' || count(*) FILTER (WHERE e.m = n.m)
       || ', all three ' || count(*) FILTER (WHERE (e.r, e.f, e.m) = (n.r, n.f, n.m))
FROM e JOIN n USING (customer_id);
SQL
done
tie_free_equal=$(psql_q <<SQL
CREATE TEMP TABLE e AS $(extension_sql bench_shop.rfm_tie_free | sed 's/^CREATE TEMP TABLE result AS//');
CREATE TEMP TABLE n AS $(ntile_sql bench_shop.rfm_tie_free | sed 's/^CREATE TEMP TABLE result AS//');
SELECT count(*) = count(*) FILTER (WHERE (e.r, e.f, e.m) = (n.r, n.f, n.m))
       AND (SELECT count(DISTINCT recency) = count(*) AND count(DISTINCT frequency) = count(*)
                   AND count(DISTINCT monetary) = count(*) FROM bench_shop.rfm_tie_free)
FROM e JOIN n USING (customer_id);
SQL
)
if [ "$tie_free_equal" = t ]; then echo "tie-free scores identical to NTILE(5): yes"; else echo "tie-free scores identical to NTILE(5): NO" >&2; exit 1; fi
