#!/usr/bin/env bash
# Benchmark: personal suggestions on the demo shop's `bench` data (200,000
# customers, ~1.07M orders, ~10.7M order lines), same server, same run:
#   1. the model: baskets(customer_id, item_id) + item_similarities (cosine,
#      50 neighbours) and the popular items;
#   2. top-10 for every one of the 200,000 customers with batch_suggestions
#      (customers without orders get popular items), and the campaign form
#      (opted-in customers, re-buyable consumables, category cap, popular
#      fallback);
#   3. one customer with suggestions(), as a backend calls it: pgbench, one
#      client, random customers, per-transaction latencies -> p50 / p95;
#   4. the same item-item scoring written in plain SQL (history joined with
#      the pair table, summed, bought items removed, ranked), timed, and its
#      top-10 compared with the extension's, customer by customer.
#
# Usage: scripts/with-temp-cluster.sh test/bench/suggestions.sh [ROUNDS]
#   ROUNDS (default 3) runs of the batch; the plain SQL runs once (minutes).
#   SAMPLE=k in the environment compares with plain SQL on every k-th
#   customer only (both sides timed on the same customers); default 1 = all.
#   REUSE=1 keeps an already loaded bench_shop schema.
set -euo pipefail
rounds=${1:-3}
sample=${SAMPLE:-1}
export PGTZ=UTC
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Milliseconds of one statement (psql's \timing).
time_ms() {
    psql -qX -v ON_ERROR_STOP=1 <<SQL | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' | tail -1
SET personalize.memory_limit = '2GB';
SET work_mem = '256MB';
\\timing on
$1;
SQL
}

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
if [ "${REUSE:-0}" = 1 ] && [ "$(psql_q -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'bench_shop' AND tablename = 'order_lines'")" = 1 ]; then
    echo "reusing the loaded bench_shop"
else
    start=$(date +%s.%N)
    psql_q -c "SELECT table_name || ': ' || row_count FROM personalize.load_demo_shop('bench_shop', 'bench', 42)"
    echo "bench shop generated and loaded in $(ms_since "$start") ms"
fi
psql_q <<'SQL'
CREATE OR REPLACE VIEW bench_shop.history AS
SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE OR REPLACE VIEW bench_shop.items AS
SELECT product_id AS item_id, category,
       name ~ '^(Coffee beans|Paper filters|Ink cartridge|Printer paper|Photo paper|Razor blades|Shampoo|Lip balm|Dog treats|Cat litter|Cat food|Seed packet) '
           AS rebuyable
FROM bench_shop.products;
CREATE OR REPLACE VIEW bench_shop.opted_in AS SELECT customer_id FROM bench_shop.customers WHERE email_opt_in;
DROP TABLE IF EXISTS bench_shop.item_sims, bench_shop.popular, bench_shop.sample_customers;
SQL

# 1. The model.
model_ms=$(time_ms "CREATE TABLE bench_shop.item_sims AS SELECT * FROM personalize.item_similarities(
    (SELECT personalize.baskets(customer_id, item_id) FROM bench_shop.history), 'cosine', 50, 2)")
index_ms=$(time_ms "CREATE INDEX ON bench_shop.item_sims (item); CREATE INDEX ON bench_shop.item_sims (together DESC, item) WHERE item = neighbour")
popular_ms=$(time_ms "CREATE TABLE bench_shop.popular AS SELECT * FROM personalize.popular_items('bench_shop.history', NULL, 200)")
psql_q -c "CREATE INDEX ON bench_shop.popular (segment, score DESC, item_id)" \
       -c "VACUUM ANALYZE bench_shop.item_sims" -c "VACUUM ANALYZE bench_shop.popular"
pairs=$(psql_q -c "SELECT count(*) FROM bench_shop.item_sims")
echo "model: item_similarities ${model_ms} ms (${pairs} rows), indexes ${index_ms} ms, popular_items ${popular_ms} ms"

# 2. Every customer.
batch_sql="CREATE TEMP TABLE result AS SELECT * FROM personalize.batch_suggestions(
    'bench_shop.customers', 'bench_shop.history', 'bench_shop.item_sims', 10)"
campaign_sql="CREATE TEMP TABLE result AS SELECT * FROM personalize.batch_suggestions(
    'bench_shop.opted_in', 'bench_shop.history', 'bench_shop.item_sims', 10,
    items => 'bench_shop.items', popular => 'bench_shop.popular', category_cap => 3)"
batch_times=() campaign_times=()
for ((i = 1; i <= rounds; i++)); do
    batch_times+=("$(time_ms "$batch_sql")")
    campaign_times+=("$(time_ms "$campaign_sql")")
done
batch=$(printf '%s\n' "${batch_times[@]}" | median)
campaign=$(printf '%s\n' "${campaign_times[@]}" | median)
echo "batch runs (ms): ${batch_times[*]} | campaign runs (ms): ${campaign_times[*]}" >&2
psql_q -F ' ' <<SQL
SET personalize.memory_limit = '2GB';
CREATE TEMP TABLE result AS SELECT * FROM personalize.batch_suggestions(
    'bench_shop.customers', 'bench_shop.history', 'bench_shop.item_sims', 10);
SELECT 'all customers: ' || count(DISTINCT customer_id) || ' customers, ' || count(*) || ' rows, '
       || count(*) FILTER (WHERE source = 'popular') || ' popular rows'
FROM result;
SQL

# 3. One customer at a time (pgbench, 1 client, random customers).
bench_dir=$(mktemp -d)
trap 'rm -rf "$bench_dir"' EXIT
cat >"$bench_dir/one.sql" <<'SQL'
\set c random(1, 200000)
SELECT * FROM personalize.suggestions(:c, 'bench_shop.history', 'bench_shop.item_sims', 10);
SQL
cat >"$bench_dir/campaign.sql" <<'SQL'
\set c random(1, 200000)
SELECT * FROM personalize.suggestions(:c, 'bench_shop.history', 'bench_shop.item_sims', 10, items => 'bench_shop.items', popular => 'bench_shop.popular', category_cap => 3);
SQL
latency() {  # script mode -> "p50 p95 transactions" in ms
    (cd "$bench_dir" && rm -f pgbench_log.* &&
     pgbench -n -f "$1" -M "$2" -T 20 -c 1 -l >/dev/null 2>&1 &&
     awk '{ print $3 / 1000 }' pgbench_log.* | sort -n |
         awk '{ v[NR] = $1 } END { printf "%.2f %.2f %d", v[int(NR * 0.5) + 1], v[int(NR * 0.95) + 1], NR }')
}
read -r p50 p95 tx <<<"$(latency one.sql prepared)"
read -r p50_simple p95_simple tx_simple <<<"$(latency one.sql simple)"
read -r p50_campaign p95_campaign tx_campaign <<<"$(latency campaign.sql prepared)"

# 4. The same scoring in plain SQL (no cap, no fallback, nothing re-buyable),
# on every customer or every SAMPLE-th one.
psql_q -c "CREATE TABLE bench_shop.sample_customers AS SELECT customer_id FROM bench_shop.customers WHERE customer_id % $sample = 0"
plain_sql="CREATE TABLE bench_shop.plain_top10 AS
WITH h AS (
  SELECT customer_id, item_id, max(bought_at) AS last FROM bench_shop.history
  WHERE customer_id IN (SELECT customer_id FROM bench_shop.sample_customers) GROUP BY 1, 2),
w AS (
  SELECT customer_id, item_id,
         power(2::float8, -extract(epoch FROM max(last) OVER (PARTITION BY customer_id) - last)::float8
                          / extract(epoch FROM interval '90 days')::float8) AS w
  FROM h),
s AS (
  SELECT w.customer_id, s.neighbour AS item_id, sum(w.w * s.score) AS score
  FROM w JOIN bench_shop.item_sims s ON s.item = w.item_id AND s.neighbour <> s.item
  GROUP BY 1, 2),
f AS (
  SELECT s.* FROM s
  WHERE s.score > 0 AND NOT EXISTS (SELECT 1 FROM h WHERE h.customer_id = s.customer_id AND h.item_id = s.item_id)),
r AS (
  SELECT f.*, row_number() OVER (PARTITION BY f.customer_id ORDER BY f.score DESC, f.item_id) AS rank FROM f)
SELECT customer_id, rank::integer AS rank, item_id, score FROM r WHERE rank <= 10"
ext_sql="CREATE TABLE bench_shop.ext_top10 AS SELECT * FROM personalize.batch_suggestions(
    'bench_shop.sample_customers', 'bench_shop.history', 'bench_shop.item_sims', 10) WHERE source = 'item-item'"
psql_q -c "DROP TABLE IF EXISTS bench_shop.plain_top10, bench_shop.ext_top10"
ext_ms=$(time_ms "$ext_sql")
plain_ms=$(time_ms "$plain_sql")
read -r compared identical tie_only other <<<"$(psql_q -F ' ' <<'SQL'
WITH pairs AS (
  SELECT coalesce(e.customer_id, p.customer_id) AS customer_id, e.item_id AS e_item, p.item_id AS p_item,
         e.score AS e_score, p.score AS p_score
  FROM bench_shop.ext_top10 e FULL JOIN bench_shop.plain_top10 p USING (customer_id, rank)),
per_customer AS (
  SELECT customer_id,
         bool_and(e_item IS NOT DISTINCT FROM p_item) AS same,
         -- a different item at a rank is acceptable only as an exact tie (same score)
         bool_and(e_item IS NOT DISTINCT FROM p_item OR abs(e_score - p_score) <= 1e-12 * p_score) AS ties_only
  FROM pairs GROUP BY customer_id)
SELECT count(*), count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same AND ties_only),
       count(*) FILTER (WHERE NOT ties_only)
FROM per_customer;
SQL
)"
customers=$(psql_q -c "SELECT count(*) FROM bench_shop.customers")
sampled=$(psql_q -c "SELECT count(*) FROM bench_shop.sample_customers")

echo
echo "| step | median ms | notes |"
echo "|---|---|---|"
echo "| model: baskets + item_similarities (cosine, 50 neighbours) | ${model_ms} | ${pairs} rows; indexes ${index_ms} ms; popular_items ${popular_ms} ms |"
echo "| batch_suggestions, top-10 for all ${customers} customers | ${batch} | $rounds runs |"
echo "| campaign: opted-in customers, items, popular, category_cap 3 | ${campaign} | $rounds runs |"
echo "| suggestions(), one customer, p50 / p95 (pgbench -M prepared) | ${p50} / ${p95} | ${tx} calls in 20 s |"
echo "| suggestions(), one customer, p50 / p95 (pgbench -M simple) | ${p50_simple} / ${p95_simple} | ${tx_simple} calls in 20 s |"
echo "| suggestions() with items, popular, category_cap 3, p50 / p95 | ${p50_campaign} / ${p95_campaign} | ${tx_campaign} calls in 20 s |"
echo "| item-item top-10 of ${sampled} customers: extension | ${ext_ms} | batch_suggestions, item-item rows |"
echo "| the same in plain SQL | ${plain_ms} | join with the pair table, sum, filter, row_number |"
echo
echo "plain SQL / extension: $(awk -v a="$plain_ms" -v b="$ext_ms" 'BEGIN { printf "%.1f", a / b }')x"
echo "top-10 compared for ${compared} customers: ${identical} identical, ${tie_only} differ only in the order of exactly tied items, ${other} differ otherwise"
if [ "$other" = 0 ] && [ "$compared" -gt 0 ]; then echo "same top-10 as plain SQL: yes"; else echo "same top-10 as plain SQL: NO" >&2; exit 1; fi
