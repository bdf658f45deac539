#!/usr/bin/env bash
# Benchmark: 1M customers simulated with the BG/NBD buy-till-you-die process
# turned into orders; customer_summary + bgnbd_fit + predictions for every
# customer in the database, against scipy fitting the same BG/NBD likelihood
# the way the lifetimes package does (data read out of the same database).
#
# Usage: scripts/with-temp-cluster.sh test/bench/lifetime.sh [CUSTOMERS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
customers=${1:-1000000}
export PGTZ=UTC
export PGOPTIONS="-c personalize.memory_limit=4GB"
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
ms() { sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p'; }

q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"
echo "== simulating $customers customers and their orders =="
q <<SQL
CREATE TABLE sim_orders AS
SELECT s.customer_id,
       timestamptz '2026-01-01' - (s.age * 7) * interval '1 day'
           + (s.recency * 7 * k / greatest(s.frequency, 1)) * interval '1 day' AS ordered_at,
       (20 + abs(hashint8(s.customer_id * 31 + k)) % 1000 / 10.0)::float8 AS amount
FROM personalize.simulate_customers('bgnbd', '{0.8, 8, 0.5, 3}', $customers, 1, 52, 104) s,
     generate_series(0, s.frequency::int) k;
VACUUM ANALYZE sim_orders;
SQL
echo "orders: $(q -c "SELECT count(*) FROM sim_orders")"

timings=$(psql -qX -v ON_ERROR_STOP=1 <<'SQL'
\timing on
CREATE TABLE cbs AS
SELECT customer_id, (personalize.customer_summary(ordered_at, amount, '2026-01-01', '1 week')).*
FROM sim_orders GROUP BY customer_id;
CREATE TABLE model AS SELECT personalize.bgnbd_fit(frequency, recency, age) AS m FROM cbs;
CREATE TABLE predictions AS
SELECT c.customer_id, personalize.probability_alive(m, frequency, recency, age) AS p_alive,
       personalize.expected_purchases(m, 52, frequency, recency, age) AS next_year
FROM cbs c, model;
SQL
)
read -r summary_ms fit_ms predict_ms <<<"$(echo "$timings" | ms | tr '\n' ' ')"
total=$(awk -v a="$summary_ms" -v b="$fit_ms" -v c="$predict_ms" 'BEGIN { printf "%.2f", (a + b + c) / 1000 }')
echo "summary ${summary_ms} ms, fit ${fit_ms} ms, predictions ${predict_ms} ms: ${total} s in all"
ours=$(q -c "SELECT round((m->'params'->>'r')::numeric, 6) || ' ' || round((m->'params'->>'alpha')::numeric, 6) || ' ' ||
                    round((m->'params'->>'a')::numeric, 6) || ' ' || round((m->'params'->>'b')::numeric, 6) FROM model")
echo "extension: r alpha a b = $ours (distinct triples: $(q -c "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, age FROM cbs) d"))"

echo "== scipy (lifetimes' likelihood and optimiser), same customers =="
scipy=$(/usr/bin/python3 "$here/bgnbd_scipy.py" cbs)
echo "$scipy"
read_s=$(sed -nE 's/.*read ([0-9.]+).*/\1/p' <<<"$scipy")
scipy_fit_s=$(sed -nE 's/.*fit ([0-9.]+).*/\1/p' <<<"$scipy")
echo "scipy read + fit: $(awk -v a="$read_s" -v b="$scipy_fit_s" 'BEGIN { printf "%.2f", a + b }') s; extension fit: $(awk -v a="$fit_ms" 'BEGIN { printf "%.3f", a / 1000 }') s; ratio $(awk -v a="$read_s" -v b="$scipy_fit_s" -v c="$fit_ms" 'BEGIN { printf "%.0f", (a + b) / (c / 1000) }')x"
