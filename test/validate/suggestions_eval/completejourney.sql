-- Complete Journey sample (eval.raw_lines: household, basket, product,
-- timestamp; eval.raw_products: product, category): households are the
-- customers; 2017-01..09 train, 2017-10..12 test. Groceries are all
-- re-buyable in life, but the sample is 75,000 random lines (few repeats),
-- so the test asks for items new to the household.
CREATE TABLE eval.items AS
SELECT p.product_id::bigint AS item_id, p.category, false AS rebuyable FROM eval.raw_products p;
CREATE TABLE eval.train AS
SELECT household_id::bigint AS customer_id, basket_id::bigint, product_id::bigint AS item_id, bought_at
FROM eval.raw_lines WHERE bought_at < '2017-10-01';
CREATE TABLE eval.test_lines AS
SELECT household_id::bigint AS customer_id, product_id::bigint AS item_id FROM eval.raw_lines WHERE bought_at >= '2017-10-01';
