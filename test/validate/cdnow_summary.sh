#!/usr/bin/env bash
# customer_summary on the CDNOW 1/10 sample (2,357 customers) must equal the
# published calibration summary (x, t_x, T, zbar; weekly unit, calibration
# period ending 1997-09-30) to that file's 2-decimal rounding.
# Usage: cdnow_summary.sh SHARED_DATA_DIR   (needs a PostgreSQL connection via PG* variables)
set -euo pipefail
data=${1:?usage: cdnow_summary.sh SHARED_DATA_DIR}
sample=$data/cdnow/CDNOW_sample.txt
reference=$data/cdnow/cdnow_customers_summary_with_transactions.csv
name=cdnow_summary
if [ ! -f "$sample" ] || [ ! -f "$reference" ]; then
    echo "SKIP $name: CDNOW files not found under $data/cdnow"
    exit 0
fi

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
DROP TABLE IF EXISTS cdnow_sample, cdnow_reference;
CREATE TABLE cdnow_sample (customer_id int, ordered_on date, cds int, dollars float8);
CREATE TABLE cdnow_reference (customer_id int, x int, t_x float8, big_t float8, zbar float8);
SQL
# The sample is whitespace-aligned: master id, sample id, YYYYMMDD, CDs, dollars.
awk '{ print $2 "," $3 "," $4 "," $5 }' "$sample" |
    psql -qX -v ON_ERROR_STOP=1 -c "\copy cdnow_sample FROM STDIN WITH (FORMAT csv)"
psql -qX -v ON_ERROR_STOP=1 -c "\copy cdnow_reference FROM '$reference' WITH (FORMAT csv, HEADER true)"

result=$(psql -qXAt -v ON_ERROR_STOP=1 <<'SQL'
SET TimeZone = 'UTC';
WITH summary AS (
    SELECT customer_id,
           (personalize.customer_summary(ordered_on, dollars, '1997-09-30', '1 week')).*
    FROM cdnow_sample
    WHERE ordered_on <= '1997-09-30'
    GROUP BY customer_id
)
SELECT count(*) || ' ' ||
       count(*) FILTER (WHERE s.frequency = r.x
                          AND abs(s.recency - r.t_x) <= 0.005 + 1e-9
                          AND abs(s.age - r.big_t) <= 0.005 + 1e-9
                          AND abs(s.monetary - r.zbar) <= 0.005 + 1e-9) || ' ' ||
       (SELECT count(*) FROM cdnow_reference)
FROM cdnow_reference r JOIN summary s USING (customer_id);
SQL
)
read -r joined matched expected <<<"$result"
if [ "$joined" = "$expected" ] && [ "$matched" = "$expected" ]; then
    echo "PASS $name: all $expected CDNOW customers match x, t_x, T and zbar"
else
    echo "FAIL $name: $matched of $expected customers match ($joined joined)"
    psql -qX <<'SQL'
SELECT r.*, s.frequency, round(s.recency::numeric, 3) AS recency, round(s.age::numeric, 3) AS age,
       round(s.monetary::numeric, 3) AS monetary
FROM cdnow_reference r
LEFT JOIN (SELECT customer_id, (personalize.customer_summary(ordered_on, dollars, '1997-09-30', '1 week')).*
           FROM cdnow_sample WHERE ordered_on <= '1997-09-30' GROUP BY customer_id) s USING (customer_id)
WHERE s.frequency IS DISTINCT FROM r.x OR abs(s.recency - r.t_x) > 0.005 + 1e-9
   OR abs(s.age - r.big_t) > 0.005 + 1e-9 OR abs(s.monetary - r.zbar) > 0.005 + 1e-9
LIMIT 10;
SQL
fi
psql -qX -c "DROP TABLE cdnow_sample, cdnow_reference"
