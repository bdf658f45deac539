#!/usr/bin/env bash
# The EASE and RP3beta models next to item-item cosine (docs/suggestions.md,
# docs/BENCHMARKS.md): on the demo shop, the e-mail campaign's breadth
# (distinct products over every opted-in customer's top 5) and two lists for
# a few customers, "buy again" and "picked for you"; on the bench data, the
# time to build each model (EASE at 5,000, 10,000 and 20,000 items: the
# catalogue cut by item id) and one customer's suggestions from it.
# Usage (inside scripts/with-temp-cluster.sh): test/bench/suggestion_models.sh [--no-bench | --ease-only]
# --ease-only: only the EASE build times on the bench data (SIZES=5000,10000
# picks the item cuts; LAMBDA the penalty). The demo part's models:
# DEMO_LAMBDAS="50 500" (EASE), DEMO_RP3BETA="0.5,0.5 1,0.75" (alpha,beta).
set -euo pipefail
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
export PGTZ=UTC
settings="SET personalize.memory_limit = '3GB'; SET work_mem = '256MB';"

ease_only=0
[ "${1:-}" = "--ease-only" ] && ease_only=1
if [ $ease_only = 0 ]; then
if [ "$(q -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'shop' AND tablename = 'order_lines'")" = 0 ]; then
    q -c "SELECT personalize.load_demo_shop('shop', 'demo', 42)" >/dev/null
fi
echo "## Demo shop: the campaign (top 5, at most 2 per category, every opted-in customer)"
echo
echo "| model | customers | item-item rows | popular rows | distinct products | seconds (model + campaign) |"
echo "|---|---|---|---|---|---|"
q -c "$settings" -c "DROP TABLE IF EXISTS public.sims_ease" \
  -c "CREATE OR REPLACE VIEW public.history AS SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
      FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status = 'completed'" \
  -c "CREATE OR REPLACE VIEW public.items AS SELECT product_id AS item_id, category,
      name ~ '^(Coffee beans|Paper filters|Ink cartridge|Printer paper|Photo paper|Razor blades|Shampoo|Lip balm|Dog treats|Cat litter|Cat food|Seed packet) ' AS rebuyable
      FROM shop.products" \
  -c "CREATE OR REPLACE VIEW public.audience AS SELECT customer_id FROM shop.customers WHERE email_opt_in" \
  -c "DROP TABLE IF EXISTS public.popular; CREATE TABLE public.popular AS SELECT * FROM personalize.popular_items('history', NULL, 50)"
models=("cosine|personalize.item_similarities((SELECT personalize.baskets(customer_id, item_id) FROM history))")
for l in ${DEMO_LAMBDAS:-50 500}; do
    models+=("EASE (lambda $l)|personalize.ease_similarities((SELECT personalize.baskets(customer_id, item_id) FROM history), $l)")
done
for ab in ${DEMO_RP3BETA:-0.5,0.5}; do
    a=${ab%,*} b=${ab#*,}
    models+=("RP3beta (alpha $a, beta $b)|personalize.rp3beta_similarities((SELECT personalize.baskets(customer_id, item_id) FROM history), $a, $b)")
done
for model in "${models[@]}"; do
    label=${model%%|*} call=${model#*|}
    start=$(date +%s.%N)
    q -c "$settings" -c "DROP TABLE IF EXISTS public.sims; CREATE TABLE public.sims AS SELECT * FROM $call" \
      -c "CREATE INDEX ON public.sims (item)" \
      -c "DROP TABLE IF EXISTS public.campaign; CREATE TABLE public.campaign AS
          SELECT * FROM personalize.batch_suggestions('audience', 'history', 'sims', 5, items => 'items', popular => 'popular', category_cap => 2)"
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    row=$(q -F ' | ' -c "SELECT count(DISTINCT customer_id), count(*) FILTER (WHERE source = 'item-item'),
                                count(*) FILTER (WHERE source = 'popular'), count(DISTINCT item_id) FROM campaign")
    echo "| $label | $row | $secs |"
    # The first EASE model is kept for the lists below.
    if [[ $label == EASE* ]] && [ "$(q -c "SELECT count(*) FROM pg_tables WHERE tablename = 'sims_ease'")" = 0 ]; then
        q -c "ALTER TABLE public.sims RENAME TO sims_ease"
    fi
done
echo
echo "Two lists for the first three customers with at least two items due (the first EASE model; \"buy again\" as of the last order):"
echo
q -F ' | ' -c "$settings" -c "CREATE INDEX IF NOT EXISTS sims_ease_item ON public.sims_ease (item)" \
  -c "WITH last AS (SELECT max(bought_at) AS at FROM history),
           c AS (SELECT b.customer_id FROM last, personalize.batch_buy_again('audience', 'history', 3, last.at) b
                 GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 3)
      SELECT c.customer_id, 'buy again' AS list, b.rank, p.name, round(b.due_in_days::numeric, 1) || ' days' AS why
      FROM c, last, personalize.buy_again(c.customer_id, 'history', 3, last.at) b JOIN shop.products p ON p.product_id = b.item_id
      UNION ALL
      SELECT c.customer_id, 'picked for you', s.rank, p.name,
             'because you bought ' || (SELECT string_agg(x.name, ', ' ORDER BY array_position(s.because, x.product_id))
                                       FROM shop.products x WHERE x.product_id = ANY (s.because))
      FROM c, personalize.suggestions(c.customer_id, 'history', 'sims_ease', 4, items => 'items', popular => 'popular',
                                      category_cap => 2) s JOIN shop.products p ON p.product_id = s.item_id
      ORDER BY 1, 2, 3"
[ "${1:-}" = "--no-bench" ] && exit 0
fi

echo
echo "## Bench data: model build times"
echo
if [ "$(q -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'bench_shop' AND tablename = 'order_lines'")" = 0 ]; then
    q -c "SELECT personalize.load_demo_shop('bench_shop', 'bench', 42)" >/dev/null
fi
[ $ease_only = 0 ] && q -c "$settings" -c "DROP TABLE IF EXISTS public.bench_baskets; CREATE TABLE public.bench_baskets AS
      SELECT personalize.baskets(o.customer_id, l.product_id) AS b FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
      WHERE o.status = 'completed'"
q -c "$settings" -c "DROP TABLE IF EXISTS public.bench_cut; CREATE TABLE public.bench_cut AS
      SELECT n, personalize.baskets(o.customer_id, l.product_id) AS b
      FROM unnest(ARRAY[${SIZES:-5000,10000,20000}]) n, bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id)
      WHERE o.status = 'completed' AND l.product_id <= n GROUP BY n"
echo "| model | items | seconds | rows |"
echo "|---|---|---|---|"
for n in $(q -c "SELECT n FROM bench_cut ORDER BY n"); do
    start=$(date +%s.%N)
    rows=$(q -c "$settings" -c "SELECT count(*) FROM bench_cut, personalize.ease_similarities(b, ${LAMBDA:-3000}) WHERE n = $n")
    echo "| EASE (lambda ${LAMBDA:-3000}, $(nproc) cores, max_parallel_workers_per_gather $(q -c 'SHOW max_parallel_workers_per_gather')) | $n | $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') | $rows |"
done
[ $ease_only = 1 ] && exit 0
start=$(date +%s.%N)
rows=$(q -c "$settings" -c "SELECT count(*) FROM bench_baskets, personalize.rp3beta_similarities(b, 0.5, 0.25)")
echo "| RP3beta (alpha 0.5, beta 0.25) | 20000 | $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') | $rows |"
start=$(date +%s.%N)
rows=$(q -c "$settings" -c "SELECT count(*) FROM bench_baskets, personalize.item_similarities(b)")
echo "| cosine | 20000 | $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') | $rows |"

echo
echo "## Bench data: serving from the default recipe's EASE table (lambda ${LAMBDA:-3000}, min_count 100)"
echo
q -c "$settings" -c "DROP TABLE IF EXISTS public.bench_ease; CREATE TABLE public.bench_ease AS
      SELECT s.* FROM bench_baskets, personalize.ease_similarities(b, ${LAMBDA:-3000}, min_count => 100) s" \
  -c "CREATE INDEX ON public.bench_ease (item)" \
  -c "CREATE OR REPLACE VIEW public.bench_history AS SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
      FROM bench_shop.orders o JOIN bench_shop.order_lines l USING (order_id) WHERE o.status = 'completed'" \
  -c "CREATE INDEX IF NOT EXISTS orders_customer ON bench_shop.orders (customer_id)" -c "ANALYZE bench_shop.orders"
start=$(date +%s.%N)
rows=$(q -c "$settings" -c "SELECT count(*) FROM personalize.batch_suggestions(NULL, 'bench_history', 'bench_ease', 10)")
echo "| batch_suggestions, top 10 of every customer with orders | $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }') | $rows rows |"
dir=$(mktemp -d)
printf '%s\n' '\set c random(1, 200000)' \
    "SELECT * FROM personalize.suggestions(:c, 'bench_history', 'bench_ease', 10);" > "$dir/one.sql"
(cd "$dir" && pgbench -n -f one.sql -M prepared -T 20 -c 1 -l >/dev/null 2>&1 &&
 awk '{ print $3 / 1000 }' pgbench_log.* | sort -n |
     awk '{ v[NR] = $1 } END { printf "| suggestions(), one random customer, pgbench -M prepared | p50 %.2f ms, p95 %.2f ms | %d calls in 20 s |\n", v[int(NR * 0.5) + 1], v[int(NR * 0.95) + 1], NR }')
rm -rf "$dir"
