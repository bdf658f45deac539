-- After a dataset's eval.train, eval.test_lines and eval.items exist: the
-- relevant items, the test customers and the exclusions.
-- Millions of (customer, item) pairs are hashed and sorted: room for it.
SET work_mem = '256MB';
CREATE INDEX ON eval.train (customer_id, item_id);
ANALYZE eval.train;
CREATE TABLE eval.excluded AS
SELECT DISTINCT t.customer_id, t.item_id FROM eval.train t
LEFT JOIN eval.items i USING (item_id) WHERE NOT coalesce(i.rebuyable, false);
CREATE INDEX ON eval.excluded (customer_id, item_id);
-- Relevant: bought in the test period, new to the customer (or re-buyable);
-- only customers with training history are evaluated.
CREATE TABLE eval.relevant AS
SELECT l.customer_id, array_agg(DISTINCT l.item_id ORDER BY l.item_id) AS relevant
FROM eval.test_lines l
WHERE EXISTS (SELECT 1 FROM eval.train t WHERE t.customer_id = l.customer_id)
  AND NOT EXISTS (SELECT 1 FROM eval.excluded x WHERE x.customer_id = l.customer_id AND x.item_id = l.item_id)
GROUP BY l.customer_id;
CREATE TABLE eval.customers AS SELECT customer_id FROM eval.relevant;
-- Popularity for ARP: the share of training customers who bought the item.
CREATE TABLE eval.popularity AS
SELECT item_id, count(DISTINCT customer_id)::float8 / (SELECT count(DISTINCT customer_id) FROM eval.train) AS popularity
FROM eval.train GROUP BY item_id;
CREATE TABLE eval.info AS
SELECT :'dataset'::text AS dataset, (SELECT count(DISTINCT item_id) FROM eval.train) AS catalogue;
ANALYZE eval.relevant;
ANALYZE eval.customers;
