-- FIMI retail: baskets without customers or dates (eval.raw_baskets: line
-- number, item). Protocol "given half": the first 80% of the baskets in file
-- order train; each later basket with >= 2 items is a test customer whose
-- items are split by a fixed hash into a known half (added to eval.train)
-- and a hidden half (relevant). File order stands in for time. Nothing is
-- re-buyable (a basket holds an item once).
CREATE TABLE eval.items AS SELECT DISTINCT item AS item_id, NULL::text AS category, false AS rebuyable FROM eval.raw_baskets;
CREATE TEMP TABLE split AS
SELECT basket, item,
       basket > (SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY basket) FROM eval.raw_baskets) AS test,
       (('x' || substr(md5(basket || ':' || item), 1, 8))::bit(32)::integer & 1) = 0 AS known
FROM eval.raw_baskets;
-- Test baskets need a known and a hidden item.
DELETE FROM split s USING (SELECT basket FROM split WHERE test GROUP BY basket HAVING count(DISTINCT known) < 2) one
WHERE s.basket = one.basket;
CREATE TABLE eval.train AS
SELECT basket AS customer_id, basket AS basket_id, item AS item_id,
       timestamptz '2000-01-01' + basket * interval '1 minute' AS bought_at
FROM split WHERE NOT test OR known;
CREATE TABLE eval.test_lines AS SELECT basket AS customer_id, item AS item_id FROM split WHERE test AND NOT known;
