-- The Complete Journey sample with product categories (304) as the items:
-- a product seen once or twice in 75,000 random lines says little, its
-- category more. Replaces the product-level tables; same split.
DROP TABLE eval.items, eval.train, eval.test_lines, eval.excluded, eval.relevant, eval.customers, eval.info, eval.popularity;
CREATE TEMP TABLE category_ids AS
SELECT category, dense_rank() OVER (ORDER BY category) AS category_id
FROM (SELECT DISTINCT category FROM eval.raw_products WHERE category IS NOT NULL) c;
CREATE TABLE eval.items AS SELECT category_id AS item_id, category, false AS rebuyable FROM category_ids;
CREATE TEMP TABLE category_lines AS
SELECT l.household_id::bigint AS customer_id, l.basket_id::bigint AS basket_id, c.category_id AS item_id, l.bought_at
FROM eval.raw_lines l JOIN eval.raw_products p USING (product_id) JOIN category_ids c USING (category);
CREATE TABLE eval.train AS SELECT * FROM category_lines WHERE bought_at < :'train_end';
CREATE TABLE eval.test_lines AS SELECT customer_id, item_id FROM category_lines
WHERE bought_at >= :'train_end' AND bought_at < :'test_end';
