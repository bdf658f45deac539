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


-- Offers: the catalogue's CHECKs reject what cannot work ----------------------
-- (issue 17, item 6). 0.1.0 accepted a cap of 2147483647 per '1000000 years'
-- (after which every decide_offer failed with "timestamp out of range"), any
-- three capital letters as a currency, and an amount off in another currency
-- than the rule's. Rows already stored that break a new CHECK are kept: the
-- constraint is added NOT VALID and a WARNING names the offers; they go on
-- being decided as stored (a cap beyond 100 years counts every decision
-- instead of failing, an offer whose rule cannot apply to a context or whose
-- amount off is in another currency than the cart's is not eligible for it),
-- and new or updated rows must pass. Once they are fixed,
--   ALTER TABLE personalize.offers VALIDATE CONSTRAINT <name>;
-- makes the catalogue as a fresh install has it (docs/releases.md).
CREATE FUNCTION rule_currencies(rule text) RETURNS text[]
    AS 'MODULE_PATHNAME', 'personalize_rule_currencies'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rule_currencies(text) IS 'the currencies of an offer rule''s money literals, sorted and distinct';
CREATE FUNCTION is_currency(code text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_is_currency'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION is_currency(text) IS 'true for an ISO 4217 currency code in upper case (the codes offer rules accept)';

ALTER TABLE offers DROP CONSTRAINT offers_currency_code;
ALTER TABLE offers DROP CONSTRAINT offers_cap;
ALTER TABLE offers ADD CONSTRAINT offers_currency_code CHECK (personalize.is_currency(currency)) NOT VALID;
ALTER TABLE offers ADD CONSTRAINT offers_reward_currency
    CHECK (currency IS NULL OR personalize.rule_currencies(rule) <@ ARRAY[currency]) NOT VALID;
ALTER TABLE offers ADD CONSTRAINT offers_cap
    CHECK ((cap_count IS NULL) = (cap_interval IS NULL) AND cap_count BETWEEN 1 AND 1000000
           AND cap_interval > interval '0' AND cap_interval <= interval '100 years') NOT VALID;
ALTER TABLE offer_context_source DROP CONSTRAINT offer_context_source_currency_check;
ALTER TABLE offer_context_source ADD CONSTRAINT offer_context_source_currency_check
    CHECK (personalize.is_currency(currency)) NOT VALID;
DO $upgrade$
DECLARE
    c record;
    bad text;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('offers', 'offers_currency_code', 'offer_key', 'NOT personalize.is_currency(currency)'),
        ('offers', 'offers_reward_currency', 'offer_key',
         'currency IS NOT NULL AND NOT personalize.rule_currencies(rule) <@ ARRAY[currency]'),
        ('offers', 'offers_cap', 'offer_key',
         'NOT ((cap_count IS NULL) = (cap_interval IS NULL) AND cap_count BETWEEN 1 AND 1000000
               AND cap_interval > interval ''0'' AND cap_interval <= interval ''100 years'')'),
        ('offer_context_source', 'offer_context_source_currency_check', 'currency',
         'NOT personalize.is_currency(currency)')) v(tab, con, label, violated)
    LOOP
        EXECUTE format('SELECT string_agg(%I::text, '', '' ORDER BY %I) FROM personalize.%I WHERE %s',
                       c.label, c.label, c.tab, c.violated) INTO bad;
        IF bad IS NULL THEN
            EXECUTE format('ALTER TABLE personalize.%I VALIDATE CONSTRAINT %I', c.tab, c.con);
        ELSE
            RAISE WARNING 'pg_personalize 0.2.0: personalize.% rows break the new CHECK %: %', c.tab, c.con, bad
                USING HINT = format('Fix them, then ALTER TABLE personalize.%I VALIDATE CONSTRAINT %I; until then '
                                    'they are decided as stored.', c.tab, c.con);
        END IF;
    END LOOP;
END
$upgrade$;

-- Table arguments: the column types are checked (issue 17, item 5) --------------
-- The SQL-language functions reading a user's table by regclass check the
-- types of its columns, as the C ones do, so a numeric id is an error naming
-- the column instead of a rounded answer.
-- Internal: raises 22023 naming fn's argument arg and the column unless each
-- of rel's cols is of its kind (integer: smallint, integer or bigint; number:
-- those, real, double precision or numeric; text; timestamp: timestamptz,
-- timestamp or date; boolean; bigint[]): a query casting a column of another
-- type would answer wrongly (a numeric id rounded) or fail without naming
-- it. The same check as the C functions' (src/pg/common/relation_columns).
CREATE FUNCTION require_column_types(rel regclass, cols text[], kinds text[], fn text, arg text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'personalize_require_column_types'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION require_column_types(regclass, text[], text[], text, text) IS
    'internal: checks the types of the columns a function reads from a table given as regclass';

CREATE OR REPLACE FUNCTION snapshot_segments(map text, as_of date, scores regclass)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'snapshot_segments: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF as_of IS NULL THEN
        RAISE EXCEPTION 'snapshot_segments: "as_of" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'snapshot_segments: "as_of" must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_rules s WHERE s.map = snapshot_segments.map) THEN
        RAISE EXCEPTION 'snapshot_segments: "map" % is not a map in personalize.segment_rules', quote_literal(map)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(scores, ARRAY['customer_id', 'r', 'f', 'm'], 'snapshot_segments', 'scores');
    PERFORM personalize.require_column_types(scores, ARRAY['customer_id', 'r', 'f', 'm'],
                                             ARRAY['integer', 'integer', 'integer', 'integer'], 'snapshot_segments', 'scores');
    DELETE FROM personalize.segment_history h WHERE h.as_of = snapshot_segments.as_of AND h.map = snapshot_segments.map;
    EXECUTE format(
        'INSERT INTO personalize.segment_history (as_of, map, customer_id, segment)
         SELECT $1, $2, s.customer_id, personalize.segment($2, s.r::integer, s.f::integer, s.m::integer)
         FROM %s s WHERE s.r IS NOT NULL AND s.f IS NOT NULL', scores)
        USING as_of, map;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

CREATE OR REPLACE FUNCTION check_cohort_args(fn text, orders regclass, as_of timestamptz)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'], fn, 'orders');
    PERFORM personalize.require_column_types(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'],
                                             ARRAY['integer', 'timestamp', 'text', 'number'], fn, 'orders');
    IF as_of IS NULL THEN
        RAISE EXCEPTION '%: "as_of" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION first_time_customers(customers regclass, orders regclass)
    RETURNS TABLE (customer_id bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.require_columns(customers, ARRAY['customer_id'], 'first_time_customers', 'customers');
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'status'], 'first_time_customers', 'orders');
    PERFORM personalize.require_column_types(customers, ARRAY['customer_id'], ARRAY['integer'],
                                             'first_time_customers', 'customers');
    PERFORM personalize.require_column_types(orders, ARRAY['customer_id', 'status'], ARRAY['integer', 'text'],
                                             'first_time_customers', 'orders');
    RETURN QUERY EXECUTE format(
        'SELECT c.customer_id::bigint FROM %s c
         WHERE NOT EXISTS (SELECT 1 FROM %s o WHERE o.customer_id = c.customer_id AND o.status = ''completed'')
         ORDER BY 1', customers, orders);
END
$fn$;

CREATE OR REPLACE FUNCTION rfm_scores(customers regclass, bins integer DEFAULT 5)
    RETURNS TABLE (customer_id bigint, recency_score integer, frequency_score integer, monetary_score integer)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF customers IS NULL THEN
        RAISE EXCEPTION 'rfm_scores: "customers" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bins IS NULL THEN
        RAISE EXCEPTION 'rfm_scores: "bins" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bins NOT BETWEEN 2 AND 10 THEN
        RAISE EXCEPTION 'rfm_scores: "bins" must be between 2 and 10, not %', bins
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(customers, ARRAY['customer_id', 'recency', 'frequency', 'monetary'],
                                        'rfm_scores', 'customers');
    PERFORM personalize.require_column_types(customers, ARRAY['customer_id', 'recency', 'frequency', 'monetary'],
                                             ARRAY['integer', 'number', 'number', 'number'], 'rfm_scores', 'customers');
    -- %s of a regclass is its quoted, schema-qualified-when-needed name.
    RETURN QUERY EXECUTE format(
        'WITH c AS MATERIALIZED (
             SELECT t.customer_id::bigint AS id, t.recency::float8 AS r, t.frequency::float8 AS f,
                    t.monetary::float8 AS m
             FROM %s t),
         b AS (SELECT personalize.rfm_breakpoints(c.r, c.f, c.m, $1) AS bp FROM c)
         SELECT c.id, s.r, s.f, s.m
         FROM c CROSS JOIN b LEFT JOIN LATERAL personalize.rfm_score(b.bp, c.r, c.f, c.m) s ON true', customers)
        USING bins;
END
$fn$;

CREATE OR REPLACE FUNCTION product_complements(rules regclass, item bigint, k integer DEFAULT 10)
    RETURNS TABLE (complement bigint, confidence float8, lift float8, certainty float8)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $fn$
BEGIN
    IF k < 1 THEN
        RAISE EXCEPTION 'product_complements: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(rules, ARRAY['antecedent', 'consequent', 'confidence', 'lift', 'certainty'],
                                        'product_complements', 'rules');
    PERFORM personalize.require_column_types(rules, ARRAY['antecedent', 'consequent', 'confidence', 'lift', 'certainty'],
                                             ARRAY['bigint[]', 'integer', 'number', 'number', 'number'],
                                             'product_complements', 'rules');
    RETURN QUERY EXECUTE format(
        'SELECT r.consequent::bigint, r.confidence::float8, r.lift::float8, r.certainty::float8 FROM %s r
         WHERE r.antecedent = ARRAY[$1]::bigint[]
         ORDER BY r.certainty DESC, r.consequent LIMIT $2', rules)
        USING item, k;
END
$fn$;

CREATE OR REPLACE FUNCTION popular_items(history regclass, segments regclass DEFAULT NULL, k integer DEFAULT 100)
    RETURNS TABLE (segment text, item_id bigint, score float8, buyers bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION 'popular_items: "history" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k IS NULL THEN
        RAISE EXCEPTION 'popular_items: "k" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF k < 1 THEN
        RAISE EXCEPTION 'popular_items: "k" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.require_columns(history, ARRAY['customer_id', 'item_id'], 'popular_items', 'history');
    PERFORM personalize.require_column_types(history, ARRAY['customer_id', 'item_id'], ARRAY['integer', 'integer'],
                                             'popular_items', 'history');
    IF segments IS NOT NULL THEN  -- segment is read as text (exact for any type)
        PERFORM personalize.require_columns(segments, ARRAY['customer_id', 'segment'], 'popular_items', 'segments');
        PERFORM personalize.require_column_types(segments, ARRAY['customer_id'], ARRAY['integer'],
                                                 'popular_items', 'segments');
    END IF;
    -- %s of a regclass is its quoted, schema-qualified-when-needed name.
    RETURN QUERY EXECUTE format(
        'WITH h AS MATERIALIZED (
             SELECT DISTINCT t.customer_id::bigint AS c, t.item_id::bigint AS i FROM %s t
             WHERE t.customer_id IS NOT NULL AND t.item_id IS NOT NULL),
         s AS (SELECT g.customer_id::bigint AS c, g.segment::text AS seg FROM %s g WHERE g.segment IS NOT NULL),
         counts AS (
             SELECT NULL::text AS seg, h.i, count(*) AS buyers FROM h GROUP BY h.i
             UNION ALL
             SELECT s.seg, h.i, count(*) FROM h JOIN s USING (c) GROUP BY s.seg, h.i),
         sizes AS (
             SELECT NULL::text AS seg, count(DISTINCT h.c) AS n FROM h
             UNION ALL
             SELECT s.seg, count(DISTINCT h.c) FROM h JOIN s USING (c) GROUP BY s.seg),
         ranked AS (
             SELECT c.seg, c.i, c.buyers::float8 / z.n AS score, c.buyers,
                    row_number() OVER (PARTITION BY c.seg ORDER BY c.buyers DESC, c.i) AS r
             FROM counts c JOIN sizes z ON z.seg IS NOT DISTINCT FROM c.seg)
         SELECT seg, i, score, buyers FROM ranked WHERE r <= $1 ORDER BY seg NULLS FIRST, r',
        history,
        COALESCE(segments::text, '(SELECT NULL::bigint AS customer_id, NULL::text AS segment WHERE false)'))
        USING k;
END
$fn$;

CREATE OR REPLACE FUNCTION evaluate_recommendations(recommendations regclass, relevant regclass, k integer DEFAULT 10,
                                         catalogue bigint DEFAULT NULL)
    RETURNS TABLE (customers bigint, precision_at_k float8, recall_at_k float8, ndcg_at_k float8,
                   coverage float8, items_recommended bigint)
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
    -- The lists are read as ::bigint[] (exact for integer arrays; numeric ones round).
    PERFORM personalize.require_columns(recommendations, ARRAY['customer_id', 'recommended'],
                                        'evaluate_recommendations', 'recommendations');
    PERFORM personalize.require_columns(relevant, ARRAY['customer_id', 'relevant'], 'evaluate_recommendations', 'relevant');
    PERFORM personalize.require_column_types(recommendations, ARRAY['customer_id'], ARRAY['integer'],
                                             'evaluate_recommendations', 'recommendations');
    PERFORM personalize.require_column_types(relevant, ARRAY['customer_id'], ARRAY['integer'],
                                             'evaluate_recommendations', 'relevant');
    RETURN QUERY EXECUTE format(
        'WITH t AS (SELECT r.customer_id::bigint AS c, r.relevant::bigint[] AS rel FROM %s r
                    WHERE cardinality(r.relevant) > 0),
         e AS (SELECT t.c, t.rel, x.recommended::bigint[] AS rec FROM t LEFT JOIN %s x ON x.customer_id = t.c),
         m AS (SELECT e.c, e.rec, personalize.ranking_metrics(e.rec, e.rel, $1) AS q FROM e),
         shown AS (SELECT DISTINCT u.item FROM m, unnest(m.rec[1:$1]) AS u(item) WHERE u.item IS NOT NULL)
         SELECT count(*) FILTER (WHERE (m.q).precision_at_k IS NOT NULL),
                avg((m.q).precision_at_k), avg((m.q).recall_at_k), avg((m.q).ndcg_at_k),
                (SELECT count(*) FROM shown)::float8 / $2, (SELECT count(*) FROM shown)
         FROM m', relevant, recommendations)
        USING k, catalogue;
END
$fn$;

CREATE OR REPLACE FUNCTION configure_offer_context(orders regclass, customers regclass DEFAULT NULL,
                                        features regclass DEFAULT NULL, currency text DEFAULT 'GBP')
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    clash text;
BEGIN
    PERFORM personalize.require_columns(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'],
                                        'configure_offer_context', 'orders');
    PERFORM personalize.require_column_types(orders, ARRAY['customer_id', 'ordered_at', 'status', 'total'],
                                             ARRAY['integer', 'timestamp', 'text', 'number'], 'configure_offer_context', 'orders');
    IF customers IS NOT NULL THEN
        PERFORM personalize.require_columns(customers, ARRAY['customer_id'], 'configure_offer_context', 'customers');
        PERFORM personalize.require_column_types(customers, ARRAY['customer_id'], ARRAY['integer'],
                                                 'configure_offer_context', 'customers');
    END IF;
    IF features IS NOT NULL THEN
        PERFORM personalize.require_columns(features, ARRAY['customer_id'], 'configure_offer_context', 'features');
        PERFORM personalize.require_column_types(features, ARRAY['customer_id'], ARRAY['integer'],
                                                 'configure_offer_context', 'features');
    END IF;
    IF currency IS NULL OR NOT personalize.is_currency(currency) THEN
        RAISE EXCEPTION 'configure_offer_context: "currency" must be an ISO 4217 code such as GBP, got %',
            coalesce(quote_literal(currency), 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Columns that would overwrite what the order history gives.
    SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) INTO clash
    FROM pg_attribute a
    WHERE a.attrelid IN (customers, features) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname IN ('id', 'orders', 'first_order_at', 'last_order_at', 'total_spent', 'average_order',
                        'currency', 'attributes');
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'configure_offer_context: "customers"/"features" must not have the columns % (they come from the order history)',
            clash USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO personalize.offer_context_source AS s (orders, customers, features, currency)
    VALUES (orders, customers, features, currency)
    ON CONFLICT (singleton) DO UPDATE
        SET orders = excluded.orders, customers = excluded.customers, features = excluded.features,
            currency = excluded.currency;
END
$fn$;

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

-- Settings: the memory limit in force, also before SHOW can see the setting --
-- The limit in force (personalize.memory_limit, -1 resolved to work_mem x
-- hash_mem_multiplier). Calling it also loads the library, which defines the
-- setting: until then a fresh session has no personalize.memory_limit to SHOW.
CREATE FUNCTION memory_limit() RETURNS bigint
    AS 'MODULE_PATHNAME', 'personalize_memory_limit'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION memory_limit() IS
    'bytes one call of pg_personalize may use for its largest structure (personalize.memory_limit, -1 = work_mem x hash_mem_multiplier)';

-- Least privilege: state-changing functions not EXECUTE to PUBLIC, grant_roles() --
-- (src/sql/99_privileges.sql, docs/security.md)
-- Only the extension's owner, and the roles grant_roles() names, call these.
REVOKE EXECUTE ON FUNCTION decide_offer(bigint, jsonb, jsonb, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION configure_offer_context(regclass, regclass, regclass, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION snapshot_segments(text, date, regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION reset_segment_map(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION customize_segment_map(text) FROM PUBLIC;

-- Grants what each role needs; a NULL role is skipped, and one role may be
-- given more than one part. Returns the statements it ran. Run it as the
-- extension's owner (or a superuser): GRANT needs the right to grant.
--   app:       USAGE on the schema, decide_offer (reads offers and the
--              context configuration, writes offer_log and
--              offer_customer_lock), reads segment_rules; every pure
--              function, eligible_offers, explain_offer, cart_suggestions,
--              suggestions, ... are EXECUTE to PUBLIC already.
--   reporting: USAGE on the schema, SELECT on offers, offer_log,
--              segment_rules, segment_history, offer_context_source
--              (offer_uplift, the cohort functions).
--   admin:     USAGE on the schema, edits offers and segment_rules,
--              configure_offer_context, snapshot_segments,
--              reset_segment_map, reads offer_log.
-- The shop's own tables these functions read (the configured orders,
-- customers and features tables, the rules and history tables passed to
-- cart_suggestions and suggestions) are the shop's to grant.
CREATE FUNCTION grant_roles(app regrole, reporting regrole DEFAULT NULL, admin regrole DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    statement text;
    statements text[] := '{}';
BEGIN
    IF app IS NOT NULL THEN
        statements := statements || ARRAY[
            format('GRANT USAGE ON SCHEMA personalize TO %s', app),
            format('GRANT EXECUTE ON FUNCTION personalize.decide_offer(bigint, jsonb, jsonb, text, integer) TO %s', app),
            format('GRANT SELECT ON personalize.offers, personalize.offer_context_source, personalize.segment_rules TO %s', app),
            format('GRANT SELECT, INSERT ON personalize.offer_log TO %s', app),
            format('GRANT SELECT, INSERT, UPDATE ON personalize.offer_customer_lock TO %s', app)];
    END IF;
    IF reporting IS NOT NULL THEN
        statements := statements || ARRAY[
            format('GRANT USAGE ON SCHEMA personalize TO %s', reporting),
            format('GRANT SELECT ON personalize.offers, personalize.offer_log, personalize.offer_context_source, '
                   'personalize.segment_rules, personalize.segment_history TO %s', reporting)];
    END IF;
    IF admin IS NOT NULL THEN
        statements := statements || ARRAY[
            format('GRANT USAGE ON SCHEMA personalize TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE, DELETE ON personalize.offers TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE, DELETE ON personalize.segment_rules, personalize.segment_rules_custom, '
                   'personalize.segment_maps_customized, personalize.segment_history TO %s', admin),
            format('GRANT SELECT ON personalize.segment_rules_shipped, personalize.offer_log TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE ON personalize.offer_context_source TO %s', admin),
            format('GRANT EXECUTE ON FUNCTION personalize.configure_offer_context(regclass, regclass, regclass, text), '
                   'personalize.snapshot_segments(text, date, regclass), personalize.reset_segment_map(text), '
                   'personalize.customize_segment_map(text) TO %s', admin)];
    END IF;
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
END
$fn$;
REVOKE EXECUTE ON FUNCTION grant_roles(regrole, regrole, regrole) FROM PUBLIC;
COMMENT ON FUNCTION grant_roles(regrole, regrole, regrole) IS
    'grants an application, a reporting and an admin role what they need (NULL: skipped); returns the statements run';

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
