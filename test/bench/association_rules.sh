#!/usr/bin/env bash
# Benchmark: association rules in C++ against the plain-SQL self-join a DBA
# would write, on the demo shop's `bench` order lines (10M lines, 1M baskets,
# min count 20) and on FIMI retail (88,162 baskets, min count 10) when
# ../shared/data is present; plus cart_suggestions latency with pgbench
# against the bench rules. Same server, same run.
#
# Usage: scripts/with-temp-cluster.sh test/bench/association_rules.sh [--skip-sql]
#   --skip-sql  leave out the slow plain-SQL self-join on the bench data (~200 s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=$(cd "$here/../../.." && pwd)/shared/data
skip_sql=0
[ "${1:-}" = "--skip-sql" ] && skip_sql=1
export PGTZ=UTC
# Mining 10M lines needs more than the default limit (work_mem x hash_mem_multiplier).
export PGOPTIONS="-c personalize.memory_limit=4GB"
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
# Seconds taken by one psql run of SQL on stdin.
timed() {
    local start end
    start=$(date +%s.%N)
    q "$@" >/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"

# Pair rules in plain SQL: frequent items, a self-join per basket, metrics.
plain_pairs() {  # $1 = lines table, $2 = basket column, $3 = item column, $4 = min count
    cat <<SQL
CREATE TABLE plain_rules AS
WITH n AS (SELECT count(DISTINCT $2)::float8 AS n FROM $1),
items AS (SELECT $3 AS item, count(DISTINCT $2) AS c FROM $1 GROUP BY $3 HAVING count(DISTINCT $2) >= $4),
lines AS (SELECT DISTINCT l.$2 AS basket, l.$3 AS item FROM $1 l JOIN items ON items.item = l.$3),
pairs AS (SELECT a.item AS x, b.item AS y, count(*) AS c
          FROM lines a JOIN lines b ON a.basket = b.basket AND a.item <> b.item
          GROUP BY a.item, b.item HAVING count(*) >= $4)
SELECT ARRAY[p.x] AS antecedent, p.y AS consequent, p.c AS count,
       p.c / ix.c::float8 AS confidence, (p.c / ix.c::float8) / (iy.c / n.n) AS lift
FROM pairs p JOIN items ix ON ix.item = p.x JOIN items iy ON iy.item = p.y, n;
SQL
}

echo "== bench data: 10M order lines =="
start=$(date +%s.%N)
q -c "SELECT personalize.load_demo_shop('bench_shop', 'bench', 42)" >/dev/null
echo "loaded in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
q -c "VACUUM ANALYZE bench_shop.order_lines"
lines=$(q -c "SELECT count(*) FROM bench_shop.order_lines")

group_s=$(timed <<'SQL'
SELECT sum(cardinality(items)) FROM (SELECT order_id, array_agg(product_id) AS items
                                     FROM bench_shop.order_lines GROUP BY order_id) s;
SQL
)
ext_s=$(timed <<'SQL'
CREATE TABLE ext_rules AS
SELECT r.* FROM personalize.association_rules(
    (SELECT personalize.baskets(order_id, product_id) FROM bench_shop.order_lines), min_count => 20) r;
SQL
)
ext_rules=$(q -c "SELECT count(*) FROM ext_rules")
q -c "SET client_min_messages = debug1" \
  -c "SELECT count(*) FROM personalize.association_rules((SELECT personalize.baskets(order_id, product_id) FROM bench_shop.order_lines), min_count => 20)" 2>&1 |
    grep -E 'association_rules:|peak' | sed 's/^/  /' || true
echo "array_agg GROUP BY: ${group_s}s; extension end to end: ${ext_s}s for ${ext_rules} rules ($(ratio "$ext_s" "$group_s")x the grouping)"
if [ $skip_sql -eq 0 ]; then
    sql_s=$(plain_pairs bench_shop.order_lines order_id product_id 20 | timed)
    sql_rules=$(q -c "SELECT count(*) FROM plain_rules")
    same=$(q -c "SELECT count(*) FROM ext_rules e JOIN plain_rules p USING (antecedent, consequent)
                  WHERE e.count = p.count AND abs(e.confidence - p.confidence) < 1e-12 AND abs(e.lift - p.lift) < 1e-9")
    echo "plain SQL self-join: ${sql_s}s for ${sql_rules} rules; identical rules: ${same}; extension is $(ratio "$sql_s" "$ext_s")x faster"
    q -c "DROP TABLE plain_rules"
fi

echo
echo "== cart_suggestions latency (pgbench, 1 client, random 5-item carts of sold products) =="
q <<'SQL'
CREATE TABLE serve_rules AS  -- the recipe of docs/complements.md: the strongest 100 per antecedent
SELECT antecedent, consequent, count, support, confidence, lift, certainty, consequent_support
FROM (SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength_rank
      FROM personalize.association_rules(
          (SELECT personalize.baskets(order_id, product_id) FROM bench_shop.order_lines),
          min_count => 5, min_len => 1) r) ranked
WHERE strength_rank <= 100 OR antecedent = '{}';
CREATE UNIQUE INDEX ON serve_rules (antecedent, consequent);
CREATE INDEX ON serve_rules (consequent_support DESC) WHERE antecedent = '{}';
ANALYZE serve_rules;
CREATE TABLE cart_pool AS SELECT DISTINCT product_id FROM bench_shop.order_lines;
SQL
rules=$(q -c "SELECT count(*) FROM serve_rules")
mined=$(q -c "SELECT count(*) FROM personalize.association_rules((SELECT personalize.baskets(order_id, product_id) FROM bench_shop.order_lines), min_count => 5, min_len => 1)")
echo "mined $mined rules at min count 5; serving table keeps $rules (strongest 100 per antecedent)"
pool=$(q -c "SELECT count(*) FROM cart_pool")
script=$(mktemp)
cat >"$script" <<SQL
\set a random(1, $pool)
\set b random(1, $pool)
\set c random(1, $pool)
\set d random(1, $pool)
\set e random(1, $pool)
SELECT * FROM personalize.cart_suggestions(ARRAY[:a, :b, :c, :d, :e]::bigint[], 'serve_rules', 10);
SQL
logdir=$(mktemp -d)
(cd "$logdir" && pgbench -n -c 1 -T 20 -f "$script" -l >/dev/null 2>&1)
awk '{ print $3 / 1000 }' "$logdir"/pgbench_log.* | sort -n |
    awk -v rules="$rules" '{ v[NR] = $1 } END { printf "%d calls against %d rules: p50 %.3f ms, p95 %.3f ms, p99 %.3f ms\n", NR, rules, v[int(NR * 0.5)], v[int(NR * 0.95)], v[int(NR * 0.99)] }'
rm -rf "$logdir" "$script"
q -c "DROP TABLE serve_rules, cart_pool, ext_rules"

retail=$shared/fimi_retail/retail.dat
if [ -f "$retail" ]; then
    echo
    echo "== FIMI retail: 88,162 baskets =="
    q -c "CREATE TABLE retail_lines (basket bigint, item bigint)"
    awk '{ for (i = 1; i <= NF; i++) print NR "," $i }' "$retail" | q -c "\copy retail_lines FROM STDIN WITH (FORMAT csv)"
    q -c "ANALYZE retail_lines"
    ext_s=$(timed <<'SQL'
CREATE TABLE ext_rules AS SELECT r.* FROM personalize.association_rules(
    (SELECT personalize.baskets(basket, item) FROM retail_lines), min_count => 10) r;
SQL
)
    sql_s=$(plain_pairs retail_lines basket item 10 | timed)
    counts=$(q -c "SELECT (SELECT count(*) FROM ext_rules) || ' ' || (SELECT count(*) FROM plain_rules) || ' ' ||
                          (SELECT count(*) FROM ext_rules e JOIN plain_rules p USING (antecedent, consequent)
                           WHERE e.count = p.count AND abs(e.confidence - p.confidence) < 1e-12 AND abs(e.lift - p.lift) < 1e-9)")
    read -r e_n s_n same <<<"$counts"
    echo "pairs at min count 10: extension ${ext_s}s (${e_n} rules), plain SQL ${sql_s}s (${s_n} rules), identical ${same}; $(ratio "$sql_s" "$ext_s")x faster"
    all_s=$(timed <<'SQL'
SELECT count(*) FROM personalize.association_rules(
    (SELECT personalize.baskets(basket, item) FROM retail_lines), min_support => 0.001, max_len => 3);
SQL
)
    q -c "SET client_min_messages = debug1" -c "SELECT count(*) AS rules FROM personalize.association_rules(
        (SELECT personalize.baskets(basket, item) FROM retail_lines), min_support => 0.001, max_len => 3)" 2>&1 |
        grep -E 'association_rules:|^[0-9]' | sed 's/^/  /'
    echo "all rules at min support 0.001, max_len 3: ${all_s}s"
fi
