-- pg_personalize 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_personalize UPDATE).
-- Every change to the SQL surface made in 0.2.0 is here, in the same commit
-- as the change; test/upgrade/run.sh proves that 0.1.0 updated by this script
-- has the catalog of a fresh 0.2.0 install and keeps its stored data.

\echo Use "ALTER EXTENSION pg_personalize UPDATE TO '0.2.0'" to load this file. \quit

-- Segment maps: pg_dump keeps edits of the shipped maps --------------------
-- 0.1.0 kept the shipped maps (rf_grid, rfm_rules) and the shop's maps in one
-- table whose dump condition left the shipped maps out, so a restored
-- database silently lost the shop's edits of them. 0.2.0 keeps the shipped
-- rules apart (segment_rules_shipped, not dumped), the shop's rules in
-- segment_rules_custom (dumped whole), and segment_rules is a view that
-- copies a shipped map on its first edit (see src/sql/10_customers.sql).
-- The 0.1.0 table becomes the custom table, keeping its rows, constraints
-- and its place in the extension's dump list.
ALTER TABLE segment_rules RENAME TO segment_rules_custom;
COMMENT ON TABLE segment_rules_custom IS
    'the shop''s segment maps and its edited copies of shipped maps (dumped); edit them through the view segment_rules';
SELECT pg_catalog.pg_extension_config_dump('personalize.segment_rules_custom', '');

-- The shipped maps, as this version of the extension ships them (not dumped:
-- CREATE EXTENSION makes them again).
CREATE TABLE segment_rules_shipped (LIKE segment_rules_custom INCLUDING CONSTRAINTS,
                                    CONSTRAINT segment_rules_shipped_pkey PRIMARY KEY (map, segment));
COMMENT ON TABLE segment_rules_shipped IS
    'the segment maps shipped with the extension (rf_grid, rfm_rules), as shipped; read them through segment_rules';

-- Shipped maps the shop has edited: their rules are the copies in
-- segment_rules_custom (dumped, so a restored database keeps the choice).
CREATE TABLE segment_maps_customized (
    map text PRIMARY KEY
);
COMMENT ON TABLE segment_maps_customized IS
    'shipped segment maps the shop has edited (their rules are in segment_rules_custom); reset_segment_map() undoes it';
SELECT pg_catalog.pg_extension_config_dump('personalize.segment_maps_customized', '');

-- rf_grid: a 5x5 grid on R and F; every cell is covered exactly once.
INSERT INTO segment_rules_shipped (map, segment, priority, r_min, r_max, f_min, f_max) VALUES
    ('rf_grid', 'Hibernating',          1, 1, 2, 1, 2),
    ('rf_grid', 'At Risk',              2, 1, 2, 3, 4),
    ('rf_grid', 'Can''t Lose Them',     3, 1, 2, 5, 5),
    ('rf_grid', 'About to Sleep',       4, 3, 3, 1, 2),
    ('rf_grid', 'Need Attention',       5, 3, 3, 3, 3),
    ('rf_grid', 'Loyal Customers',      6, 3, 4, 4, 5),
    ('rf_grid', 'Promising',            7, 4, 4, 1, 1),
    ('rf_grid', 'New Customers',        8, 5, 5, 1, 1),
    ('rf_grid', 'Potential Loyalists',  9, 4, 5, 2, 3),
    ('rf_grid', 'Champions',           10, 5, 5, 4, 5);
-- rfm_rules: ordered, first match wins, otherwise 'Others'.
INSERT INTO segment_rules_shipped (map, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max) VALUES
    ('rfm_rules', 'Champions',           1, 5, 5, 5, 5, 5, 5),
    ('rfm_rules', 'Potential Loyalist',  2, 3, 5, 3, 5, 2, 5),
    ('rfm_rules', 'Loyal Customers',     3, 2, 4, 2, 4, 2, 4),
    ('rfm_rules', 'Promising',           4, 3, 4, 1, 3, 3, 5),
    ('rfm_rules', 'New Customers',       5, 4, 5, 1, 3, 1, 5),
    ('rfm_rules', 'Can''t Lose Them',    6, 1, 2, 3, 4, 4, 5),
    ('rfm_rules', 'At Risk',             7, 1, 2, 2, 5, 4, 5),
    ('rfm_rules', 'Need Attention',      8, 1, 3, 3, 5, 3, 5),
    ('rfm_rules', 'About To Sleep',      9, 2, 3, 1, 3, 1, 4),
    ('rfm_rules', 'Lost',               10, 1, 1, 1, 5, 1, 5);


-- A shipped map whose rows in the 0.1.0 table are not exactly the shipped
-- ones was edited: it stays as the shop made it. An unedited one is dropped
-- from the custom table (its shipped rules apply).
INSERT INTO segment_maps_customized (map)
SELECT m.map FROM (SELECT DISTINCT s.map FROM segment_rules_shipped s) m
WHERE EXISTS (
    (SELECT * FROM segment_rules_custom c WHERE c.map = m.map
     EXCEPT SELECT * FROM segment_rules_shipped s WHERE s.map = m.map)
    UNION ALL
    (SELECT * FROM segment_rules_shipped s WHERE s.map = m.map
     EXCEPT SELECT * FROM segment_rules_custom c WHERE c.map = m.map));
DELETE FROM segment_rules_custom c
WHERE c.map IN (SELECT s.map FROM segment_rules_shipped s)
  AND c.map NOT IN (SELECT k.map FROM segment_maps_customized k);

CREATE VIEW segment_rules AS
    SELECT c.map, c.segment, c.priority, c.r_min, c.r_max, c.f_min, c.f_max, c.m_min, c.m_max
    FROM personalize.segment_rules_custom c
    UNION ALL
    SELECT s.map, s.segment, s.priority, s.r_min, s.r_max, s.f_min, s.f_max, s.m_min, s.m_max
    FROM personalize.segment_rules_shipped s
    WHERE NOT EXISTS (SELECT 1 FROM personalize.segment_maps_customized k WHERE k.map = s.map);
COMMENT ON VIEW segment_rules IS
    'segment maps: the first rule (by priority, segment) whose inclusive r/f/m ranges contain the scores names the segment; NULL m bounds = any. Insert, update and delete here: edits of a shipped map copy it first, so pg_dump keeps them';

-- Internal: before the first edit of a shipped map, its rules are copied
-- into segment_rules_custom and the map is marked customized.
CREATE FUNCTION customize_segment_map(map text) RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM personalize.segment_rules_shipped s WHERE s.map = customize_segment_map.map)
       AND NOT EXISTS (SELECT 1 FROM personalize.segment_maps_customized k WHERE k.map = customize_segment_map.map) THEN
        INSERT INTO personalize.segment_maps_customized (map) VALUES (customize_segment_map.map);
        INSERT INTO personalize.segment_rules_custom
        SELECT * FROM personalize.segment_rules_shipped s WHERE s.map = customize_segment_map.map;
    END IF;
END
$fn$;
COMMENT ON FUNCTION customize_segment_map(text) IS 'internal: copies a shipped segment map before its first edit';

-- Internal: INSERT, UPDATE and DELETE on the view segment_rules.
CREATE FUNCTION segment_rules_edit() RETURNS trigger
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM personalize.customize_segment_map(OLD.map);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM personalize.customize_segment_map(NEW.map);
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO personalize.segment_rules_custom VALUES (NEW.*);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE personalize.segment_rules_custom c
        SET map = NEW.map, segment = NEW.segment, priority = NEW.priority, r_min = NEW.r_min, r_max = NEW.r_max,
            f_min = NEW.f_min, f_max = NEW.f_max, m_min = NEW.m_min, m_max = NEW.m_max
        WHERE c.map = OLD.map AND c.segment = OLD.segment;
        RETURN NEW;
    END IF;
    DELETE FROM personalize.segment_rules_custom c WHERE c.map = OLD.map AND c.segment = OLD.segment;
    RETURN OLD;
END
$fn$;
COMMENT ON FUNCTION segment_rules_edit() IS 'internal: edits through the view segment_rules (copy on write of shipped maps)';
CREATE TRIGGER segment_rules_edit INSTEAD OF INSERT OR UPDATE OR DELETE ON segment_rules
    FOR EACH ROW EXECUTE FUNCTION segment_rules_edit();

-- Back to the shipped rules of a shipped map: the shop's copy is removed.
-- Returns the number of rules of the copy that were removed.
CREATE FUNCTION reset_segment_map(map text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
AS $fn$
DECLARE
    removed bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules_shipped s WHERE s.map = reset_segment_map.map) THEN
        RAISE EXCEPTION 'reset_segment_map: "map" % is not a shipped map', pg_catalog.quote_literal(map)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A map of the shop''s own is removed with DELETE FROM personalize.segment_rules WHERE map = ...';
    END IF;
    DELETE FROM personalize.segment_rules_custom c WHERE c.map = reset_segment_map.map;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM personalize.segment_maps_customized k WHERE k.map = reset_segment_map.map;
    RETURN removed;
END
$fn$;
COMMENT ON FUNCTION reset_segment_map(text) IS
    'undoes the shop''s edits of a shipped segment map (rf_grid, rfm_rules): its shipped rules apply again';


-- Issue 15: EASE and RP3beta models (60_suggest.sql).
-- EASE^R (Steck 2019): B = I - P diag(1/diag(P)), P = (X'X + lambda I)^-1;
-- a row holds the item's best positive weights, its own row score 0 (EASE's
-- zero diagonal). Dense: 4 bytes per item pair, charged to
-- personalize.memory_limit before any work (rp3beta_similarities is the
-- sparse alternative for catalogues too large for it).
CREATE FUNCTION ease_similarities(
    baskets baskets,
    lambda float8 DEFAULT 500,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_ease_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION ease_similarities(baskets, float8, integer, bigint, integer) IS
    'EASE item-to-item weights (closed-form ridge regression of each item on the others) in the rows item_similarities makes';

-- RP3beta (Paudel et al. 2017): a random walk item -> customer -> item with
-- the transition probabilities raised to alpha, divided by the target's
-- popularity^beta (the damper of best sellers); sparse.
CREATE FUNCTION rp3beta_similarities(
    baskets baskets,
    alpha float8 DEFAULT 1,
    beta float8 DEFAULT 0.5,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_rp3beta_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION rp3beta_similarities(baskets, float8, float8, integer, bigint, integer) IS
    'RP3beta item-to-item scores (two-step random walk damped by popularity^beta) in the rows item_similarities makes';

-- Issue 15: buy again (60_suggest.sql).
-- "Buy again": the items a customer buys repeatedly that are due now
-- (docs/suggestions.md, "Buy again"), from their own purchase days only.
-- For each item bought on at least min_purchases distinct days up to as_of:
-- typical gap = median days between consecutive purchase days, since = days
-- from the last purchase to as_of, r = since / typical gap, and
--     score = r * exp(1 - r) * (1 - 1 / purchases)
-- (1 exactly when due, lower before and long after; more purchases, more
-- trust in the habit); due_in_days = typical gap - since (< 0: overdue).
-- history: customer_id, item_id, bought_at; lines after as_of are ignored,
-- so a past as_of replays the list of that day.
CREATE FUNCTION batch_buy_again(
    customers regclass,
    history regclass,
    n integer DEFAULT 10,
    as_of timestamptz DEFAULT now(),
    min_purchases integer DEFAULT 2)
RETURNS TABLE (customer_id bigint, rank integer, item_id bigint, score float8, purchases bigint,
               last_bought timestamptz, typical_gap_days float8, due_in_days float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text;
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION 'batch_buy_again: "history" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n IS NULL OR as_of IS NULL OR min_purchases IS NULL THEN
        RAISE EXCEPTION 'batch_buy_again: "%" must not be NULL',
            CASE WHEN n IS NULL THEN 'n' WHEN as_of IS NULL THEN 'as_of' ELSE 'min_purchases' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n < 1 THEN
        RAISE EXCEPTION 'batch_buy_again: "n" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_purchases < 2 THEN
        RAISE EXCEPTION 'batch_buy_again: "min_purchases" must be at least 2' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A typical gap needs two purchase days; items bought once are for suggestions().';
    END IF;
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'batch_buy_again: "as_of" must be a finite timestamp' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c INTO missing FROM unnest(ARRAY['customer_id', 'item_id', 'bought_at']) AS c
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = history AND a.attname = c
                      AND a.attnum > 0 AND NOT a.attisdropped) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'batch_buy_again: "history" (%) has no column %', history, missing
            USING ERRCODE = 'invalid_parameter_value', HINT = 'history needs customer_id, item_id, bought_at (a view renames).';
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH h AS (SELECT t.customer_id::bigint AS c, t.item_id::bigint AS i, t.bought_at::timestamptz AS at FROM %s t
                    WHERE t.customer_id IS NOT NULL AND t.item_id IS NOT NULL AND t.bought_at <= $2 %s),
         days AS (SELECT DISTINCT h.c, h.i, h.at::date AS day FROM h),
         gaps AS (SELECT d.c, d.i, d.day - lag(d.day) OVER (PARTITION BY d.c, d.i ORDER BY d.day) AS gap FROM days d),
         habit AS (SELECT g.c, g.i, count(*) AS purchases,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap) AS typical
                   FROM gaps g GROUP BY g.c, g.i HAVING count(*) >= $3),
         scored AS (SELECT x.c, x.i, x.purchases, l.last, x.typical,
                           extract(epoch FROM $2 - l.last)::float8 / 86400 AS since
                    FROM habit x JOIN (SELECT h.c, h.i, max(h.at) AS last FROM h GROUP BY h.c, h.i) l USING (c, i)),
         ranked AS (SELECT s.*, (s.since / s.typical) * exp(1 - s.since / s.typical) * (1 - 1.0::float8 / s.purchases) AS score
                    FROM scored s),
         numbered AS (SELECT r.*, row_number() OVER (PARTITION BY r.c ORDER BY r.score DESC, r.i) AS k FROM ranked r)
         SELECT z.c, z.k::integer, z.i, z.score, z.purchases, z.last, z.typical, z.typical - z.since
         FROM numbered z WHERE z.k <= $1 ORDER BY z.c, z.k',
        history,
        CASE WHEN customers IS NULL THEN ''
             ELSE format('AND t.customer_id::bigint IN (SELECT u.customer_id::bigint FROM %s u)', customers) END)
        USING n, as_of, min_purchases;
END
$fn$;
COMMENT ON FUNCTION batch_buy_again(regclass, regclass, integer, timestamptz, integer) IS
    'replenishment lists of every customer (or of a customer list): repeat purchases due now, from each customer''s own purchase gaps';

-- One customer's "buy again" list (for a backend): the rows batch_buy_again
-- gives that customer, without the customer_id.
CREATE FUNCTION buy_again(
    customer_id bigint,
    history regclass,
    n integer DEFAULT 10,
    as_of timestamptz DEFAULT now(),
    min_purchases integer DEFAULT 2)
RETURNS TABLE (rank integer, item_id bigint, score float8, purchases bigint,
               last_bought timestamptz, typical_gap_days float8, due_in_days float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text;
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION 'buy_again: "history" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n IS NULL OR as_of IS NULL OR min_purchases IS NULL THEN
        RAISE EXCEPTION 'buy_again: "%" must not be NULL',
            CASE WHEN n IS NULL THEN 'n' WHEN as_of IS NULL THEN 'as_of' ELSE 'min_purchases' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n < 1 THEN
        RAISE EXCEPTION 'buy_again: "n" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_purchases < 2 THEN
        RAISE EXCEPTION 'buy_again: "min_purchases" must be at least 2' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A typical gap needs two purchase days; items bought once are for suggestions().';
    END IF;
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'buy_again: "as_of" must be a finite timestamp' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c INTO missing FROM unnest(ARRAY['customer_id', 'item_id', 'bought_at']) AS c
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = history AND a.attname = c
                      AND a.attnum > 0 AND NOT a.attisdropped) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'buy_again: "history" (%) has no column %', history, missing
            USING ERRCODE = 'invalid_parameter_value', HINT = 'history needs customer_id, item_id, bought_at (a view renames).';
    END IF;
    IF customer_id IS NULL THEN
        RETURN;  -- an anonymous visitor has no habits
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH h AS (SELECT t.item_id::bigint AS i, t.bought_at::timestamptz AS at FROM %s t
                    WHERE t.customer_id = $4 AND t.item_id IS NOT NULL AND t.bought_at <= $2),
         days AS (SELECT DISTINCT h.i, h.at::date AS day FROM h),
         gaps AS (SELECT d.i, d.day - lag(d.day) OVER (PARTITION BY d.i ORDER BY d.day) AS gap FROM days d),
         habit AS (SELECT g.i, count(*) AS purchases, percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap) AS typical
                   FROM gaps g GROUP BY g.i HAVING count(*) >= $3),
         scored AS (SELECT x.i, x.purchases, l.last, x.typical, extract(epoch FROM $2 - l.last)::float8 / 86400 AS since
                    FROM habit x JOIN (SELECT h.i, max(h.at) AS last FROM h GROUP BY h.i) l USING (i)),
         ranked AS (SELECT s.*, (s.since / s.typical) * exp(1 - s.since / s.typical) * (1 - 1.0::float8 / s.purchases) AS score
                    FROM scored s),
         numbered AS (SELECT r.*, row_number() OVER (ORDER BY r.score DESC, r.i) AS k FROM ranked r)
         SELECT z.k::integer, z.i, z.score, z.purchases, z.last, z.typical, z.typical - z.since
         FROM numbered z WHERE z.k <= $1 ORDER BY z.k', history)
        USING n, as_of, min_purchases, customer_id;
END
$fn$;
COMMENT ON FUNCTION buy_again(bigint, regclass, integer, timestamptz, integer) IS
    'one customer''s replenishment list: the items they buy repeatedly, ranked by how due they are (own purchase gaps)';

-- Issue 15: evaluate_recommendations reports popularity bias (gini, arp; optional popularity table).
-- The 0.1.0 signature is replaced (a new argument and two new columns).
DROP FUNCTION evaluate_recommendations(regclass, regclass, integer, bigint);
-- A scorer's whole result: recommendations (customer_id, recommended
-- bigint[] in rank order) against relevant (customer_id, relevant bigint[]).
-- Every customer with relevant items counts (no recommendations: zero);
-- coverage = distinct items among their first k / catalogue. The bias
-- columns (Elliot's beyond-accuracy metrics) over the same first k: gini =
-- Gini index of how often each catalogue item is recommended (0: every item
-- equally often, near 1: a few items everywhere; items never recommended
-- count as 0 when catalogue is given); arp = average recommendation
-- popularity, the mean over customers of the mean popularity of their
-- items, from popularity (item_id, popularity), e.g. the share of training
-- customers who bought the item (NULL without it; an unlisted item counts 0).
CREATE FUNCTION evaluate_recommendations(recommendations regclass, relevant regclass, k integer DEFAULT 10,
                                         catalogue bigint DEFAULT NULL, popularity regclass DEFAULT NULL)
    RETURNS TABLE (customers bigint, precision_at_k float8, recall_at_k float8, ndcg_at_k float8,
                   coverage float8, items_recommended bigint, gini float8, arp float8)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF recommendations IS NULL OR relevant IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "%" must not be NULL',
            CASE WHEN recommendations IS NULL THEN 'recommendations' ELSE 'relevant' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF catalogue IS NOT NULL AND catalogue < 1 THEN
        RAISE EXCEPTION 'evaluate_recommendations: "catalogue" must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH t AS (SELECT r.customer_id::bigint AS c, r.relevant::bigint[] AS rel FROM %s r
                    WHERE cardinality(r.relevant) > 0),
         e AS (SELECT t.c, t.rel, x.recommended::bigint[] AS rec FROM t LEFT JOIN %s x ON x.customer_id = t.c),
         m AS MATERIALIZED (SELECT e.c, e.rec, personalize.ranking_metrics(e.rec, e.rel, $1) AS q FROM e),
         firsts AS (SELECT DISTINCT m.c, u.item FROM m, unnest(m.rec[1:$1]) AS u(item) WHERE u.item IS NOT NULL),
         counts AS (SELECT f.item, count(*) AS n FROM firsts f GROUP BY f.item),
         shown AS (SELECT count(*) AS items, sum(counts.n) AS total FROM counts),
         -- Gini over the catalogue: the items never recommended are the first (zero) counts.
         gini AS (SELECT sum((2 * (greatest(coalesce($2, s.items), s.items) - s.items + o.r) - greatest(coalesce($2, s.items), s.items) - 1)
                             * o.n)::float8 / (greatest(coalesce($2, s.items), s.items) * s.total) AS g
                  FROM shown s, (SELECT counts.n, row_number() OVER (ORDER BY counts.n, counts.item) AS r FROM counts) o
                  GROUP BY s.items, s.total),
         arp AS (SELECT avg(per.p) AS a FROM (SELECT f.c, avg(coalesce(p.popularity::float8, 0)) AS p
                                               FROM firsts f LEFT JOIN %s p ON p.item_id = f.item GROUP BY f.c) per)
         SELECT count(*) FILTER (WHERE (m.q).precision_at_k IS NOT NULL),
                avg((m.q).precision_at_k), avg((m.q).recall_at_k), avg((m.q).ndcg_at_k),
                (SELECT s.items FROM shown s)::float8 / $2, (SELECT s.items FROM shown s),
                (SELECT gini.g FROM gini), CASE WHEN $3 THEN (SELECT arp.a FROM arp) END
         FROM m', relevant, recommendations,
        COALESCE(popularity::text, '(SELECT NULL::bigint AS item_id, NULL::float8 AS popularity WHERE false)'))
        USING k, catalogue, popularity IS NOT NULL;
END
$fn$;
COMMENT ON FUNCTION evaluate_recommendations(regclass, regclass, integer, bigint, regclass) IS
    'mean precision@k, recall@k, nDCG@k, catalogue coverage, Gini of recommendation counts and average recommendation popularity of a scorer''s lists';
