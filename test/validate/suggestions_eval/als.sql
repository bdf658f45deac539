-- ALS (docs/als.md): implicit-feedback factors fitted on the training
-- rows, strength = the number of training purchases of the item; the top 10
-- items each customer has not bought in training (ALS leaves out every
-- bought item, re-buyable ones too). Variables: factors, iterations,
-- regularization, alpha.
DROP TABLE IF EXISTS eval.als, eval.recs;
CREATE TABLE eval.als AS
SELECT personalize.als_fit(customer_id, item_id, n::float8, :factors, :iterations, :regularization, :alpha, 0) AS model
FROM (SELECT customer_id, item_id, count(*) AS n FROM eval.train GROUP BY customer_id, item_id) t;
CREATE TABLE eval.recs AS
SELECT r.customer_id, r.items AS recommended
FROM eval.als m, personalize.als_recommend_batch(m.model, 10, (SELECT array_agg(customer_id) FROM eval.customers)) r;
