-- Complete Journey sample (eval.raw_lines: household, basket, product,
-- timestamp; eval.raw_products: product, category): households are the
-- customers; before :train_end train, from there to :test_end test (the test
-- split: 2017-10-01 and 2018-01-01; the validation split one quarter earlier). Groceries are all
-- re-buyable in life, but the sample is 75,000 random lines (few repeats),
-- so the test asks for items new to the household.
CREATE TABLE eval.items AS
SELECT p.product_id::bigint AS item_id, p.category, false AS rebuyable FROM eval.raw_products p;
CREATE TABLE eval.train AS
SELECT household_id::bigint AS customer_id, basket_id::bigint, product_id::bigint AS item_id, bought_at
FROM eval.raw_lines WHERE bought_at < :'train_end';
CREATE TABLE eval.test_lines AS
SELECT household_id::bigint AS customer_id, product_id::bigint AS item_id FROM eval.raw_lines WHERE bought_at >= :'train_end' AND bought_at < :'test_end';
