#!/usr/bin/env bash
# Benchmark and offline evaluation of ALS (personalize.als_fit and friends).
#
# Usage: scripts/with-temp-cluster.sh test/bench/als.sh [sections]
#   sections (default all): train serve eval fimi cj
#
#   train  the bench shop (200k customers, ~10.7M order lines): als_fit on every
#          customer's (customer, product, number of orders) rows with the default
#          options; time and peak backend memory (VmHWM); one iteration each of
#          the conjugate-gradient and the Cholesky solver, for the per-iteration
#          cost and the loss they reach;
#   serve  model size, storing it, one-customer top-10 (cold: first call in a
#          backend loads and checks the model; warm: pgbench), batch top-10 for
#          every customer, fold-in top-10 for a new customer;
#   eval   offline evaluation on the bench shop, time split: train on orders before
#          2025-10-01, test on the last quarter; relevant = items a customer bought
#          in the test period and not before; ALS and a popularity baseline;
#   fimi   FIMI retail (../shared/data, skipped when absent): baskets in file order,
#          the first 80% train; each later basket with >= 2 items has half of its
#          items shown (fold-in) and half hidden (relevant);
#   cj     the Complete Journey sample (../shared/data, skipped when absent): per
#          household, time split at 2017-10-01.
# Metrics: precision@10, recall@10, nDCG@10, coverage as defined in
# test/bench/als_eval_lib.sql (the suggestions helper's definitions).
# There is no plain-SQL way to factorise a matrix, so the comparison here is
# the popularity baseline a DBA would write (its SQL is in the library).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${PERSONALIZE_DATA:-$repo/../shared/data}
lib=$repo/test/bench/als_eval_lib.sql
sections=${1:-"train serve eval fimi cj"}
export PGTZ=UTC
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
has() { [[ " $sections " == *" $1 "* ]]; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
if has train || has serve || has eval; then
    if [ "$(psql_q -c "SELECT to_regclass('bench_shop.order_lines') IS NOT NULL")" != t ]; then
        start=$(date +%s.%N)
        psql_q -c "SELECT count(*) FROM personalize.load_demo_shop('bench_shop', 'bench', 42)" >/dev/null
        echo "bench shop generated and loaded in $(seconds_since "$start")s"
    fi
    if [ "$(psql_q -c "SELECT to_regclass('bench_shop.interactions') IS NOT NULL")" != t ]; then
        start=$(date +%s.%N)
        psql_q <<'SQL'
CREATE TABLE bench_shop.interactions AS
SELECT o.customer_id, l.product_id AS item_id, count(*)::float8 AS strength
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' GROUP BY 1, 2;
VACUUM ANALYZE bench_shop.interactions;
SQL
        echo "interactions (customer, product, orders) built in $(seconds_since "$start")s"
    fi
    psql_q -F ' ' -c "SELECT 'interactions: ' || count(*) || ' rows, ' || count(DISTINCT customer_id) || ' customers, ' ||
                             count(DISTINCT item_id) || ' items' FROM bench_shop.interactions"
fi

# One fit in a fresh backend: elapsed ms and the backend's peak RSS.
fit() {  # $1 = target table, $2 = als_fit arguments after (customer_id, item_id, strength)
    psql -qX -v ON_ERROR_STOP=1 <<SQL | sed -nE 's/^Time: ([0-9.]+) ms.*/fit ms \1/p; s/^VmHWM:\s+([0-9]+) kB/peak kB \1/p'
SET personalize.memory_limit = '4GB';
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
DROP TABLE IF EXISTS $1;
\timing on
CREATE TABLE $1 AS SELECT personalize.als_fit(customer_id, item_id, strength$2) AS model FROM bench_shop.interactions;
\timing off
\! grep VmHWM /proc/\$PID/status
SQL
}

if has train; then
    echo "## training (bench shop, all orders)"
    fit bench_shop.als_default ""
    psql_q -F ' ' -c "SELECT 'default model: ' || factors || ' factors, ' || iterations || ' iterations, regularization ' ||
                             regularization || ', alpha ' || alpha || ', ' || solver || '; loss ' || round(loss::numeric, 6) ||
                             '; ' || round(bytes / 1048576.0, 1) || ' MB'
                      FROM bench_shop.als_default, personalize.als_model_info(model)"
    for solver in cg cholesky; do
        for iterations in 1 2; do
            echo "$solver, $iterations iteration(s):"
            fit bench_shop.als_probe ", 64, $iterations, 0.5, 5, 0, '$solver'"
            psql_q -c "SELECT 'loss ' || round(loss::numeric, 6) FROM bench_shop.als_probe, personalize.als_model_info(model)"
        done
    done
    psql_q -c "DROP TABLE bench_shop.als_probe"
fi

if has serve; then
    echo "## serving (bench shop model)"
    psql -qXAt -v ON_ERROR_STOP=1 <<'SQL' | sed -E 's/^Time: ([0-9.]+) ms.*/  \1 ms/'
SET personalize.memory_limit = '4GB';
SELECT 'stored size: ' || pg_size_pretty(pg_total_relation_size('bench_shop.als_default'));
\timing on
SELECT 'cold one-customer top-10 (a new backend loads and checks the model): ' || count(*) || ' rows'
FROM bench_shop.als_default, personalize.als_recommend(model, 1042, 10);
SELECT 'warm one-customer top-10: ' || count(*) || ' rows' FROM bench_shop.als_default, personalize.als_recommend(model, 1043, 10);
SELECT 'first fold-in top-10 (computes Y^T Y once), 5 items: ' || count(*) || ' rows'
FROM bench_shop.als_default, personalize.als_recommend_items(model, ARRAY[1, 2, 3, 4, 5]::bigint[], 10);
SELECT 'next fold-in top-10, 5 items: ' || count(*) || ' rows'
FROM bench_shop.als_default, personalize.als_recommend_items(model, ARRAY[6, 7, 8, 9, 10]::bigint[], 10);
CREATE TEMP TABLE all_top10 AS SELECT b.* FROM bench_shop.als_default, personalize.als_recommend_batch(model, 10) b;
\timing off
SELECT 'batch top-10 for every customer (time above): ' || count(*) || ' rows' FROM all_top10;
SQL
    cat >/tmp/als_bench_one.sql <<'SQL'
\set c random(1, 200000)
SELECT count(*) FROM personalize.als_recommend((SELECT model FROM bench_shop.als_default), :c, 10);
SQL
    PGOPTIONS="-c personalize.memory_limit=4GB" pgbench -n -f /tmp/als_bench_one.sql -t 500 -c 1 2>/dev/null |
        grep -E 'latency average|tps' | sed 's/^/pgbench one-customer top-10 (1 client, 500 calls): /'
    rm -f /tmp/als_bench_one.sql
fi

# Evaluates ALS (options $2) and popularity on (train, relevant) tables; $1 = label, $3 = catalogue size.
evaluate() {
    local label=$1 options=$2 catalogue=$3 train=$4 relevant=$5 fold=${6:-}
    psql -qX -v ON_ERROR_STOP=1 <<SQL | grep '^| '
\i $lib
SET personalize.memory_limit = '4GB';
SET client_min_messages = warning;
\pset format unaligned
\pset tuples_only on
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE m AS SELECT personalize.als_fit(customer_id, item_id, strength$options) AS model FROM $train;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS fit_s \gset
$(if [ -n "$fold" ]; then echo "
CREATE TEMP TABLE recs_als AS SELECT v.customer_id, ARRAY(SELECT r.item_id FROM personalize.als_recommend_items(m.model, v.shown, 10) r ORDER BY r.rank) AS recommended
FROM $fold v, m;"; else echo "
CREATE TEMP TABLE recs_als AS SELECT b.customer_id, b.items AS recommended
FROM m, personalize.als_recommend_batch(m.model, 10, ARRAY(SELECT customer_id FROM $relevant)) b;"; fi)
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS total_s \gset
$(if [ -n "$fold" ]; then echo "
CREATE TEMP TABLE pop AS SELECT item_id, row_number() OVER (ORDER BY count(*) DESC, item_id) AS r FROM $train GROUP BY item_id;
CREATE INDEX ON pop (r);
ANALYZE pop;
CREATE TEMP TABLE recs_pop AS
SELECT v.customer_id, ARRAY(SELECT p.item_id FROM pop p WHERE NOT (p.item_id = ANY (v.shown)) ORDER BY p.r LIMIT 10) AS recommended
FROM $fold v;"; else echo "
SELECT pg_temp.popularity_recs('$train', '$relevant', 10, 'recs_pop');"; fi)
SELECT '| $label' || ' | popularity | ' || customers || ' | ' || round(precision_at_k::numeric, 4) || ' | ' || round(recall_at_k::numeric, 4)
       || ' | ' || round(ndcg_at_k::numeric, 4) || ' | ' || round(coverage::numeric, 4) || ' | |'
FROM pg_temp.evaluate('recs_pop', '$relevant', 10, $catalogue);
SELECT '| $label' || ' | ALS (' || i.factors || ' factors, reg ' || i.regularization || ', alpha ' || i.alpha || ', ' || i.iterations || ' it) | '
       || e.customers || ' | ' || round(e.precision_at_k::numeric, 4) || ' | ' || round(e.recall_at_k::numeric, 4)
       || ' | ' || round(e.ndcg_at_k::numeric, 4) || ' | ' || round(e.coverage::numeric, 4)
       || ' | fit ' || :'fit_s' || ' s, fit + top-10 ' || :'total_s' || ' s |'
FROM pg_temp.evaluate('recs_als', '$relevant', 10, $catalogue) e, m, personalize.als_model_info(m.model) i;
SQL
}

# The ALS options of the evaluation (after customer_id, item_id, strength); default: the defaults.
eval_options=${ALS_EVAL_OPTIONS:-}
echo "## offline evaluation (precision@10 | recall@10 | nDCG@10 | coverage)"
echo "| data | scorer | customers | precision@10 | recall@10 | nDCG@10 | coverage | time |"
echo "|---|---|---|---|---|---|---|---|"

if has eval; then
    psql_q <<'SQL'
DROP TABLE IF EXISTS bench_shop.als_train, bench_shop.als_relevant;
CREATE TABLE bench_shop.als_train AS
SELECT o.customer_id, l.product_id AS item_id, count(*)::float8 AS strength
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at < '2025-10-01' GROUP BY 1, 2;
CREATE INDEX ON bench_shop.als_train (customer_id, item_id);
CREATE TABLE bench_shop.als_relevant AS
SELECT o.customer_id, array_agg(DISTINCT l.product_id ORDER BY l.product_id) AS relevant
FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
WHERE o.status = 'completed' AND o.ordered_at >= '2025-10-01'
  AND EXISTS (SELECT 1 FROM bench_shop.als_train t WHERE t.customer_id = o.customer_id)
  AND NOT EXISTS (SELECT 1 FROM bench_shop.als_train t WHERE t.customer_id = o.customer_id AND t.item_id = l.product_id)
GROUP BY 1;
ANALYZE bench_shop.als_train;
ANALYZE bench_shop.als_relevant;
SQL
    evaluate "bench (time split 2025-10-01)" "$eval_options" 20000 bench_shop.als_train bench_shop.als_relevant
fi

if has fimi; then
    if [ ! -f "$data/fimi_retail/retail.dat" ]; then
        echo "SKIP: FIMI retail not found in $data/fimi_retail"
    else
        psql_q <<SQL
DROP SCHEMA IF EXISTS fimi CASCADE;
CREATE SCHEMA fimi;
CREATE TABLE fimi.raw (basket bigint GENERATED ALWAYS AS IDENTITY, line text);
\copy fimi.raw (line) FROM '$data/fimi_retail/retail.dat'
CREATE TABLE fimi.lines AS
SELECT DISTINCT r.basket, x::bigint AS item FROM fimi.raw r, regexp_split_to_table(btrim(r.line), '\s+') x WHERE x <> '';
-- The first 80% of the baskets (file order = time order) train.
CREATE TABLE fimi.train AS
SELECT basket AS customer_id, item AS item_id, 1::float8 AS strength FROM fimi.lines
WHERE basket <= (SELECT 0.8 * max(basket) FROM fimi.raw);
-- Later baskets with >= 2 items: half shown (fold-in), half hidden, by a fixed hash.
CREATE TABLE fimi.split AS
SELECT basket, item, row_number() OVER (PARTITION BY basket ORDER BY md5(basket || ':' || item)) AS k,
       count(*) OVER (PARTITION BY basket) AS n
FROM fimi.lines WHERE basket > (SELECT 0.8 * max(basket) FROM fimi.raw);
CREATE TABLE fimi.shown AS
SELECT basket AS customer_id, array_agg(item ORDER BY item) AS shown FROM fimi.split WHERE n >= 2 AND k <= n / 2 GROUP BY 1;
CREATE TABLE fimi.relevant AS
SELECT basket AS customer_id, array_agg(item ORDER BY item) AS relevant FROM fimi.split WHERE n >= 2 AND k > n / 2 GROUP BY 1;
ANALYZE fimi.train;
SQL
        catalogue=$(psql_q -c "SELECT count(DISTINCT item) FROM fimi.lines")
        evaluate "FIMI retail (fold-in, last 20% of baskets)" "$eval_options" "$catalogue" fimi.train fimi.relevant fimi.shown
    fi
fi

if has cj; then
    if [ ! -f "$data/completejourney/transactions_sample.csv" ]; then
        echo "SKIP: Complete Journey sample not found in $data/completejourney"
    else
        psql_q <<SQL
DROP SCHEMA IF EXISTS cj CASCADE;
CREATE SCHEMA cj;
CREATE TABLE cj.tx (household_id bigint, store_id text, basket_id text, product_id bigint, quantity numeric,
                    sales_value numeric, retail_disc numeric, coupon_disc numeric, coupon_match_disc numeric,
                    week int, transaction_timestamp timestamp);
\copy cj.tx FROM '$data/completejourney/transactions_sample.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE cj.train AS
SELECT household_id AS customer_id, product_id AS item_id, count(DISTINCT basket_id)::float8 AS strength
FROM cj.tx WHERE transaction_timestamp < '2017-10-01' GROUP BY 1, 2;
CREATE INDEX ON cj.train (customer_id, item_id);
CREATE TABLE cj.relevant AS
SELECT t.household_id AS customer_id, array_agg(DISTINCT t.product_id ORDER BY t.product_id) AS relevant
FROM cj.tx t WHERE t.transaction_timestamp >= '2017-10-01'
  AND EXISTS (SELECT 1 FROM cj.train r WHERE r.customer_id = t.household_id)
  AND NOT EXISTS (SELECT 1 FROM cj.train r WHERE r.customer_id = t.household_id AND r.item_id = t.product_id)
GROUP BY 1;
ANALYZE cj.train;
ANALYZE cj.relevant;
SQL
        catalogue=$(psql_q -c "SELECT count(DISTINCT product_id) FROM cj.tx")
        evaluate "Complete Journey sample (time split 2017-10-01)" "$eval_options" "$catalogue" cj.train cj.relevant
    fi
fi
