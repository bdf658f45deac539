#!/usr/bin/env bash
# BG/NBD, Pareto/NBD and Gamma-Gamma fitted in the database on the CDNOW 1/10
# sample (summary built by customer_summary, weekly unit, calibration ending
# 1997-09-30) must reproduce the published parameters and predictions.
# Usage: cdnow_lifetime.sh SHARED_DATA_DIR   (needs a PostgreSQL connection via PG* variables)
set -euo pipefail
data=${1:?usage: cdnow_lifetime.sh SHARED_DATA_DIR}
sample=$data/cdnow/CDNOW_sample.txt
name=cdnow_lifetime
if [ ! -f "$sample" ]; then
    echo "SKIP $name: $sample not found"
    exit 0
fi
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
q -c "DROP TABLE IF EXISTS cdnow_orders" -c "CREATE TABLE cdnow_orders (customer_id int, ordered_on date, dollars float8)"
awk '{ print $2 "," $3 "," $5 }' "$sample" | q -c "\copy cdnow_orders FROM STDIN WITH (FORMAT csv)"
q <<'SQL'
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS cdnow_cbs, cdnow_models;
CREATE TABLE cdnow_cbs AS
SELECT customer_id, (personalize.customer_summary(ordered_on, dollars, '1997-09-30', '1 week')).*
FROM cdnow_orders WHERE ordered_on <= '1997-09-30' GROUP BY customer_id;
CREATE TABLE cdnow_models AS
SELECT (SELECT personalize.bgnbd_fit(frequency, recency, age) FROM cdnow_cbs) AS bgnbd,
       (SELECT personalize.pareto_nbd_fit(frequency, recency, age) FROM cdnow_cbs) AS pareto,
       (SELECT personalize.gamma_gamma_fit(frequency, monetary) FROM cdnow_cbs) AS spend;
SQL

# check LABEL SQL-BOOLEAN DESCRIPTION
check() {
    if [ "$(q -c "SELECT ($2) FROM cdnow_models")" = t ]; then echo "PASS $name: $1 $3"; else
        echo "FAIL $name: $1: got $(q -c "SELECT $4 FROM cdnow_models")"; fi
}
p() { echo "round(($1->'params'->>'$2')::numeric, 3)"; }
check "BG/NBD" "$(p bgnbd r) = 0.243 AND $(p bgnbd alpha) = 4.414 AND $(p bgnbd a) = 0.793 AND $(p bgnbd b) = 2.426 AND round((bgnbd->>'log_likelihood')::numeric, 1) = -9582.4" \
    "r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4 (Fader, Hardie & Lee 2005)" "bgnbd"
check "Pareto/NBD" "abs((pareto->'params'->>'r')::float8 - 0.553) < 0.0015 AND abs((pareto->'params'->>'alpha')::float8 - 10.578) < 0.015 AND abs((pareto->'params'->>'s')::float8 - 0.606) < 0.0015 AND abs((pareto->'params'->>'beta')::float8 - 11.669) < 0.05 AND round((pareto->>'log_likelihood')::numeric, 1) = -9595.0" \
    "r 0.553, alpha 10.578, s 0.606, beta 11.67, LL -9595.0 (BTYD)" "pareto"
check "Gamma-Gamma" "round((spend->'params'->>'p')::numeric, 2) = 6.25 AND round((spend->'params'->>'q')::numeric, 2) = 3.74 AND round((spend->'params'->>'gamma')::numeric, 2) = 15.44 AND (spend->>'customers')::float8 = 946" \
    "p 6.25, q 3.74, gamma 15.44 on the 946 repeat buyers" "spend"
check "E[X(39)]" "round(personalize.expected_purchases(bgnbd, 39, 2, 30.43, 38.86)::numeric, 3) = 1.226" \
    "= 1.226 for x = 2, t_x = 30.43, T = 38.86" "personalize.expected_purchases(bgnbd, 39, 2, 30.43, 38.86)"
spends=$(q -c "SELECT string_agg(round(personalize.expected_spend(m.spend, c.frequency, c.monetary)::numeric, 2)::text, ', ' ORDER BY c.customer_id)
               FROM cdnow_models m, cdnow_cbs c WHERE c.customer_id <= 10")
expected="24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17"
if [ "$spends" = "$expected" ]; then echo "PASS $name: Gamma-Gamma expected spend of customers 1-10: $spends"; else
    echo "FAIL $name: Gamma-Gamma expected spend of customers 1-10: $spends, published $expected"; fi
q -c "DROP TABLE cdnow_orders, cdnow_cbs, cdnow_models"
