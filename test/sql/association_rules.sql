-- personalize.association_rules: hand-checked metrics, longer itemsets,
-- options, NULLs, empty input, bad input, large baskets, interrupts.
SET client_min_messages = notice;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

-- Ten baskets. Item counts: 1:6, 2:7, 3:5, 4:3, 5:2; pair {1,2}: 4, {2,4}: 3.
-- By hand, rule {1} => 2: support 0.4, confidence 0.4/0.6 = 0.6667,
-- lift 0.6667/0.7 = 0.9524, leverage 0.4 - 0.6*0.7 = -0.02,
-- conviction 0.3/0.3333 = 0.9, jaccard 0.4/0.9 = 0.4444,
-- certainty (0.6667-0.7)/0.3 = -0.1111, kulczynski (0.6667+0.5714)/2 = 0.6190,
-- zhang -0.02/max(0.4*0.4, 0.6*0.3) = -0.1111.
-- Rule {4} => 2: confidence 1, so conviction is Infinity; certainty 1;
-- zhang (0.3-0.21)/max(0.3*0.7, 0.3*0.4) = 0.4286.
CREATE TEMP TABLE fixture AS SELECT '{1:{1,2,3},2:{1,2},3:{1,3},4:{1,2,4},5:{2,3},6:{2,4},7:{1,2,3,4},8:{3,5},9:{1,5},10:{2}}'::personalize.baskets AS b;

SELECT antecedent, consequent, count, round(antecedent_support::numeric, 4) AS a_supp,
       round(consequent_support::numeric, 4) AS c_supp, round(support::numeric, 4) AS supp,
       round(confidence::numeric, 4) AS conf, round(lift::numeric, 4) AS lift,
       round(leverage::numeric, 4) AS leverage,
       CASE WHEN conviction = 'Infinity' THEN 'Infinity' ELSE round(conviction::numeric, 4)::text END AS conviction,
       round(jaccard::numeric, 4) AS jaccard, round(certainty::numeric, 4) AS certainty,
       round(kulczynski::numeric, 4) AS kulczynski, round(zhangs_metric::numeric, 4) AS zhang
FROM fixture, personalize.association_rules(b, min_support => 0.3)
ORDER BY antecedent, consequent;
-- conviction is a real float8 Infinity at confidence 1 (MADlib shows 0).
SELECT antecedent, consequent, conviction, conviction = 'Infinity'::float8 AS is_infinity
FROM fixture, personalize.association_rules(b, 0.3)
WHERE confidence = 1;

-- min_len => 1 adds {} => item for every frequent item: its popularity
-- (support = confidence = consequent_support, lift 1), which serving uses
-- as the fallback.
SELECT antecedent, consequent, count, support, confidence, lift, certainty
FROM fixture, personalize.association_rules(b, 0.3, min_len => 1)
WHERE antecedent = '{}'
ORDER BY consequent;
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.3, max_len => 2, min_len => 3)$$);

-- Longer itemsets (FP-Growth): {1,2,3} and {1,2,4} occur twice.
SELECT antecedent, consequent, count, round(confidence::numeric, 4) AS conf, round(lift::numeric, 4) AS lift
FROM fixture, personalize.association_rules(b, min_support => 0.2, max_len => 3)
WHERE cardinality(antecedent) = 2
ORDER BY antecedent, consequent;
-- Pair rules are the same whichever path computes them.
SELECT count(*) AS pair_rules_differing FROM (
    (SELECT antecedent, consequent, count, confidence FROM fixture, personalize.association_rules(b, 0.2, 0, 2)
     EXCEPT
     SELECT antecedent, consequent, count, confidence FROM fixture, personalize.association_rules(b, 0.2, 0, 4)
     WHERE cardinality(antecedent) = 1)
    UNION ALL
    (SELECT antecedent, consequent, count, confidence FROM fixture, personalize.association_rules(b, 0.2, 0, 4)
     WHERE cardinality(antecedent) = 1
     EXCEPT
     SELECT antecedent, consequent, count, confidence FROM fixture, personalize.association_rules(b, 0.2, 0, 2))) d;

-- Options: absolute minimum count, confidence, target consequents,
-- allowed antecedent items, and a basket-size cap with a NOTICE.
SELECT count(*) AS rules_min_count_3 FROM fixture, personalize.association_rules(b, min_count => 3);
SELECT count(*) AS rules_conf_0_7 FROM fixture, personalize.association_rules(b, 0.2, min_confidence => 0.7);
SELECT antecedent, consequent FROM fixture, personalize.association_rules(b, 0.2, consequents => '{4}')
ORDER BY 1, 2;
SELECT antecedent, consequent FROM fixture, personalize.association_rules(b, 0.1, max_len => 3, antecedents => '{3,5}')
ORDER BY 1, 2;
SELECT count(*) AS rules_small_baskets FROM fixture, personalize.association_rules(b, min_count => 2, max_basket_size => 3);

-- NULL baskets and an empty collection give no rules; NULL options mean defaults.
SELECT count(*) AS rules_from_null FROM personalize.association_rules(NULL::personalize.baskets, 0.1);
SELECT count(*) AS rules_from_empty FROM personalize.association_rules('{}', 0.1);
SELECT count(*) AS rules_with_null_options FROM fixture, personalize.association_rules(b, NULL, NULL, NULL);

-- Bad input names the argument.
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 1.5)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.1, -0.1)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.1, 1.01)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.1, max_len => 1)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, min_count => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.1, max_basket_size => 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM fixture, personalize.association_rules(b, 0.1, consequents => '{}')$$);

-- A 10,000-item basket among ordinary ones is mined without trouble (its
-- items are rare, so it adds candidates but few rules), or skipped by the cap.
CREATE TEMP TABLE big AS
SELECT personalize.merge_baskets(b, (SELECT personalize.baskets(0, i) FROM generate_series(1, 10000) i)) AS b
FROM fixture;
SELECT (personalize.basket_stats(b)).* FROM big;
SELECT count(*) AS rules_with_big_basket FROM big, personalize.association_rules(b, min_count => 3);
SELECT count(*) AS rules_big_basket_skipped FROM big, personalize.association_rules(b, min_count => 3, max_basket_size => 100);

-- statement_timeout stops long mining inside C++ (3.3 million rules of up
-- to five items from identical 40-item baskets), and nothing leaks.
CREATE TEMP TABLE heavy AS
SELECT personalize.baskets(basket, item) AS b FROM generate_series(1, 3) basket, generate_series(1, 40) item;
SET statement_timeout = '500ms';
SELECT count(*) FROM heavy, personalize.association_rules(b, min_count => 1, max_len => 5);
RESET statement_timeout;
SELECT personalize.live_cpp_objects() AS live_after_timeout;
