#!/usr/bin/env bash
# Benchmark: the pipeline's serving calls (docs/pipeline.md, "Serving from
# the refreshed models") against their regclass forms on the same refreshed
# models: customer_profile, suggestions, cart_suggestions and
# product_complements, one client, each call for N seconds over varying
# customers / items (pgbench, per-call latencies from its log).
#
# Usage: scripts/with-temp-cluster.sh test/bench/serving.sh [SIZE] [SECONDS]
# (SIZE: tiny, demo or bench; default demo, 10 s a call). Prints a Markdown
# table of p50 / p95 in ms (docs/BENCHMARKS.md).
set -euo pipefail
size=${1:-demo}
seconds=${2:-10}
export PGTZ=UTC
work=$(mktemp -d -t pg_personalize_serving.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
psql_q -c "SELECT count(*) FROM personalize.load_demo_shop('serve', '$size', 42)" >/dev/null
psql_q -c "SELECT count(*) FROM personalize.configure_shop('serve.orders', 'serve.order_lines', 'serve.customers',
               'serve.products', 'serve.sessions', settings => '{\"as_of\": \"2026-01-01\"}')" >/dev/null
psql_q -c "SELECT count(*) FROM personalize.refresh()" >/dev/null
customers=$(psql_q -c "SELECT max(customer_id) FROM personalize.customer_profiles")
# Items that have rules, so the rule lookups do real work.
psql_q -c "CREATE TABLE serve.rule_items AS SELECT DISTINCT (antecedent)[1] AS item FROM personalize.product_rules
           WHERE cardinality(antecedent) = 1; ALTER TABLE serve.rule_items ADD COLUMN n serial"
items=$(psql_q -c "SELECT count(*) FROM serve.rule_items")

# name | SQL of one call (:c a customer id, :i an item of serve.rule_items)
calls=(
"customer_profile|SELECT * FROM personalize.customer_profile(:c);"
"suggestions|SELECT * FROM personalize.suggestions(:c::bigint, 10);"
"suggestions (regclass form)|SELECT * FROM personalize.suggestions(:c::bigint, 'personalize.purchase_history', 'personalize.item_similarities', 10, items => 'personalize.shop_items', popular => 'personalize.popular_items');"
"cart_suggestions|SELECT * FROM personalize.cart_suggestions(ARRAY[(SELECT item FROM serve.rule_items WHERE n = :i)]::bigint[], 10);"
"cart_suggestions (regclass form)|SELECT * FROM personalize.cart_suggestions(ARRAY[(SELECT item FROM serve.rule_items WHERE n = :i)]::bigint[], 'personalize.product_rules'::regclass, 10);"
"product_complements|SELECT * FROM personalize.product_complements((SELECT item FROM serve.rule_items WHERE n = :i)::bigint, 10);"
"product_complements (regclass form)|SELECT * FROM personalize.product_complements('personalize.product_rules'::regclass, (SELECT item FROM serve.rule_items WHERE n = :i)::bigint, 10);"
)
echo "$size shop: $customers customers, $items items with rules; one client, $seconds s a call"
echo
echo "| call | calls | p50 ms | p95 ms |"
echo "|---|---|---|---|"
for entry in "${calls[@]}"; do
    name=${entry%%|*}
    sql=${entry#*|}
    printf '\\set c random(1, %s)\n\\set i random(1, %s)\n%s\n' "$customers" "$items" "$sql" >"$work/call.sql"
    rm -f "$work"/log*
    (cd "$work" && pgbench -n -M prepared -c 1 -T "$seconds" -f call.sql -l --log-prefix=log >/dev/null 2>"$work/err") ||
        { echo "| $name | failed: $(tail -1 "$work/err") | | |"; continue; }
    cat "$work"/log* | awk '{print $3 / 1000}' | sort -n >"$work/lat"
    n=$(wc -l <"$work/lat")
    p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.3f", $1}' "$work/lat")
    p95=$(awk -v n="$n" 'NR == int(n * 0.95) + 1 {printf "%.3f", $1}' "$work/lat")
    echo "| \`$name\` | $n | $p50 | $p95 |"
done
psql_q -c "DROP SCHEMA serve CASCADE" 2>/dev/null || true
