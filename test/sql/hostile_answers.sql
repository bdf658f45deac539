-- Wrong answers found by trying hostile input (issue 17, item 5): a table
-- argument whose columns have other types, hand-made models and strengths
-- that cannot give a finite answer. Each gives a clear error or the right
-- answer, never a heap address, a garbage id or NaN.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET personalize.memory_limit = '64MB';

\i test/sql/include/error_of.sql

CREATE SCHEMA hostile;

-- cart_suggestions reads the rules table's columns through checked types.
CREATE TABLE hostile.rules (antecedent bigint[], consequent bigint, certainty float8, consequent_support float8);
INSERT INTO hostile.rules VALUES
    ('{1}', 2, 0.5, 0.1), ('{1}', 3, 0.25, 0.2), ('{1}', 1, 0.9, 0.3),
    ('{}', 7, 0.01, 0.5), ('{}', NULL, 0.01, 0.9), ('{}', 1, 0.01, 0.4), ('{1}', NULL, 0.99, 0.1);
SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5);
-- Over a view where consequent is numeric or float8: an error naming the column.
CREATE VIEW hostile.numeric_rules AS
    SELECT antecedent, consequent::numeric AS consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.float_rules AS
    SELECT antecedent, consequent::float8 AS consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.int_rules AS
    SELECT antecedent, consequent::integer AS consequent, certainty::numeric AS certainty,
           consequent_support::real AS consequent_support FROM hostile.rules;
CREATE VIEW hostile.int4_antecedent AS
    SELECT antecedent::integer[] AS antecedent, consequent, certainty, consequent_support FROM hostile.rules;
CREATE VIEW hostile.text_certainty AS
    SELECT antecedent, consequent, certainty::text AS certainty, consequent_support FROM hostile.rules;
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.numeric_rules', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.float_rules', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.int4_antecedent', 5)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.text_certainty', 5)$$);
-- Integer and other number types are read exactly.
SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.int_rules', 5);
-- A table changed under the kept plan is checked again.
CREATE TABLE hostile.changing_rules AS SELECT * FROM hostile.rules;
SELECT count(*) FROM personalize.cart_suggestions(ARRAY[1], 'hostile.changing_rules', 5);
ALTER TABLE hostile.changing_rules ALTER COLUMN consequent TYPE numeric;
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.changing_rules', 5)$$);
-- A certainty a rules table cannot hold.
INSERT INTO hostile.rules VALUES ('{1}', 9, 'NaN', 0.1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5)$$);
DELETE FROM hostile.rules WHERE consequent = 9;
INSERT INTO hostile.rules VALUES ('{1}', 9, 1.5, 0.1);
SELECT pg_temp.error_of($$SELECT * FROM personalize.cart_suggestions(ARRAY[1], 'hostile.rules', 5)$$);
DELETE FROM hostile.rules WHERE consequent = 9;

-- suggestions and batch_suggestions: the same checks on their tables.
CREATE TABLE hostile.history (customer_id bigint, item_id bigint, bought_at timestamptz);
INSERT INTO hostile.history VALUES (1, 10, '2025-01-01'), (1, 11, '2025-01-02'), (2, 10, '2025-01-03');
CREATE TABLE hostile.similarities (item bigint, neighbour bigint, score float8, together bigint);
INSERT INTO hostile.similarities VALUES (10, 10, 1, 2), (10, 12, 0.5, 1), (11, 11, 1, 1), (12, 12, 1, 1), (11, 12, 0.25, 1);
SELECT rank, item_id, round(score::numeric, 6) AS score, source FROM personalize.suggestions(1, 'hostile.history', 'hostile.similarities', 3);
CREATE VIEW hostile.numeric_history AS SELECT customer_id, item_id::numeric AS item_id, bought_at FROM hostile.history;
CREATE VIEW hostile.text_time_history AS SELECT customer_id, item_id, bought_at::text AS bought_at FROM hostile.history;
CREATE VIEW hostile.float_similarities AS
    SELECT item::float8 AS item, neighbour, score, together FROM hostile.similarities;
CREATE VIEW hostile.nan_similarities AS
    SELECT item, neighbour, CASE WHEN item <> neighbour THEN 'NaN'::float8 ELSE score END AS score, together
    FROM hostile.similarities;
CREATE VIEW hostile.items AS SELECT 10::bigint AS item_id, 'yes'::text AS rebuyable;
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.numeric_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.text_time_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.float_similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.nan_similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.suggestions(1, 'hostile.history', 'hostile.similarities', 3, items => 'hostile.items')$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'hostile.numeric_history', 'hostile.similarities', 3)$$);
SELECT pg_temp.error_of($$SELECT * FROM personalize.batch_suggestions(NULL, 'hostile.history', 'hostile.nan_similarities', 3)$$);
