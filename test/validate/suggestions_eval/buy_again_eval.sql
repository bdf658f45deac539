-- "Buy again" against the time split (docs/suggestions.md): relevant = the
-- items a customer bought in the test period that they had bought in
-- training (repeat purchases, scored apart from the new items of
-- eval.relevant). Scorers: buy_again as of the split (:'train_end'), and
-- the baseline "the customer's own items, most purchase days first (then
-- the latest)". Prints one row per scorer: scorer, precision@10, recall@10,
-- nDCG@10, customers.
SET work_mem = '256MB';
DROP TABLE IF EXISTS eval.test_all, eval.relevant_repeat, eval.repeat_customers, eval.recs_buy_again, eval.recs_frequent;
CREATE TABLE eval.relevant_repeat AS
SELECT l.customer_id, array_agg(DISTINCT l.item_id ORDER BY l.item_id) AS relevant
FROM eval.test_lines l
WHERE EXISTS (SELECT 1 FROM eval.train t WHERE t.customer_id = l.customer_id AND t.item_id = l.item_id)
GROUP BY l.customer_id;
CREATE TABLE eval.repeat_customers AS SELECT customer_id FROM eval.relevant_repeat;
CREATE TABLE eval.recs_buy_again AS
SELECT customer_id, array_agg(item_id ORDER BY rank) AS recommended
FROM personalize.batch_buy_again('eval.repeat_customers', 'eval.train', 10, :'train_end'::timestamptz)
GROUP BY customer_id;
CREATE TABLE eval.recs_frequent AS
SELECT customer_id, (array_agg(item_id ORDER BY days DESC, last DESC, item_id))[1:10] AS recommended
FROM (SELECT t.customer_id, t.item_id, count(DISTINCT t.bought_at::date) AS days, max(t.bought_at) AS last
      FROM eval.train t JOIN eval.repeat_customers c USING (customer_id) GROUP BY 1, 2) x
GROUP BY customer_id;
SELECT 'buy_again (as of the split)', round(precision_at_k::numeric, 4), round(recall_at_k::numeric, 4),
       round(ndcg_at_k::numeric, 4), customers
FROM personalize.evaluate_recommendations('eval.recs_buy_again', 'eval.relevant_repeat', 10)
UNION ALL
SELECT 'own items, most purchase days first', round(precision_at_k::numeric, 4), round(recall_at_k::numeric, 4),
       round(ndcg_at_k::numeric, 4), customers
FROM personalize.evaluate_recommendations('eval.recs_frequent', 'eval.relevant_repeat', 10);
