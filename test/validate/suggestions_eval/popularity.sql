-- Baseline: the items bought by the most training customers, minus what the
-- customer bought before (unless re-buyable). The 300 most popular items
-- are the candidates.
DROP TABLE IF EXISTS eval.recs;
CREATE TABLE eval.recs AS
WITH popular AS MATERIALIZED (
    SELECT item_id, row_number() OVER (ORDER BY count(DISTINCT customer_id) DESC, item_id) AS r
    FROM eval.train GROUP BY item_id ORDER BY r LIMIT 300),
candidates AS (
    SELECT c.customer_id, p.item_id, p.r, row_number() OVER (PARTITION BY c.customer_id ORDER BY p.r) AS k
    FROM eval.customers c CROSS JOIN popular p
    WHERE NOT EXISTS (SELECT 1 FROM eval.excluded x WHERE x.customer_id = c.customer_id AND x.item_id = p.item_id))
SELECT customer_id, array_agg(item_id ORDER BY r) AS recommended FROM candidates WHERE k <= 10 GROUP BY customer_id;
