-- The pg_personalize showcase, run by scripts/demo.sh against a throwaway
-- cluster. Each pillar adds its part here.
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION pg_personalize;

\echo
\echo '== The demo shop: a deterministic web shop generated in C++ (size demo, seed 42) =='
SELECT table_name AS "table", row_count AS "rows" FROM personalize.load_demo_shop('shop', 'demo', 42);

\echo
\echo '== Customer summary: one aggregate call per customer (the input of RFM and lifetime models) =='
\echo 'Repeat purchases (frequency) across customers who ordered, as of 2026-01-01:'
CREATE TEMP TABLE summary AS
SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total::float8, '2026-01-01', '1 week')).*
FROM shop.orders o
WHERE o.status <> 'cancelled'
GROUP BY o.customer_id;
SELECT CASE WHEN frequency >= 10 THEN '10+' ELSE frequency::text END AS repeat_purchases,
       count(*) AS customers,
       round(avg(total)::numeric, 2) AS "avg spent £",
       round(avg(age)::numeric, 1) AS "avg weeks since first order"
FROM summary
GROUP BY 1 ORDER BY min(frequency);

\echo
\echo 'The five biggest spenders (recency and age in weeks, monetary = mean repeat order £):'
SELECT customer_id, orders, frequency, round(recency::numeric, 1) AS recency, round(age::numeric, 1) AS age,
       round(monetary::numeric, 2) AS monetary, round(total::numeric, 2) AS total
FROM summary ORDER BY total DESC, customer_id LIMIT 5;

\echo
\echo 'Signed up but never ordered (the first-order offer audience):'
SELECT count(*) AS customers_without_orders
FROM shop.customers c
WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.customer_id AND o.status <> 'cancelled');

\echo
\echo '== Complementary pairs planted in the demo data (basket mining will have to find these) =='
SELECT a.name AS "bought", c.name AS "also bought", p.attach_rate
FROM shop.planted_pairs p
JOIN shop.products a ON a.product_id = p.antecedent
JOIN shop.products c ON c.product_id = p.consequent
ORDER BY a.name;
