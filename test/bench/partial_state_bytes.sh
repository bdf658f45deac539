#!/usr/bin/env bash
# Bytes a Citus worker sends to the coordinator per aggregate: the text form
# of the partial states of 32 shards (Citus's default shard count; rows split
# by the hash of the distribution column, as Citus does), against the text
# size of the input rows that a pull to the coordinator would move. On one
# server: the partial states are the same values Citus ships.
#
# Usage: scripts/with-temp-cluster.sh test/bench/partial_state_bytes.sh [SIZE]   (SIZE: demo or bench)
set -euo pipefail
size=${1:-demo}
export PGTZ=UTC
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
q -c "SELECT count(*) FROM personalize.load_demo_shop('shop', '$size', 42)" >/dev/null
q <<'SQL'
SET personalize.memory_limit = '2GB';
CREATE TABLE summary AS
SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 day')).*
FROM shop.orders WHERE status <> 'cancelled' GROUP BY customer_id;
-- The partial state of each aggregate, without its final function.
CREATE AGGREGATE baskets_state(bigint, bigint) (SFUNC = personalize.baskets_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE bgnbd_state(float8, float8, float8) (SFUNC = personalize.bgnbd_fit_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE kmeans_state(float8[], integer) (SFUNC = personalize.kmeans_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE logistic_state(boolean, float8[]) (SFUNC = personalize.logistic_fit_transfn, STYPE = personalize.aggregate_state);
CREATE AGGREGATE rfm_state(float8, float8, float8) (SFUNC = personalize.rfm_breakpoints_transfn, STYPE = personalize.aggregate_state);
SQL
echo "| aggregate | input rows | input rows as text (bytes) | 32 partial states as text (bytes) | ratio |"
echo "|---|---|---|---|---|"
row() {  # name, state call, input text expression, FROM, shard key
    q -c "SET personalize.memory_limit = '2GB'" -c "
        WITH shards AS (SELECT $2 AS s FROM $4 GROUP BY abs(hashint8($5)) % 32),
             input AS (SELECT count(*) AS n, sum(octet_length($3)) AS bytes FROM $4)
        SELECT format('| %s | %s | %s | %s | %s |', '$1', n, bytes, sum(octet_length(s::text)),
                      round(sum(octet_length(s::text))::numeric / bytes, 3))
        FROM shards, input GROUP BY n, bytes"
}
row baskets "baskets_state(order_id, product_id)" "concat_ws(',', order_id, product_id)" shop.order_lines order_id
row bgnbd_fit "bgnbd_state(frequency, recency, age)" "concat_ws(',', frequency, recency, age)" summary customer_id
row rfm_breakpoints "rfm_state(recency, frequency, monetary)" "concat_ws(',', recency, frequency, monetary)" summary customer_id
row kmeans "kmeans_state(ARRAY[frequency::float8, recency, monetary], 8)" "ARRAY[frequency::float8, recency, monetary]::text" summary customer_id
row logistic_fit "logistic_state(frequency > 1, ARRAY[recency, age])" "concat_ws(',', frequency > 1, ARRAY[recency, age])" summary customer_id
