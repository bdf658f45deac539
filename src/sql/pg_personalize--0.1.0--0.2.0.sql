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
-- The argument checks of buy_again and batch_buy_again, with the column
-- types of "history" (a numeric item_id would be rounded by the ::bigint
-- cast, a text bought_at fail without naming the column).
CREATE FUNCTION check_buy_again_args(fn text, history regclass, n integer, as_of timestamptz, min_purchases integer)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text;
BEGIN
    IF history IS NULL THEN
        RAISE EXCEPTION '%: "history" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n IS NULL OR as_of IS NULL OR min_purchases IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn,
            CASE WHEN n IS NULL THEN 'n' WHEN as_of IS NULL THEN 'as_of' ELSE 'min_purchases' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF n < 1 THEN
        RAISE EXCEPTION '%: "n" must be at least 1', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_purchases < 2 THEN
        RAISE EXCEPTION '%: "min_purchases" must be at least 2', fn USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A typical gap needs two purchase days; items bought once are for suggestions().';
    END IF;
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c INTO missing FROM unnest(ARRAY['customer_id', 'item_id', 'bought_at']) AS c
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = history AND a.attname = c
                      AND a.attnum > 0 AND NOT a.attisdropped) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: "history" (%) has no column %', fn, history, missing
            USING ERRCODE = 'invalid_parameter_value', HINT = 'history needs customer_id, item_id, bought_at (a view renames).';
    END IF;
    PERFORM personalize.require_column_types(history, ARRAY['customer_id', 'item_id', 'bought_at'],
                                             ARRAY['integer', 'integer', 'timestamp'], fn, 'history');
END
$fn$;
COMMENT ON FUNCTION check_buy_again_args(text, regclass, integer, timestamptz, integer) IS
    'internal: argument checks of buy_again and batch_buy_again';

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
BEGIN
    PERFORM personalize.check_buy_again_args('batch_buy_again', history, n, as_of, min_purchases);
    IF customers IS NOT NULL THEN
        PERFORM personalize.require_column_types(customers, ARRAY['customer_id'], ARRAY['integer'],
                                                 'batch_buy_again', 'customers');
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
BEGIN
    PERFORM personalize.check_buy_again_args('buy_again', history, n, as_of, min_purchases);
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
-- The pipeline (src/sql/97_pipeline.sql, issue 14) ----------------------------
-- New in 0.2.0: the whole part, as a fresh install creates it.

-- The personalisation pipeline (docs/pipeline.md): configure a shop once
-- (configure_shop: its tables, checked, and its settings as rows of
-- shop_settings), refresh every model in one transaction (refresh: one row
-- per stage; each stage is one small function below around the C++
-- aggregates), record every run (refresh_runs), schedule it with pg_cron,
-- and serve from the refreshed tables without regclass arguments.

-- Configuration --------------------------------------------------------------

-- The shop's tables, one row (configure_shop). Required columns, by table
-- (a view renames and casts a shop's own columns):
--   orders      order_id, customer_id (integer types), ordered_at timestamptz,
--               status text, total (a number)
--   order_lines order_id, product_id (integer types)
--   customers   customer_id [, signed_up_at timestamptz]           (optional)
--   products    product_id [, category text] [, rebuyable boolean] (optional)
--   sessions    customer_id, pages_viewed, items_in_cart (integer types),
--               started_at, ended_at timestamptz, cart_value (a number),
--               exit_intent, converted boolean                     (optional)
-- The tables are kept by schema-qualified name, not as regclass: every
-- refresh resolves and checks them again, so a table the shop's ETL drops
-- and creates anew is followed (a regclass would keep the dropped OID).
CREATE TABLE shop_source (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    orders        text NOT NULL,
    order_lines   text NOT NULL,
    customers     text,
    products      text,
    sessions      text,
    configured_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop_source IS 'the shop''s tables the pipeline reads, by qualified name (configure_shop())';

-- The configured tables, resolved (configured_shop()).
CREATE TYPE shop_tables AS (orders regclass, order_lines regclass, customers regclass, products regclass,
                            sessions regclass);
COMMENT ON TYPE shop_tables IS 'the configured shop tables, resolved to the relations they name now';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_source', '');

-- Every setting the pipeline knows, with its default.
CREATE FUNCTION shop_setting_definitions()
    RETURNS TABLE (key text, default_value text, description text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT * FROM (VALUES
        ('currency', 'GBP', 'ISO 4217 code of the order totals (offer contexts, docs)'),
        ('time_zone', 'UTC', 'time zone whose calendar days count as purchase days'),
        ('as_of', 'now', 'the refresh''s "now": now, latest_order (the latest completed order) or a timestamp'),
        ('completed_statuses', '{completed}', 'order statuses that count as completed orders (a text array)'),
        ('time_unit', '1 week', 'time unit of frequency/recency/age and of the lifetime models (at least 1 day)'),
        ('holdout_days', '90', 'days at the end of the history held out for the quality checks (0: no checks)'),
        ('clv_months', '12', 'horizon of the customer lifetime value, in months (1..120)'),
        ('discount_rate', '0.01', 'monthly discount rate of the customer lifetime value, in [0, 1)'),
        ('clv_interval_draws', '0', 'bootstrap draws of the CLV interval (0: no interval; 20..2000; costs about 4 us per draw and customer)'),
        ('segment_map', 'rf_grid', 'the segment map of personalize.segment_rules that names the segments'),
        ('kmeans_k', '4', 'clusters of the k-means segmentation (2..50)'),
        ('kmeans_seed', '7', 'seed of the k-means++ initialisation'),
        ('rules_min_count', '10', 'association rules: pairs in fewer completed orders are left out (at least 1)'),
        ('rules_per_item', '100', 'association rules kept per antecedent, strongest first (at least 1)'),
        ('similarity_measure', 'cosine', 'item similarities: cosine, jaccard, lift or confidence'),
        ('similarity_neighbours', '50', 'item similarities: neighbours kept per item (1..1000)'),
        ('popular_k', '50', 'best sellers kept per segment and overall (1..1000)'),
        ('category_cap', '0', 'suggestions(customer_id, n): at most this many per category (0: no cap)'),
        ('evaluation_customers', '1000', 'holdout customers the suggestion quality check samples (at least 1)'),
        ('propensity_l2', '1', 'L2 penalty of the purchase-propensity model (>= 0)'),
        ('new_days', '30', 'lifecycle: first order at most this many days before as_of = new'),
        ('lapsed_days', '90', 'lifecycle: last order at least this many days before as_of = lapsed'),
        ('churned_days', '365', 'lifecycle: last order at least this many days before as_of = churned'),
        ('memory_limit', '1GB', 'personalize.memory_limit during a refresh (mining 10M order lines needs about 1GB)')
    ) AS d(key, default_value, description)
$fn$;
COMMENT ON FUNCTION shop_setting_definitions() IS 'every pipeline setting (shop_settings.key) with its default and meaning';

-- Internal: raises the error of a bad setting value.
CREATE FUNCTION shop_setting_error(key text, value text, expected text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $fn$
BEGIN
    RAISE EXCEPTION 'shop_settings: "%" must be %, got %', key, expected, coalesce(quote_literal(value), 'NULL')
        USING ERRCODE = 'invalid_parameter_value';
END
$fn$;
COMMENT ON FUNCTION shop_setting_error(text, text, text) IS 'internal: the error of a bad shop setting';

-- Internal: whether a text is an integer in [lo, hi].
CREATE FUNCTION setting_is_integer(value text, lo bigint, hi bigint)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value ~ '^\s*-?[0-9]{1,15}\s*$' THEN value::bigint BETWEEN lo AND hi ELSE false END;
COMMENT ON FUNCTION setting_is_integer(text, bigint, bigint) IS 'internal: an integer setting in a range';

-- True when `value` is valid for `key`; otherwise an error (22023, 22004)
-- naming the key. The CHECK of shop_settings. Whether segment_map names an
-- existing map is checked by configure_shop() and refresh(), not here, so
-- that a restore never depends on the order tables are loaded in.
CREATE FUNCTION check_shop_setting(key text, value text)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t timestamptz;
    i interval;
    a text[];
    x float8;
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION 'shop_settings: "key" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.shop_setting_definitions() d WHERE d.key = check_shop_setting.key) THEN
        RAISE EXCEPTION 'shop_settings: unknown setting %', quote_literal(key)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The settings are listed by personalize.shop_setting_definitions().';
    ELSIF value IS NULL THEN
        RAISE EXCEPTION 'shop_settings: "%" must not be NULL', key USING ERRCODE = 'null_value_not_allowed';
    END IF;
    CASE key
    WHEN 'currency' THEN
        RETURN value ~ '^[A-Z]{3}$' OR personalize.shop_setting_error(key, value, 'an ISO 4217 code such as GBP');
    WHEN 'time_zone' THEN
        RETURN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = value)
            OR personalize.shop_setting_error(key, value, 'a time zone name of pg_timezone_names');
    WHEN 'as_of' THEN
        IF value IN ('now', 'latest_order') THEN
            RETURN true;
        END IF;
        BEGIN
            t := value::timestamptz;
        EXCEPTION WHEN OTHERS THEN
            t := NULL;
        END;
        RETURN (t IS NOT NULL AND isfinite(t))
            OR personalize.shop_setting_error(key, value, 'now, latest_order or a finite timestamp');
    WHEN 'completed_statuses' THEN
        BEGIN
            a := value::text[];
        EXCEPTION WHEN OTHERS THEN
            a := NULL;
        END;
        RETURN (cardinality(a) > 0 AND array_position(a, NULL) IS NULL AND NOT '' = ANY (a))
            OR personalize.shop_setting_error(key, value, 'a non-empty text array such as {completed}');
    WHEN 'time_unit' THEN
        BEGIN
            i := value::interval;
        EXCEPTION WHEN OTHERS THEN
            i := NULL;
        END;
        RETURN (i >= interval '1 day' AND i <= interval '1 year')
            OR personalize.shop_setting_error(key, value, 'an interval between 1 day and 1 year');
    WHEN 'discount_rate', 'propensity_l2' THEN
        BEGIN
            x := value::float8;
        EXCEPTION WHEN OTHERS THEN
            x := NULL;
        END;
        IF key = 'discount_rate' THEN
            RETURN (x >= 0 AND x < 1) OR personalize.shop_setting_error(key, value, 'a number in [0, 1)');
        END IF;
        RETURN (x >= 0 AND x < 'Infinity') OR personalize.shop_setting_error(key, value, 'a finite number >= 0');
    WHEN 'segment_map' THEN
        RETURN value <> '' OR personalize.shop_setting_error(key, value, 'the name of a segment map');
    WHEN 'similarity_measure' THEN
        RETURN value IN ('cosine', 'jaccard', 'lift', 'confidence')
            OR personalize.shop_setting_error(key, value, 'one of cosine, jaccard, lift, confidence');
    WHEN 'memory_limit' THEN
        RETURN value ~ '^\s*[0-9]+\s*(kB|MB|GB|TB)\s*$'
            OR personalize.shop_setting_error(key, value, 'a size such as 512MB or 1GB');
    WHEN 'holdout_days' THEN
        RETURN personalize.setting_is_integer(value, 0, 3650)
            OR personalize.shop_setting_error(key, value, 'an integer between 0 and 3650');
    WHEN 'clv_months' THEN
        RETURN personalize.setting_is_integer(value, 1, 120)
            OR personalize.shop_setting_error(key, value, 'an integer between 1 and 120');
    WHEN 'clv_interval_draws' THEN
        RETURN value ~ '^\s*0\s*$' OR personalize.setting_is_integer(value, 20, 2000)
            OR personalize.shop_setting_error(key, value, '0 or an integer between 20 and 2000');
    WHEN 'kmeans_k' THEN
        RETURN personalize.setting_is_integer(value, 2, 50)
            OR personalize.shop_setting_error(key, value, 'an integer between 2 and 50');
    WHEN 'kmeans_seed' THEN
        RETURN personalize.setting_is_integer(value, -999999999999999, 999999999999999)
            OR personalize.shop_setting_error(key, value, 'an integer');
    WHEN 'similarity_neighbours', 'popular_k' THEN
        RETURN personalize.setting_is_integer(value, 1, 1000)
            OR personalize.shop_setting_error(key, value, 'an integer between 1 and 1000');
    WHEN 'category_cap' THEN
        RETURN personalize.setting_is_integer(value, 0, 1000)
            OR personalize.shop_setting_error(key, value, 'an integer between 0 (no cap) and 1000');
    ELSE  -- rules_min_count, rules_per_item, evaluation_customers, new_days, lapsed_days, churned_days
        RETURN personalize.setting_is_integer(value, 1, 1000000000)
            OR personalize.shop_setting_error(key, value, 'an integer of at least 1');
    END CASE;
END
$fn$;
COMMENT ON FUNCTION check_shop_setting(text, text) IS 'true for a valid shop setting, else an error naming the setting';

-- The settings as rows, written by configure_shop(); change one with
-- UPDATE personalize.shop_settings SET value = ... WHERE key = ... (checked).
CREATE TABLE shop_settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL DEFAULT '',
    CONSTRAINT shop_settings_valid CHECK (personalize.check_shop_setting(key, value))
);
COMMENT ON TABLE shop_settings IS 'the pipeline''s settings (keys: shop_setting_definitions()), checked on write';
COMMENT ON COLUMN shop_settings.key IS 'the setting''s name (shop_setting_definitions())';
COMMENT ON COLUMN shop_settings.value IS 'its value as text, checked by check_shop_setting()';
COMMENT ON COLUMN shop_settings.description IS 'what it means';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_settings', '');

-- A setting's value: the row of shop_settings, else the default.
CREATE FUNCTION shop_setting(key text)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT coalesce((SELECT s.value FROM personalize.shop_settings s WHERE s.key = $1),
                    (SELECT d.default_value FROM personalize.shop_setting_definitions() d WHERE d.key = $1))
$fn$;
COMMENT ON FUNCTION shop_setting(text) IS 'the value of a pipeline setting (its default when not set)';

-- Internal: the kind of a column's type for the checks of configure_shop
-- (a domain counts as its base type).
CREATE FUNCTION shop_column_kind(type oid)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH RECURSIVE base(oid, basetype, depth) AS (
        SELECT t.oid, t.typbasetype, 0 FROM pg_type t WHERE t.oid = $1
        UNION ALL
        SELECT t.oid, t.typbasetype, b.depth + 1 FROM base b JOIN pg_type t ON t.oid = b.basetype
        WHERE b.basetype <> 0 AND b.depth < 10)
    SELECT CASE b.oid
           WHEN 'int2'::regtype THEN 'id' WHEN 'int4'::regtype THEN 'id' WHEN 'int8'::regtype THEN 'id'
           WHEN 'numeric'::regtype THEN 'number' WHEN 'float4'::regtype THEN 'number'
           WHEN 'float8'::regtype THEN 'number'
           WHEN 'timestamptz'::regtype THEN 'timestamptz'
           WHEN 'text'::regtype THEN 'text' WHEN 'varchar'::regtype THEN 'text' WHEN 'bpchar'::regtype THEN 'text'
           WHEN 'bool'::regtype THEN 'boolean'
           ELSE 'other' END
    FROM base b ORDER BY b.depth DESC LIMIT 1
$fn$;
COMMENT ON FUNCTION shop_column_kind(oid) IS 'internal: id, number, timestamptz, text, boolean or other';

-- Internal: checks that table `arg` of `fn` has the columns `required`
-- ('name kind' each; kind id, number, timestamptz, text or boolean) and
-- that the `optional` ones it has are of their kind. Errors (22023) name
-- the argument, the table and the column.
CREATE FUNCTION check_shop_table(fn text, arg text, rel regclass, required text[], optional text[] DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    spec text;
    col text;
    want text;
    typ oid;
    got text;
    is_required boolean;
    expected constant jsonb := '{"id": "an integer type (smallint, integer or bigint)",
                                "number": "a number (integer, numeric, real or double precision)",
                                "timestamptz": "timestamptz", "text": "text", "boolean": "boolean"}';
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn, arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH spec IN ARRAY required || optional LOOP
        col := split_part(spec, ' ', 1);
        want := split_part(spec, ' ', 2);
        is_required := spec = ANY (required);
        SELECT a.atttypid INTO typ FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            IF is_required THEN
                RAISE EXCEPTION '%: "%" (%) has no column "%"', fn, arg, rel, col
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('"%s" needs the columns %s.', arg,
                                          (SELECT string_agg(split_part(r, ' ', 1), ', ') FROM unnest(required) r)),
                          HINT = 'A view can rename and cast the shop''s own columns.';
            END IF;
            CONTINUE;
        END IF;
        got := personalize.shop_column_kind(typ);
        IF got <> want AND NOT (want = 'number' AND got = 'id') THEN
            RAISE EXCEPTION '%: "%" (%) column "%" must be %, not %', fn, arg, rel, col, expected ->> want,
                format_type(typ, NULL)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A view can rename and cast the shop''s own columns.';
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION check_shop_table(text, text, regclass, text[], text[]) IS
    'internal: the column and type checks of configure_shop()';

-- Internal: the column checks of every configured table (see shop_source).
CREATE FUNCTION check_shop_tables(fn text, t personalize.shop_tables)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_shop_table(fn, 'orders', t.orders,
        ARRAY['order_id id', 'customer_id id', 'ordered_at timestamptz', 'status text', 'total number']);
    PERFORM personalize.check_shop_table(fn, 'order_lines', t.order_lines, ARRAY['order_id id', 'product_id id']);
    IF t.customers IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'customers', t.customers, ARRAY['customer_id id'],
                                             ARRAY['signed_up_at timestamptz']);
    END IF;
    IF t.products IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'products', t.products, ARRAY['product_id id'],
                                             ARRAY['category text', 'rebuyable boolean']);
    END IF;
    IF t.sessions IS NOT NULL THEN
        PERFORM personalize.check_shop_table(fn, 'sessions', t.sessions,
            ARRAY['customer_id id', 'started_at timestamptz', 'ended_at timestamptz', 'pages_viewed id',
                  'items_in_cart id', 'cart_value number', 'exit_intent boolean', 'converted boolean']);
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_shop_tables(text, personalize.shop_tables) IS 'internal: the checks of every configured table';

-- Configures the pipeline: checks the shop's tables (see shop_source),
-- stores them, writes every setting (given in `settings` as
-- {"key": value}; the others keep their current value, else the default),
-- and points the offer contexts (configure_offer_context) at the orders,
-- the customers and the refreshed profiles (customer_profile_features).
-- NULL currency keeps the configured one (GBP at first). Returns the
-- settings.
CREATE FUNCTION configure_shop(orders regclass, order_lines regclass, customers regclass DEFAULT NULL,
                               products regclass DEFAULT NULL, sessions regclass DEFAULT NULL,
                               currency text DEFAULT NULL, settings jsonb DEFAULT NULL)
    RETURNS TABLE (key text, value text, description text)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    unknown text;
    seg_map text;
BEGIN
    PERFORM personalize.check_shop_tables('configure_shop',
                                          ROW(orders, order_lines, customers, products, sessions)::personalize.shop_tables);
    IF settings IS NOT NULL AND jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'configure_shop: "settings" must be a jsonb object {"setting": value, ...}'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO unknown
    FROM jsonb_object_keys(coalesce(settings, '{}')) k
    WHERE k NOT IN (SELECT d.key FROM personalize.shop_setting_definitions() d);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'configure_shop: "settings" has unknown settings %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The settings are listed by personalize.shop_setting_definitions().';
    END IF;
    IF currency IS NOT NULL AND settings ? 'currency' THEN
        RAISE EXCEPTION 'configure_shop: give the currency once, in "currency" or in "settings"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    settings := coalesce(settings, '{}') || CASE WHEN currency IS NULL THEN '{}'::jsonb
                                                ELSE jsonb_build_object('currency', currency) END;

    INSERT INTO personalize.shop_source AS s (orders, order_lines, customers, products, sessions)
    VALUES (orders::text, order_lines::text, customers::text, products::text, sessions::text)  -- qualified: search_path is pg_catalog
    ON CONFLICT (singleton) DO UPDATE
        SET orders = excluded.orders, order_lines = excluded.order_lines, customers = excluded.customers,
            products = excluded.products, sessions = excluded.sessions, configured_at = now();
    INSERT INTO personalize.shop_settings AS s (key, value, description)
    SELECT d.key, coalesce(settings ->> d.key, (SELECT c.value FROM personalize.shop_settings c WHERE c.key = d.key),
                           d.default_value), d.description
    FROM personalize.shop_setting_definitions() d
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, description = excluded.description;

    seg_map := personalize.shop_setting('segment_map');
    IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = seg_map) THEN
        RAISE EXCEPTION 'configure_shop: setting "segment_map" % is not a map in personalize.segment_rules',
            quote_literal(seg_map) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM personalize.configure_offer_context(orders, customers, 'personalize.customer_profile_features',
                                                personalize.shop_setting('currency'));
    RETURN QUERY SELECT s.key, s.value, s.description FROM personalize.shop_settings s ORDER BY s.key;
END
$fn$;
COMMENT ON FUNCTION configure_shop(regclass, regclass, regclass, regclass, regclass, text, jsonb) IS
    'configures the pipeline: the shop''s tables (checked), its settings, and the offer contexts';

-- Internal: the configured tables as they resolve now; an error when no
-- shop is configured or a table no longer exists; with `checked`, their
-- columns are checked again.
CREATE FUNCTION configured_shop(fn text, checked boolean DEFAULT false)
    RETURNS personalize.shop_tables
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_source;
    t personalize.shop_tables;
    missing text;
BEGIN
    SELECT * INTO src FROM personalize.shop_source;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no shop is configured', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_shop(orders => ..., order_lines => ...) first.';
    END IF;
    t := ROW(to_regclass(src.orders), to_regclass(src.order_lines), to_regclass(src.customers),
             to_regclass(src.products), to_regclass(src.sessions));
    SELECT string_agg(format('"%s" (%s)', x.arg, x.name), ', ') INTO missing
    FROM (VALUES ('orders', src.orders, t.orders), ('order_lines', src.order_lines, t.order_lines),
                 ('customers', src.customers, t.customers), ('products', src.products, t.products),
                 ('sessions', src.sessions, t.sessions)) x(arg, name, rel)
    WHERE x.name IS NOT NULL AND x.rel IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: the configured table % no longer exists', fn, missing
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create it again, or call personalize.configure_shop() with the shop''s tables.';
    END IF;
    IF checked THEN
        PERFORM personalize.check_shop_tables(fn, t);
    END IF;
    RETURN t;
END
$fn$;
COMMENT ON FUNCTION configured_shop(text, boolean) IS 'internal: the configured tables, resolved (and checked), else an error';

-- Internal: the configured completed orders up to $1 as SQL (order_id,
-- customer_id bigint, ordered_at, total float8).
CREATE FUNCTION completed_orders_sql()
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('SELECT o.order_id::bigint AS order_id, o.customer_id::bigint AS customer_id, o.ordered_at,
                          o.total::float8 AS total
                   FROM %s o WHERE o.status = ANY (%L::text[]) AND o.ordered_at <= $1 AND o.customer_id IS NOT NULL',
                  (personalize.configured_shop('refresh')).orders, personalize.shop_setting('completed_statuses'))
$fn$;
COMMENT ON FUNCTION completed_orders_sql() IS 'internal: the SQL of the completed orders up to $1';

-- The models and what the refresh writes ------------------------------------

-- Every fitted model, its parameters, when and on what it was trained, and
-- its quality on a time-split holdout (docs/pipeline.md).
CREATE TABLE models (
    name        text PRIMARY KEY,
    parameters  jsonb NOT NULL,
    trained_at  timestamptz NOT NULL,
    as_of       timestamptz NOT NULL,
    trained_on  bigint NOT NULL,
    quality     jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE models IS 'every model the last refresh fitted, with its parameters and quality';
COMMENT ON COLUMN models.name IS 'lifetime (BG/NBD), spend (Gamma-Gamma), rfm, kmeans, product_rules, item_similarities, popular_items, propensity';
COMMENT ON COLUMN models.parameters IS 'the fitted model (the aggregate''s jsonb) or the options it was built with';
COMMENT ON COLUMN models.trained_at IS 'when the refresh that built it started';
COMMENT ON COLUMN models.as_of IS 'the time the data was taken up to';
COMMENT ON COLUMN models.trained_on IS 'rows it was trained on (customers, baskets, sessions)';
COMMENT ON COLUMN models.quality IS 'quality measures, e.g. the holdout check (docs/pipeline.md)';
SELECT pg_catalog.pg_extension_config_dump('personalize.models', '');

-- Internal: stores a model (replacing the one of that name).
CREATE FUNCTION store_model(name text, parameters jsonb, as_of timestamptz, trained_on bigint, quality jsonb)
    RETURNS void
    LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $fn$
    INSERT INTO personalize.models AS m (name, parameters, trained_at, as_of, trained_on, quality)
    VALUES ($1, coalesce($2, 'null'::jsonb), now(), $3, coalesce($4, 0), coalesce($5, '{}'))
    ON CONFLICT (name) DO UPDATE
        SET parameters = excluded.parameters, trained_at = excluded.trained_at, as_of = excluded.as_of,
            trained_on = excluded.trained_on, quality = excluded.quality
$fn$;
COMMENT ON FUNCTION store_model(text, jsonb, timestamptz, bigint, jsonb) IS 'internal: upserts a row of models';

CREATE TABLE customer_profiles (
    customer_id             bigint PRIMARY KEY,
    lifecycle_stage         text NOT NULL CHECK (lifecycle_stage IN ('prospect', 'new', 'active', 'lapsed', 'churned')),
    signed_up_at            timestamptz,
    orders                  bigint NOT NULL,
    first_order_at          timestamptz,
    last_order_at           timestamptz,
    days_since_last_order   float8,
    frequency               bigint,
    recency                 float8,
    age                     float8,
    monetary                float8,
    total                   float8 NOT NULL,
    r                       integer,
    f                       integer,
    m                       integer,
    segment                 text,
    previous_segment        text,
    cluster                 integer,
    p_alive                 float8,
    churn_risk              float8,
    expected_orders_30d     float8,
    expected_orders_90d     float8,
    expected_orders_365d    float8,
    clv                     float8,
    clv_lower               float8,
    clv_upper               float8,
    expected_next_order_at  timestamptz,
    as_of                   timestamptz NOT NULL,
    refreshed_at            timestamptz NOT NULL
);
COMMENT ON TABLE customer_profiles IS
    'one row per customer (prospects too): history, RFM, segment, cluster, lifetime predictions, lifecycle stage; written by refresh()';
COMMENT ON COLUMN customer_profiles.customer_id IS 'the customer';
COMMENT ON COLUMN customer_profiles.lifecycle_stage IS
    'prospect (no completed order), new (first order within new_days), churned (none for churned_days), lapsed (none for lapsed_days), else active';
COMMENT ON COLUMN customer_profiles.signed_up_at IS 'the customers table''s signed_up_at, when it has one';
COMMENT ON COLUMN customer_profiles.orders IS 'completed orders up to as_of';
COMMENT ON COLUMN customer_profiles.first_order_at IS 'the first completed order';
COMMENT ON COLUMN customer_profiles.last_order_at IS 'the latest completed order';
COMMENT ON COLUMN customer_profiles.days_since_last_order IS 'days from the latest completed order to as_of';
COMMENT ON COLUMN customer_profiles.frequency IS 'repeat purchase days (purchase days - 1), as customer_summary';
COMMENT ON COLUMN customer_profiles.recency IS 'first to last purchase day, in the setting time_unit';
COMMENT ON COLUMN customer_profiles.age IS 'first purchase day to as_of, in the setting time_unit';
COMMENT ON COLUMN customer_profiles.monetary IS 'mean amount of the repeat purchase days (0 if none)';
COMMENT ON COLUMN customer_profiles.total IS 'sum of the completed orders'' totals';
COMMENT ON COLUMN customer_profiles.r IS 'RFM recency score 1..5 (5 = most recent)';
COMMENT ON COLUMN customer_profiles.f IS 'RFM frequency score 1..5';
COMMENT ON COLUMN customer_profiles.m IS 'RFM monetary score 1..5 (on total spend)';
COMMENT ON COLUMN customer_profiles.segment IS 'segment of r, f, m in the setting segment_map';
COMMENT ON COLUMN customer_profiles.previous_segment IS 'segment in the latest segment_history snapshot of an earlier day';
COMMENT ON COLUMN customer_profiles.cluster IS 'k-means cluster 1..k of (frequency, time since last purchase, total)';
COMMENT ON COLUMN customer_profiles.p_alive IS 'BG/NBD probability that the customer is still active';
COMMENT ON COLUMN customer_profiles.churn_risk IS '1 - p_alive';
COMMENT ON COLUMN customer_profiles.expected_orders_30d IS 'BG/NBD expected repeat purchase days in the next 30 days';
COMMENT ON COLUMN customer_profiles.expected_orders_90d IS 'BG/NBD expected repeat purchase days in the next 90 days';
COMMENT ON COLUMN customer_profiles.expected_orders_365d IS 'BG/NBD expected repeat purchase days in the next 365 days';
COMMENT ON COLUMN customer_profiles.clv IS 'customer lifetime value over clv_months (BG/NBD x Gamma-Gamma, discounted)';
COMMENT ON COLUMN customer_profiles.clv_lower IS 'lower end of the 90% bootstrap interval of clv (clv_interval_draws > 0)';
COMMENT ON COLUMN customer_profiles.clv_upper IS 'upper end of the 90% bootstrap interval of clv (clv_interval_draws > 0)';
COMMENT ON COLUMN customer_profiles.expected_next_order_at IS
    'when P(another purchase) reaches 0.5 (next_purchase_in); NULL when it never does';
COMMENT ON COLUMN customer_profiles.as_of IS 'the time the orders were taken up to';
COMMENT ON COLUMN customer_profiles.refreshed_at IS 'when the refresh that wrote the row started';
CREATE INDEX customer_profiles_segment ON customer_profiles (segment);
SELECT pg_catalog.pg_extension_config_dump('personalize.customer_profiles', '');

-- The profile fields offer rules read (configure_shop() sets this view as
-- the offer contexts' features): columns named like customer.* rule fields
-- become those fields, the others customer.attributes.*.
CREATE VIEW customer_profile_features AS
    SELECT p.customer_id, p.segment, p.r, p.f, p.m, p.cluster, p.p_alive, p.clv,
           p.expected_orders_365d AS expected_orders,
           p.lifecycle_stage, p.previous_segment, p.churn_risk, p.days_since_last_order,
           p.expected_orders_30d, p.expected_orders_90d, p.clv_lower, p.clv_upper, p.expected_next_order_at
    FROM personalize.customer_profiles p;
COMMENT ON VIEW customer_profile_features IS
    'the profile fields of offer contexts: customer.segment, r, f, m, cluster, p_alive, clv, expected_orders (365 days), the rest as customer.attributes.*';

-- What each customer bought (latest purchase of each item): the history of
-- suggestions(customer_id, n) and of the item similarities.
CREATE TABLE purchase_history (
    customer_id bigint NOT NULL,
    item_id     bigint NOT NULL,
    bought_at   timestamptz NOT NULL,
    lines       bigint NOT NULL,
    PRIMARY KEY (customer_id, item_id)
);
COMMENT ON TABLE purchase_history IS 'each customer''s bought items from completed orders up to as_of (refresh())';
COMMENT ON COLUMN purchase_history.customer_id IS 'the customer';
COMMENT ON COLUMN purchase_history.item_id IS 'a product the customer bought';
COMMENT ON COLUMN purchase_history.bought_at IS 'the latest completed order with it';
COMMENT ON COLUMN purchase_history.lines IS 'order lines of completed orders with it';
SELECT pg_catalog.pg_extension_config_dump('personalize.purchase_history', '');

CREATE TABLE shop_items (
    item_id   bigint PRIMARY KEY,
    category  text,
    rebuyable boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE shop_items IS 'the configured products as suggestions() reads them (refresh())';
COMMENT ON COLUMN shop_items.item_id IS 'the product';
COMMENT ON COLUMN shop_items.category IS 'its category (products.category), for the category cap';
COMMENT ON COLUMN shop_items.rebuyable IS 'may be suggested again after a purchase (products.rebuyable)';
SELECT pg_catalog.pg_extension_config_dump('personalize.shop_items', '');

CREATE TABLE product_rules (
    antecedent          bigint[] NOT NULL,
    consequent          bigint NOT NULL,
    count               bigint NOT NULL,
    antecedent_support  float8 NOT NULL,
    consequent_support  float8 NOT NULL,
    support             float8 NOT NULL,
    confidence          float8 NOT NULL,
    lift                float8 NOT NULL,
    leverage            float8 NOT NULL,
    conviction          float8,
    jaccard             float8 NOT NULL,
    certainty           float8 NOT NULL,
    kulczynski          float8 NOT NULL,
    zhangs_metric       float8,
    PRIMARY KEY (antecedent, consequent)
);
CREATE INDEX product_rules_popular ON product_rules (consequent_support DESC) WHERE antecedent = '{}';
COMMENT ON TABLE product_rules IS
    'association rules of completed orders (the strongest rules_per_item per antecedent, and every item''s popularity as antecedent {}); refresh()';
COMMENT ON COLUMN product_rules.antecedent IS 'the items in the basket ({} : the consequent''s popularity)';
COMMENT ON COLUMN product_rules.consequent IS 'the item they suggest';
COMMENT ON COLUMN product_rules.count IS 'orders with antecedent and consequent';
COMMENT ON COLUMN product_rules.antecedent_support IS 'share of orders with the antecedent';
COMMENT ON COLUMN product_rules.consequent_support IS 'share of orders with the consequent';
COMMENT ON COLUMN product_rules.support IS 'share of orders with both';
COMMENT ON COLUMN product_rules.confidence IS 'P(consequent | antecedent)';
COMMENT ON COLUMN product_rules.lift IS 'confidence / consequent_support';
COMMENT ON COLUMN product_rules.leverage IS 'support - antecedent_support x consequent_support';
COMMENT ON COLUMN product_rules.conviction IS '(1 - consequent_support) / (1 - confidence); NULL when confidence = 1';
COMMENT ON COLUMN product_rules.jaccard IS 'support / (antecedent_support + consequent_support - support)';
COMMENT ON COLUMN product_rules.certainty IS '(confidence - consequent_support) / (1 - consequent_support): the ranking of complements';
COMMENT ON COLUMN product_rules.kulczynski IS 'mean of P(consequent | antecedent) and P(antecedent | consequent)';
COMMENT ON COLUMN product_rules.zhangs_metric IS 'Zhang''s metric in [-1, 1]';
SELECT pg_catalog.pg_extension_config_dump('personalize.product_rules', '');

CREATE TABLE item_similarities (
    item      bigint NOT NULL,
    neighbour bigint NOT NULL,
    score     float8 NOT NULL,
    together  bigint NOT NULL,
    PRIMARY KEY (item, neighbour)
);
COMMENT ON TABLE item_similarities IS 'item-to-item similarities over the customers'' purchase histories (refresh())';
COMMENT ON COLUMN item_similarities.item IS 'an item';
COMMENT ON COLUMN item_similarities.neighbour IS 'a similar item (the item itself: its own row)';
COMMENT ON COLUMN item_similarities.score IS 'similarity (setting similarity_measure)';
COMMENT ON COLUMN item_similarities.together IS 'customers who bought both';
SELECT pg_catalog.pg_extension_config_dump('personalize.item_similarities', '');

CREATE TABLE popular_items (
    segment text,
    item_id bigint NOT NULL,
    score   float8 NOT NULL,
    buyers  bigint NOT NULL
);
CREATE INDEX popular_items_segment ON popular_items (segment, score DESC);
COMMENT ON TABLE popular_items IS 'best sellers per segment and overall (segment NULL), the suggestions'' fallback (refresh())';
COMMENT ON COLUMN popular_items.segment IS 'the segment (customer_profiles.segment); NULL: every customer';
COMMENT ON COLUMN popular_items.item_id IS 'the item';
COMMENT ON COLUMN popular_items.score IS 'share of the segment''s customers who bought it';
COMMENT ON COLUMN popular_items.buyers IS 'customers of the segment who bought it';
SELECT pg_catalog.pg_extension_config_dump('personalize.popular_items', '');

-- Every refresh: when, what, each stage's rows, seconds and quality, and
-- the error of a failed one (docs/pipeline.md: which runs are recorded).
CREATE TABLE refresh_runs (
    run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    models      text[],
    "full"      boolean NOT NULL,
    as_of       timestamptz,
    stages      jsonb NOT NULL DEFAULT '[]',
    error       jsonb,
    backend_pid integer NOT NULL
);
COMMENT ON TABLE refresh_runs IS 'the refresh log: one row per refresh (failed ones when run by run_refresh())';
COMMENT ON COLUMN refresh_runs.run_id IS 'the run';
COMMENT ON COLUMN refresh_runs.started_at IS 'when it started';
COMMENT ON COLUMN refresh_runs.finished_at IS 'when it ended; NULL with status running: still running, or stopped by a crash';
COMMENT ON COLUMN refresh_runs.status IS 'running, succeeded or failed';
COMMENT ON COLUMN refresh_runs.models IS 'the models asked for (NULL: all)';
COMMENT ON COLUMN refresh_runs."full" IS 'refresh(full => ...)';
COMMENT ON COLUMN refresh_runs.as_of IS 'the time the data was taken up to';
COMMENT ON COLUMN refresh_runs.stages IS 'the stages done: [{stage, rows, seconds, quality}, ...]';
COMMENT ON COLUMN refresh_runs.error IS 'a failed run''s error: {stage, sqlstate, message, detail, hint}';
COMMENT ON COLUMN refresh_runs.backend_pid IS 'the backend that ran it';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_runs', '');
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_runs_run_id_seq', '');

-- The stages -----------------------------------------------------------------
-- Each refresh_<stage>(as_of, holdout_from) writes its output and returns
-- the rows it wrote and its quality. holdout_from is as_of - holdout_days
-- (NULL: no holdout checks). They run in refresh_run(), in the order of
-- refresh_stage_order(), in one transaction.

-- Internal: drops the session's temporary tables of these names (left by
-- an earlier refresh in the same transaction), silently.
CREATE FUNCTION drop_temp_tables(names text[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY names LOOP
        IF to_regclass('pg_temp.' || quote_ident(name)) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I CASCADE', name);  -- with the views on it
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION drop_temp_tables(text[]) IS 'internal: drops temporary tables of an earlier refresh';

-- The per-customer summaries of the completed orders up to as_of (a
-- temporary table the next stages read).
CREATE FUNCTION refresh_summaries(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_summary']);
    CREATE TEMP TABLE personalize_refresh_summary (
        customer_id bigint PRIMARY KEY, orders bigint, first_order_at timestamptz, last_order_at timestamptz,
        frequency bigint, recency float8, age float8, monetary float8, total float8) ON COMMIT DROP;
    EXECUTE format('INSERT INTO pg_temp.personalize_refresh_summary
                    SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $1, $2)).*
                    FROM (%s) o GROUP BY o.customer_id', personalize.completed_orders_sql())
        USING as_of, personalize.shop_setting('time_unit')::interval;
    GET DIAGNOSTICS rows = ROW_COUNT;
    ANALYZE pg_temp.personalize_refresh_summary;
    quality := jsonb_build_object('customers_with_orders', rows);
END
$fn$;
COMMENT ON FUNCTION refresh_summaries(timestamptz, timestamptz) IS 'refresh stage: customer_summary of every customer';

-- BG/NBD and Gamma-Gamma on the summaries (models lifetime and spend).
-- Quality: the log-likelihood and the holdout check: a BG/NBD fitted on the
-- orders before holdout_from predicts the repeat purchase days of its
-- customers in (holdout_from, as_of], against what they did.
CREATE FUNCTION refresh_lifetime(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    bg jsonb;
    gg jsonb;
    unit interval := personalize.shop_setting('time_unit')::interval;
    holdout jsonb;
BEGIN
    SELECT personalize.bgnbd_fit(s.frequency, s.recency, s.age), personalize.gamma_gamma_fit(s.frequency, s.monetary),
           count(*)
    INTO bg, gg, rows
    FROM pg_temp.personalize_refresh_summary s;
    IF holdout_from IS NOT NULL THEN
        EXECUTE format($q$
            WITH o AS MATERIALIZED (%s),
            cal AS (
                SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $2, $3)).*
                FROM o WHERE o.ordered_at <= $2 GROUP BY o.customer_id),
            model AS (SELECT personalize.bgnbd_fit(c.frequency, c.recency, c.age) AS bg FROM cal c),
            actual AS (
                SELECT o.customer_id, count(DISTINCT o.ordered_at::date) AS days
                FROM o WHERE o.ordered_at > $2 GROUP BY o.customer_id)
            SELECT jsonb_build_object(
                'days', round(extract(epoch FROM $1 - $2) / 86400)::integer, 'customers', count(*),
                'converged', (SELECT m.bg -> 'converged' FROM model m),
                'predicted_purchase_days',
                    sum(personalize.expected_purchases(m.bg, extract(epoch FROM $1 - $2) / extract(epoch FROM $3),
                                                       c.frequency, c.recency, c.age)),
                'actual_purchase_days', coalesce(sum(a.days), 0))
            FROM cal c CROSS JOIN model m LEFT JOIN actual a ON a.customer_id = c.customer_id$q$,
            personalize.completed_orders_sql())
            INTO holdout USING as_of, holdout_from, unit;
        holdout := holdout || jsonb_build_object(
            'ratio', (holdout ->> 'predicted_purchase_days')::float8 / nullif((holdout ->> 'actual_purchase_days')::float8, 0));
    END IF;
    quality := jsonb_build_object('log_likelihood', bg -> 'log_likelihood', 'converged', bg -> 'converged',
                                  'spend_log_likelihood', gg -> 'log_likelihood', 'holdout', holdout);
    PERFORM personalize.store_model('lifetime', bg || jsonb_build_object('time_unit', unit::text), as_of, rows, quality);
    PERFORM personalize.store_model('spend', gg, as_of, (gg ->> 'customers')::bigint,
                                    jsonb_build_object('log_likelihood', gg -> 'log_likelihood', 'converged', gg -> 'converged'));
END
$fn$;
COMMENT ON FUNCTION refresh_lifetime(timestamptz, timestamptz) IS
    'refresh stage: BG/NBD and Gamma-Gamma fits, log-likelihood and the holdout purchase check';

-- RFM breakpoints of (time since last purchase, frequency, total) (model rfm).
CREATE FUNCTION refresh_rfm(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    bp jsonb;
BEGIN
    SELECT personalize.rfm_breakpoints(s.age - s.recency, s.frequency, s.total), count(*) INTO bp, rows
    FROM pg_temp.personalize_refresh_summary s;
    quality := jsonb_build_object('customers', rows);
    PERFORM personalize.store_model('rfm', bp, as_of, rows, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_rfm(timestamptz, timestamptz) IS 'refresh stage: RFM breakpoints';

-- k-means of log-scaled (frequency, time since last purchase, total)
-- (model kmeans); quality: inertia and the silhouette of 1000 customers.
-- Fewer customers than k: no clusters.
CREATE FUNCTION refresh_kmeans(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k integer := personalize.shop_setting('kmeans_k')::integer;
    model jsonb;
BEGIN
    SELECT count(*) INTO rows FROM pg_temp.personalize_refresh_summary;
    IF rows < k THEN
        DELETE FROM personalize.models WHERE name = 'kmeans';
        quality := jsonb_build_object('skipped', format('fewer customers with orders (%s) than kmeans_k (%s)', rows, k));
        rows := 0;
        RETURN;
    END IF;
    SELECT personalize.kmeans(ARRAY[s.frequency, s.age - s.recency, s.total]::float8[], k,
                              personalize.shop_setting('kmeans_seed')::bigint, 'log1p_zscore')
    INTO model FROM pg_temp.personalize_refresh_summary s;
    SELECT jsonb_build_object('inertia', model -> 'inertia', 'converged', model -> 'converged', 'sizes', model -> 'sizes',
                              'silhouette', personalize.kmeans_silhouette(model, array_agg(ARRAY[s.frequency, s.age - s.recency, s.total]::float8[]), 1000, 0))
    INTO quality FROM pg_temp.personalize_refresh_summary s;
    PERFORM personalize.store_model('kmeans', model, as_of, rows, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_kmeans(timestamptz, timestamptz) IS 'refresh stage: k-means segmentation';

-- customer_profiles from the summaries and the models just fitted: every
-- customer with orders, and every customer of the customers table.
CREATE FUNCTION refresh_customer_profiles(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    unit interval := personalize.shop_setting('time_unit')::interval;
    unit_days float8 := extract(epoch FROM personalize.shop_setting('time_unit')::interval) / 86400;
    draws integer := personalize.shop_setting('clv_interval_draws')::integer;
    has_signup boolean := src.customers IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = src.customers AND a.attname = 'signed_up_at'
                                      AND a.attnum > 0 AND NOT a.attisdropped);
BEGIN
    DELETE FROM personalize.customer_profiles;
    EXECUTE format($q$
        WITH mo AS (
            SELECT (SELECT parameters FROM personalize.models WHERE name = 'lifetime') AS bg,
                   (SELECT parameters FROM personalize.models WHERE name = 'spend') AS gg,
                   (SELECT parameters FROM personalize.models WHERE name = 'rfm') AS bp,
                   (SELECT parameters FROM personalize.models WHERE name = 'kmeans') AS km),
        -- segment() of every score cell once, instead of once per customer.
        cells AS (
            SELECT cr, cf, cm, personalize.segment($2, cr, cf, cm) AS segment
            FROM generate_series(1, 5) cr, generate_series(1, 5) cf, generate_series(1, 5) cm),
        prev AS (
            SELECT h.customer_id, h.segment FROM personalize.segment_history h
            WHERE h.map = $2 AND h.as_of = (SELECT max(x.as_of) FROM personalize.segment_history x
                                            WHERE x.map = $2 AND x.as_of < $1::date)),
        ids AS (
            SELECT s.customer_id FROM pg_temp.personalize_refresh_summary s
            %s),
        p AS (
            SELECT k.customer_id, %s AS signed_up_at, s.orders, s.first_order_at, s.last_order_at, s.frequency,
                   s.recency, s.age, s.monetary, s.total, sc.r, sc.f, sc.m, ka.cluster, ci.lower AS clv_lower,
                   ci.upper AS clv_upper,
                   personalize.probability_alive(mo.bg, s.frequency, s.recency, s.age) AS p_alive,
                   personalize.expected_purchases(mo.bg, 30 / $3, s.frequency, s.recency, s.age) AS e30,
                   personalize.expected_purchases(mo.bg, 90 / $3, s.frequency, s.recency, s.age) AS e90,
                   personalize.expected_purchases(mo.bg, 365 / $3, s.frequency, s.recency, s.age) AS e365,
                   personalize.customer_lifetime_value(mo.bg, mo.gg, s.frequency, s.recency, s.age, s.monetary,
                                                       $4, 365.25 / 12 / $3, $5) AS clv,
                   personalize.next_purchase_in(mo.bg, s.frequency, s.recency, s.age) AS next_in
            FROM ids k
            CROSS JOIN mo
            LEFT JOIN pg_temp.personalize_refresh_summary s ON s.customer_id = k.customer_id
            %s
            LEFT JOIN LATERAL personalize.rfm_score(mo.bp, s.age - s.recency, s.frequency, s.total) sc ON true
            LEFT JOIN LATERAL personalize.kmeans_assign(
                CASE WHEN s.customer_id IS NOT NULL THEN ARRAY[s.frequency, s.age - s.recency, s.total]::float8[] END,
                mo.km) ka ON true
            LEFT JOIN LATERAL (%s) ci ON true)
        INSERT INTO personalize.customer_profiles
        SELECT p.customer_id,
               CASE WHEN p.orders IS NULL THEN 'prospect'
                    WHEN p.first_order_at > $1 - $7 * interval '1 day' THEN 'new'
                    WHEN p.last_order_at <= $1 - $9 * interval '1 day' THEN 'churned'
                    WHEN p.last_order_at <= $1 - $8 * interval '1 day' THEN 'lapsed'
                    ELSE 'active' END,
               p.signed_up_at, coalesce(p.orders, 0), p.first_order_at, p.last_order_at,
               extract(epoch FROM $1 - p.last_order_at) / 86400,
               p.frequency, p.recency, p.age, p.monetary, coalesce(p.total, 0),
               p.r, p.f, p.m, cells.segment, prev.segment, p.cluster,
               p.p_alive, 1 - p.p_alive, p.e30, p.e90, p.e365, p.clv,
               p.clv_lower, p.clv_upper,
               CASE WHEN p.next_in < 'Infinity' THEN $1 + p.next_in * $10 END,
               $1, now()
        FROM p LEFT JOIN prev ON prev.customer_id = p.customer_id
        LEFT JOIN cells ON cells.cr = p.r AND cells.cf = p.f AND cells.cm = p.m$q$,
        CASE WHEN src.customers IS NULL THEN ''
             ELSE format('UNION SELECT c.customer_id::bigint FROM %s c WHERE c.customer_id IS NOT NULL', src.customers) END,
        CASE WHEN has_signup THEN 'c.signed_up_at' ELSE 'NULL::timestamptz' END,
        CASE WHEN has_signup THEN format('LEFT JOIN %s c ON c.customer_id = k.customer_id', src.customers) ELSE '' END,
        CASE WHEN draws > 0
             THEN 'SELECT x.lower, x.upper FROM personalize.customer_lifetime_value_interval(mo.bg, mo.gg, s.frequency,
                       s.recency, s.age, s.monetary, $4, 365.25 / 12 / $3, $5, 0.9, $6) x'
             ELSE 'SELECT NULL::float8 AS lower, NULL::float8 AS upper' END)
        USING as_of, personalize.shop_setting('segment_map'), unit_days,
              personalize.shop_setting('clv_months')::integer, personalize.shop_setting('discount_rate')::float8,
              draws, personalize.shop_setting('new_days')::integer, personalize.shop_setting('lapsed_days')::integer,
              personalize.shop_setting('churned_days')::integer, unit;
    GET DIAGNOSTICS rows = ROW_COUNT;
    SELECT jsonb_object_agg(x.lifecycle_stage, x.n) INTO quality
    FROM (SELECT p.lifecycle_stage, count(*) AS n FROM personalize.customer_profiles p GROUP BY 1 ORDER BY 1) x;
    quality := jsonb_build_object('lifecycle_stages', coalesce(quality, '{}'));
END
$fn$;
COMMENT ON FUNCTION refresh_customer_profiles(timestamptz, timestamptz) IS 'refresh stage: customer_profiles';

-- Today's segments into segment_history, replacing that day's snapshot of
-- the map: what snapshot_segments(map, as_of, 'personalize.customer_profiles')
-- writes, from the segments the profiles already hold.
CREATE FUNCTION refresh_segment_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    seg_map text := personalize.shop_setting('segment_map');
BEGIN
    DELETE FROM personalize.segment_history h WHERE h.as_of = refresh_segment_history.as_of::date AND h.map = seg_map;
    INSERT INTO personalize.segment_history (as_of, map, customer_id, segment)
    SELECT refresh_segment_history.as_of::date, seg_map, p.customer_id, p.segment
    FROM personalize.customer_profiles p WHERE p.segment IS NOT NULL;
    GET DIAGNOSTICS rows = ROW_COUNT;
    quality := jsonb_build_object('map', seg_map, 'as_of', as_of::date);
END
$fn$;
COMMENT ON FUNCTION refresh_segment_history(timestamptz, timestamptz) IS 'refresh stage: the segment snapshot';

-- purchase_history and shop_items.
CREATE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    items bigint := 0;
    cols text;
BEGIN
    DELETE FROM personalize.purchase_history;
    -- The same pass keeps, for the holdout check of the suggestions, each
    -- customer's history up to holdout_from (bought_at NULL: first bought
    -- after it), so the order lines are read once.
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_holdout_history']);
    CREATE TEMP TABLE personalize_holdout_history (customer_id bigint, item_id bigint, bought_at timestamptz)
        ON COMMIT DROP;
    EXECUTE format($q$
        WITH agg AS MATERIALIZED (
            SELECT o.customer_id, l.product_id::bigint AS item_id, max(o.ordered_at) AS bought_at, count(*) AS lines,
                   max(o.ordered_at) FILTER (WHERE o.ordered_at <= $2) AS bought_before
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE l.product_id IS NOT NULL
            GROUP BY 1, 2),
        holdout AS (
            INSERT INTO pg_temp.personalize_holdout_history
            SELECT a.customer_id, a.item_id, a.bought_before FROM agg a WHERE $2 IS NOT NULL
            RETURNING 1)
        INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines)
        SELECT a.customer_id, a.item_id, a.bought_at, a.lines FROM agg a$q$,
        personalize.completed_orders_sql(), src.order_lines)
        USING as_of, holdout_from;
    GET DIAGNOSTICS rows = ROW_COUNT;
    DELETE FROM personalize.shop_items;
    IF src.products IS NOT NULL THEN
        SELECT string_agg(CASE a.attname WHEN 'category' THEN 'p.category::text' ELSE 'coalesce(p.rebuyable, false)' END,
                          ', ' ORDER BY a.attname)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = src.products AND a.attname IN ('category', 'rebuyable')
                              AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO personalize.shop_items (item_id, category, rebuyable)
                        SELECT DISTINCT ON (p.product_id) p.product_id::bigint, %s, %s FROM %s p
                        WHERE p.product_id IS NOT NULL ORDER BY p.product_id',
                       CASE WHEN cols LIKE '%category%' THEN 'p.category::text' ELSE 'NULL::text' END,
                       CASE WHEN cols LIKE '%rebuyable%' THEN 'coalesce(p.rebuyable, false)' ELSE 'false' END,
                       src.products);
        GET DIAGNOSTICS items = ROW_COUNT;
    END IF;
    quality := jsonb_build_object('customers', (SELECT count(DISTINCT h.customer_id) FROM personalize.purchase_history h),
                                  'items', items);
END
$fn$;
COMMENT ON FUNCTION refresh_purchase_history(timestamptz, timestamptz) IS 'refresh stage: purchase_history and shop_items';

-- Association rules of the completed orders (model product_rules).
CREATE FUNCTION refresh_product_rules(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    min_count bigint := personalize.shop_setting('rules_min_count')::bigint;
    per_item integer := personalize.shop_setting('rules_per_item')::integer;
    orders bigint;
BEGIN
    DELETE FROM personalize.product_rules;
    EXECUTE format($q$
        WITH b AS MATERIALIZED (
            SELECT personalize.baskets(o.order_id, l.product_id::bigint) AS b
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id),
        rules AS (
            SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength
            FROM b, personalize.association_rules(b.b, min_count => $2, min_len => 1) r),
        ins AS (
            INSERT INTO personalize.product_rules
            SELECT r.antecedent, r.consequent, r.count, r.antecedent_support, r.consequent_support, r.support,
                   r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski, r.zhangs_metric
            FROM rules r WHERE r.strength <= $3 OR r.antecedent = '{}'
            RETURNING 1)
        SELECT (SELECT count(*) FROM ins), (SELECT (personalize.basket_stats(b.b)).basket_count FROM b)$q$,
        personalize.completed_orders_sql(), src.order_lines)
        INTO rows, orders USING as_of, min_count, per_item;
    quality := jsonb_build_object('orders', coalesce(orders, 0), 'rules', rows,
                                  'items', (SELECT count(*) FROM personalize.product_rules r WHERE r.antecedent = '{}'));
    PERFORM personalize.store_model('product_rules',
                                    jsonb_build_object('min_count', min_count, 'min_len', 1, 'rules_per_item', per_item),
                                    as_of, coalesce(orders, 0), quality);
END
$fn$;
COMMENT ON FUNCTION refresh_product_rules(timestamptz, timestamptz) IS 'refresh stage: association rules';

-- Internal: nDCG@10 of the item-item suggestions against the best sellers
-- on the holdout: both built from the purchases up to holdout_from, scored
-- on the items a sample of customers bought after it (and not before).
-- Reads the history the purchase_history stage kept.
CREATE FUNCTION evaluate_suggestions(as_of timestamptz, holdout_from timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    model record;
    popular record;
    n_customers bigint;
BEGIN
    IF to_regclass('pg_temp.personalize_holdout_history') IS NULL THEN
        RETURN jsonb_build_object('skipped', 'the purchase_history stage did not run in this transaction');
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_eval_relevant', 'personalize_eval_sims',
        'personalize_eval_no_sims', 'personalize_eval_popular', 'personalize_eval_model', 'personalize_eval_baseline']);
    IF to_regclass('pg_temp.personalize_eval_history') IS NULL THEN
        CREATE TEMP VIEW personalize_eval_history AS
        SELECT h.customer_id, h.item_id, h.bought_at FROM pg_temp.personalize_holdout_history h WHERE h.bought_at IS NOT NULL;
    END IF;
    CREATE TEMP TABLE personalize_eval_relevant ON COMMIT DROP AS
    SELECT h.customer_id, array_agg(h.item_id ORDER BY h.item_id) AS relevant
    FROM pg_temp.personalize_holdout_history h
    WHERE h.bought_at IS NULL
      -- EXISTS, not HAVING ... IN: a sublink in HAVING stays a subplan, and
      -- one too large to hash in work_mem is rescanned per customer
      -- (quadratic: more than 14 minutes on the bench shop).
      AND EXISTS (SELECT 1 FROM pg_temp.personalize_holdout_history b
                  WHERE b.customer_id = h.customer_id AND b.bought_at IS NOT NULL)
    GROUP BY h.customer_id
    ORDER BY hashint8(h.customer_id), h.customer_id
    LIMIT personalize.shop_setting('evaluation_customers')::bigint;
    SELECT count(*) INTO n_customers FROM pg_temp.personalize_eval_relevant;
    IF n_customers = 0 THEN
        RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', 0);
    END IF;
    CREATE TEMP TABLE personalize_eval_sims ON COMMIT DROP AS
    SELECT * FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM pg_temp.personalize_eval_history h),
        personalize.shop_setting('similarity_measure'), personalize.shop_setting('similarity_neighbours')::integer);
    CREATE TEMP TABLE personalize_eval_no_sims ON COMMIT DROP AS SELECT * FROM pg_temp.personalize_eval_sims WHERE false;
    CREATE TEMP TABLE personalize_eval_popular ON COMMIT DROP AS
    SELECT NULL::text AS segment, h.item_id, count(*)::float8 AS score, count(*) AS buyers  -- score: the order only
    FROM pg_temp.personalize_eval_history h GROUP BY h.item_id ORDER BY count(*) DESC, h.item_id LIMIT 50;
    CREATE TEMP TABLE personalize_eval_model ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_history',
                                       'pg_temp.personalize_eval_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    CREATE TEMP TABLE personalize_eval_baseline ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_history',
                                       'pg_temp.personalize_eval_no_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    SELECT * INTO model FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_model',
                                                                  'pg_temp.personalize_eval_relevant', 10);
    SELECT * INTO popular FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_baseline',
                                                                    'pg_temp.personalize_eval_relevant', 10);
    RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', model.customers,
                              'ndcg_at_10', model.ndcg_at_k, 'precision_at_10', model.precision_at_k,
                              'recall_at_10', model.recall_at_k, 'popular_ndcg_at_10', popular.ndcg_at_k,
                              'popular_precision_at_10', popular.precision_at_k);
END
$fn$;
COMMENT ON FUNCTION evaluate_suggestions(timestamptz, timestamptz) IS
    'internal: holdout nDCG@10 of item-item suggestions against the best sellers';

-- Item similarities over purchase_history (model item_similarities);
-- quality: evaluate_suggestions().
CREATE FUNCTION refresh_item_similarities(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    measure text := personalize.shop_setting('similarity_measure');
    neighbours integer := personalize.shop_setting('similarity_neighbours')::integer;
    customers bigint;
BEGIN
    DELETE FROM personalize.item_similarities;
    INSERT INTO personalize.item_similarities (item, neighbour, score, together)
    SELECT s.item, s.neighbour, s.score, s.together
    FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h),
        measure, neighbours) s;
    GET DIAGNOSTICS rows = ROW_COUNT;
    SELECT count(DISTINCT h.customer_id) INTO customers FROM personalize.purchase_history h;
    quality := jsonb_build_object('items', (SELECT count(*) FROM personalize.item_similarities s WHERE s.item = s.neighbour));
    IF holdout_from IS NOT NULL THEN
        quality := quality || jsonb_build_object('holdout', personalize.evaluate_suggestions(as_of, holdout_from));
    END IF;
    PERFORM personalize.store_model('item_similarities', jsonb_build_object('measure', measure, 'neighbours', neighbours),
                                    as_of, customers, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_item_similarities(timestamptz, timestamptz) IS 'refresh stage: item similarities and their holdout check';

-- Best sellers per segment of customer_profiles and overall: the rows
-- popular_items('personalize.purchase_history', 'personalize.customer_profiles', k)
-- gives, counted without its DISTINCT passes (purchase_history already has
-- one row per customer and item).
CREATE FUNCTION refresh_popular_items(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k integer := personalize.shop_setting('popular_k')::integer;
BEGIN
    DELETE FROM personalize.popular_items;
    WITH buyers AS (
        SELECT p.segment, h.item_id
        FROM personalize.purchase_history h JOIN personalize.customer_profiles p USING (customer_id)),
    counts AS (
        SELECT NULL::text AS segment, h.item_id, count(*) AS buyers FROM personalize.purchase_history h GROUP BY h.item_id
        UNION ALL
        SELECT b.segment, b.item_id, count(*) FROM buyers b WHERE b.segment IS NOT NULL GROUP BY b.segment, b.item_id),
    sizes AS (
        SELECT NULL::text AS segment, count(DISTINCT h.customer_id) AS n FROM personalize.purchase_history h
        UNION ALL
        SELECT p.segment, count(*) FROM personalize.customer_profiles p
        WHERE p.segment IS NOT NULL
          AND EXISTS (SELECT 1 FROM personalize.purchase_history h WHERE h.customer_id = p.customer_id)
        GROUP BY p.segment),
    ranked AS (
        SELECT c.segment, c.item_id, c.buyers::float8 / z.n AS score, c.buyers,
               row_number() OVER (PARTITION BY c.segment ORDER BY c.buyers DESC, c.item_id) AS r
        FROM counts c JOIN sizes z ON z.segment IS NOT DISTINCT FROM c.segment)
    INSERT INTO personalize.popular_items (segment, item_id, score, buyers)
    SELECT r.segment, r.item_id, r.score, r.buyers FROM ranked r WHERE r.r <= k;
    GET DIAGNOSTICS rows = ROW_COUNT;
    quality := jsonb_build_object('segments', (SELECT count(DISTINCT p.segment) FROM personalize.popular_items p));
    PERFORM personalize.store_model('popular_items', jsonb_build_object('k', k), as_of,
                                    (SELECT count(DISTINCT h.customer_id) FROM personalize.purchase_history h), quality);
END
$fn$;
COMMENT ON FUNCTION refresh_popular_items(timestamptz, timestamptz) IS 'refresh stage: best sellers';

-- The purchase-propensity model of the sessions (model propensity), on
-- session_features(); quality: the AUC on the latest fifth of the sessions
-- of a model fitted on the others (holdout_days 0: none). No sessions
-- table: skipped.
CREATE FUNCTION refresh_propensity(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    l2 float8 := personalize.shop_setting('propensity_l2')::float8;
    model jsonb;
    holdout jsonb;
    split timestamptz;
BEGIN
    IF src.sessions IS NULL THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        rows := 0;
        quality := jsonb_build_object('skipped', 'no sessions table is configured');
        RETURN;
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_sessions']);
    CREATE TEMP TABLE personalize_refresh_sessions (started_at timestamptz, converted boolean, features float8[])
        ON COMMIT DROP;
    -- Each session's prior completed orders from one sort of orders and
    -- sessions together (a session before an order at the same time).
    EXECUTE format($q$
        WITH ev AS (
            SELECT o.customer_id, o.ordered_at AS at, 1 AS is_order, NULL::timestamptz AS ended_at,
                   NULL::integer AS pages_viewed, NULL::integer AS items_in_cart, NULL::float8 AS cart_value,
                   NULL::boolean AS exit_intent, NULL::boolean AS converted
            FROM (%s) o
            UNION ALL
            SELECT s.customer_id::bigint, s.started_at, 0, s.ended_at, s.pages_viewed::integer, s.items_in_cart::integer,
                   s.cart_value::float8, s.exit_intent, s.converted
            FROM %s s WHERE s.started_at <= $1 AND s.converted IS NOT NULL),
        h AS (
            SELECT ev.*, sum(ev.is_order) OVER w AS prior_orders,
                   max(CASE WHEN ev.is_order = 1 THEN ev.at END) OVER w AS last_order_at
            FROM ev
            WINDOW w AS (PARTITION BY ev.customer_id ORDER BY ev.at, ev.is_order ROWS UNBOUNDED PRECEDING))
        INSERT INTO pg_temp.personalize_refresh_sessions
        SELECT h.at, h.converted,
               personalize.session_features(
                   h.pages_viewed, h.items_in_cart, h.cart_value, extract(epoch FROM h.ended_at - h.at)::float8,
                   h.exit_intent, h.customer_id IS NOT NULL,
                   CASE WHEN h.customer_id IS NULL THEN 0 ELSE h.prior_orders END::integer,
                   CASE WHEN h.customer_id IS NOT NULL THEN extract(epoch FROM h.at - h.last_order_at)::float8 / 86400 END)
        FROM h WHERE h.is_order = 0$q$, personalize.completed_orders_sql(), src.sessions)
        USING as_of;
    GET DIAGNOSTICS rows = ROW_COUNT;
    IF (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s) < 2 THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        quality := jsonb_build_object('skipped', 'the sessions need both converted and not converted ones');
        RETURN;
    END IF;
    -- Sessions are usually kept for a short time: the holdout is the latest
    -- fifth of them rather than holdout_days.
    SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY s.started_at) INTO split
    FROM pg_temp.personalize_refresh_sessions s;
    IF holdout_from IS NOT NULL
       AND (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split) = 2
    THEN
        WITH m AS (SELECT personalize.logistic_fit(s.converted, s.features, l2) AS model
                   FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split)
        SELECT jsonb_build_object('from', split, 'sessions', count(*),
                                  'converted', count(*) FILTER (WHERE s.converted),
                                  'auc', personalize.auc(personalize.logistic_score(m.model, s.features), s.converted))
        INTO holdout
        FROM pg_temp.personalize_refresh_sessions s, m WHERE s.started_at >= split;
    END IF;
    SELECT personalize.logistic_fit(s.converted, s.features, l2, personalize.session_feature_names()) INTO model
    FROM pg_temp.personalize_refresh_sessions s;
    quality := jsonb_build_object('converged', model -> 'converged', 'holdout', holdout);
    PERFORM personalize.store_model('propensity', model, as_of, rows, quality);
END
$fn$;
COMMENT ON FUNCTION refresh_propensity(timestamptz, timestamptz) IS 'refresh stage: the purchase-propensity model';

-- Running a refresh -------------------------------------------------------------

-- The stages in the order they run, and the model (the name refresh()'s
-- `models` takes) each belongs to.
CREATE FUNCTION refresh_stage_order()
    RETURNS TABLE (stage text, model text, step integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT u.stage, u.model, u.step::integer
    FROM unnest(ARRAY['summaries', 'lifetime', 'rfm', 'kmeans', 'customer_profiles', 'segment_history',
                      'purchase_history', 'product_rules', 'item_similarities', 'popular_items', 'propensity'],
                ARRAY['customer_profiles', 'customer_profiles', 'customer_profiles', 'customer_profiles',
                      'customer_profiles', 'customer_profiles', 'purchase_history', 'product_rules',
                      'item_similarities', 'popular_items', 'propensity']) WITH ORDINALITY AS u(stage, model, step)
$fn$;
COMMENT ON FUNCTION refresh_stage_order() IS
    'the refresh stages in order and the model each belongs to (item_similarities and popular_items also run purchase_history)';

-- The lock key of refresh (pg_advisory locks, one per database).
CREATE FUNCTION refresh_lock_key() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 7236097513946382681;  -- hash of 'pg_personalize refresh'
COMMENT ON FUNCTION refresh_lock_key() IS 'the advisory lock a refresh holds until its transaction ends';

-- Internal: the refresh's "now" from the setting as_of.
CREATE FUNCTION refresh_as_of()
    RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rule text := personalize.shop_setting('as_of');
    latest timestamptz;
BEGIN
    IF rule = 'now' THEN
        RETURN now();
    ELSIF rule = 'latest_order' THEN
        EXECUTE format('SELECT max(o.ordered_at) FROM (%s) o', personalize.completed_orders_sql())
            INTO latest USING 'infinity'::timestamptz;
        RETURN coalesce(latest, now());
    END IF;
    RETURN rule::timestamptz;
END
$fn$;
COMMENT ON FUNCTION refresh_as_of() IS 'internal: the time a refresh takes the data up to (setting as_of)';

-- Internal: the work of a refresh, in the caller's transaction. Checks the
-- configuration, takes the refresh lock (another refresh holding it: the
-- error 55P03), sets the time zone and memory limit of the settings for
-- the refresh, and runs the stages of `models` (NULL: all). A failing stage
-- rolls back every stage's writes (a subtransaction) and is returned in
-- `error` instead of raised, so the callers decide what is recorded.
CREATE FUNCTION refresh_run(models text[], "full" boolean, OUT stages jsonb, OUT error jsonb, OUT as_of timestamptz)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'  -- restores the caller's time zone on exit
AS $fn$
DECLARE
    wanted text[];
    unknown text;
    st text;
    t0 timestamptz;
    n bigint;
    q jsonb;
    holdout_days integer;
    holdout_from timestamptz;
    holder integer;
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
    memory_limit text := current_setting('personalize.memory_limit', true);
    tables personalize.shop_tables;
BEGIN
    stages := '[]';
    BEGIN
        tables := personalize.configured_shop('refresh', true);
        IF cardinality(models) = 0 OR array_position(models, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" must be NULL (all) or a non-empty list of model names'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT string_agg(quote_literal(m), ', ') INTO unknown FROM unnest(models) m
        WHERE m NOT IN (SELECT o.model FROM personalize.refresh_stage_order() o);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" has unknown models %', unknown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The models: customer_profiles, purchase_history, product_rules, item_similarities, popular_items, propensity.';
        END IF;
        wanted := coalesce(models, ARRAY(SELECT DISTINCT o.model FROM personalize.refresh_stage_order() o));
        IF wanted && ARRAY['item_similarities', 'popular_items'] THEN
            wanted := wanted || 'purchase_history'::text;
        END IF;
        IF NOT pg_try_advisory_xact_lock(personalize.refresh_lock_key()) THEN
            SELECT l.pid INTO holder FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::bigint << 32) | l.objid::bigint) = personalize.refresh_lock_key()
            LIMIT 1;
            RAISE EXCEPTION 'refresh: another refresh is running (backend %)', coalesce(holder::text, 'unknown')
                USING ERRCODE = 'lock_not_available',
                      HINT = 'Wait for it to end; its models are swapped in when it commits.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = personalize.shop_setting('segment_map')) THEN
            RAISE EXCEPTION 'refresh: setting "segment_map" % is not a map in personalize.segment_rules',
                quote_literal(personalize.shop_setting('segment_map')) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- The offer contexts follow recreated tables too (when configure_shop set them).
        IF EXISTS (SELECT 1 FROM personalize.offer_context_source o
                   WHERE o.features = 'personalize.customer_profile_features'::regclass
                     AND ((o.orders, o.customers) IS DISTINCT FROM (tables.orders, tables.customers)
                          OR o.currency <> personalize.shop_setting('currency'))) THEN
            PERFORM personalize.configure_offer_context(tables.orders, tables.customers,
                                                        'personalize.customer_profile_features',
                                                        personalize.shop_setting('currency'));
        END IF;
        PERFORM set_config('TimeZone', personalize.shop_setting('time_zone'), true);
        PERFORM set_config('personalize.memory_limit', personalize.shop_setting('memory_limit'), true);
        as_of := personalize.refresh_as_of();
        holdout_days := personalize.shop_setting('holdout_days')::integer;
        holdout_from := CASE WHEN holdout_days > 0 THEN as_of - holdout_days * interval '1 day' END;
        FOR st IN SELECT o.stage FROM personalize.refresh_stage_order() o WHERE o.model = ANY (wanted) ORDER BY o.step
        LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT * FROM personalize.%I($1, $2)', 'refresh_' || st) INTO n, q USING as_of, holdout_from;
            stages := stages || jsonb_build_array(jsonb_build_object(
                'stage', st, 'rows', n, 'seconds', extract(epoch FROM clock_timestamp() - t0), 'quality', q));
        END LOOP;
        st := NULL;
        IF memory_limit IS NOT NULL THEN
            PERFORM set_config('personalize.memory_limit', memory_limit, true);
        END IF;
    EXCEPTION WHEN query_canceled OR others THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
                                e_hint = PG_EXCEPTION_HINT;
        error := jsonb_strip_nulls(jsonb_build_object('stage', st, 'sqlstate', e_state, 'message', e_message,
                                                      'detail', nullif(e_detail, ''), 'hint', nullif(e_hint, '')));
    END;
END
$fn$;
COMMENT ON FUNCTION refresh_run(text[], boolean) IS 'internal: the stages of a refresh; a failure rolls them back and is returned';

-- Internal: raises the error refresh_run() returned.
CREATE FUNCTION raise_refresh_error(error jsonb)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $fn$
DECLARE
    message text := CASE WHEN error ? 'stage'
                         THEN format('refresh: stage %s failed: %s', error ->> 'stage', error ->> 'message')
                         ELSE error ->> 'message' END;
    code text := error ->> 'sqlstate';
BEGIN
    -- RAISE takes no NULL option: one statement per combination.
    IF error ? 'detail' AND error ? 'hint' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = error ->> 'detail', HINT = error ->> 'hint';
    ELSIF error ? 'detail' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = error ->> 'detail';
    ELSIF error ? 'hint' THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = error ->> 'hint';
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END
$fn$;
COMMENT ON FUNCTION raise_refresh_error(jsonb) IS 'internal: raises a refresh error';

-- Refreshes the models of the configured shop in the caller's
-- transaction: one row per stage. Readers see the previous models until it
-- commits; a failure raises its error and leaves them (the run is logged in
-- refresh_runs only when it succeeds: CALL run_refresh() logs failures).
-- `full` is accepted for the incremental refresh to come: today every
-- refresh rebuilds everything.
CREATE FUNCTION refresh(models text[] DEFAULT NULL, full boolean DEFAULT false)
    RETURNS TABLE (stage text, rows bigint, seconds float8, quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    started timestamptz := clock_timestamp();
    result record;
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'refresh: "full" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO result FROM personalize.refresh_run(models, "full");
    IF result.error IS NOT NULL THEN
        PERFORM personalize.raise_refresh_error(result.error);
    END IF;
    INSERT INTO personalize.refresh_runs (started_at, finished_at, status, models, "full", as_of, stages, backend_pid)
    VALUES (started, clock_timestamp(), 'succeeded', models, "full", result.as_of, result.stages, pg_backend_pid());
    RETURN QUERY
    SELECT s ->> 'stage', (s ->> 'rows')::bigint, (s ->> 'seconds')::float8, s -> 'quality'
    FROM jsonb_array_elements(result.stages) s;
END
$fn$;
COMMENT ON FUNCTION refresh(text[], boolean) IS
    'refreshes the configured shop''s models in one transaction: one row per stage (stage, rows, seconds, quality)';

-- The logged refresh (what schedule_refresh() runs; CALL it outside a
-- transaction block): commits a 'running' row of refresh_runs first, runs
-- the refresh and commits it with the row's outcome; a failure is recorded
-- (the models stay as they were) and then raised. A row left 'running'
-- whose backend is gone was stopped by a crash.
CREATE PROCEDURE run_refresh(models text[] DEFAULT NULL, full boolean DEFAULT false)
    LANGUAGE plpgsql
AS $fn$
DECLARE
    id bigint;
    result record;
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'run_refresh: "full" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO personalize.refresh_runs (started_at, status, models, "full", backend_pid)
    VALUES (clock_timestamp(), 'running', models, "full", pg_backend_pid())
    RETURNING run_id INTO id;
    COMMIT;
    SELECT * INTO result FROM personalize.refresh_run(models, "full");
    UPDATE personalize.refresh_runs
    SET finished_at = clock_timestamp(), status = CASE WHEN result.error IS NULL THEN 'succeeded' ELSE 'failed' END,
        as_of = result.as_of, stages = result.stages, error = result.error
    WHERE run_id = id;
    COMMIT;
    IF result.error IS NOT NULL THEN
        PERFORM personalize.raise_refresh_error(result.error);
    END IF;
END
$fn$;
COMMENT ON PROCEDURE run_refresh(text[], boolean) IS
    'runs refresh() in its own transactions and records it in refresh_runs, failures too';

-- Schedule -------------------------------------------------------------------

-- Schedules CALL personalize.run_refresh() with pg_cron (job
-- pg_personalize_refresh in this database, replacing an earlier schedule).
-- Returns the job id.
CREATE FUNCTION schedule_refresh(cron text DEFAULT '0 3 * * *')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    job bigint;
BEGIN
    IF cron IS NULL THEN
        RAISE EXCEPTION 'schedule_refresh: "cron" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'schedule_refresh: pg_cron is not installed in this server''s cron database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron; or run CALL personalize.run_refresh() from any scheduler.';
    END IF;
    PERFORM personalize.configured_shop('schedule_refresh');
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
        INTO job USING 'pg_personalize_refresh', cron, 'CALL personalize.run_refresh()', current_database();
    RETURN job;
END
$fn$;
COMMENT ON FUNCTION schedule_refresh(text) IS 'schedules the logged refresh (run_refresh) with pg_cron';

-- Removes the schedule; false when there was none.
CREATE FUNCTION unschedule_refresh()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'unschedule_refresh: pg_cron is not installed in this server''s cron database'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND database = $2' INTO job
        USING 'pg_personalize_refresh', current_database();
    IF job IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING job;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION unschedule_refresh() IS 'removes the pg_cron schedule of the refresh';

-- Serving from the refreshed models -----------------------------------------
-- The regclass forms stay for shops that keep their own models. A call
-- with an untyped literal table name and two arguments, such as
-- product_complements('my_rules', 42), now resolves to the forms below:
-- write 'my_rules'::regclass or name the argument (docs/pipeline.md).

-- One customer's profile (no row: unknown customer).
CREATE FUNCTION customer_profile(customer_id bigint)
    RETURNS SETOF customer_profiles
    LANGUAGE sql STABLE STRICT PARALLEL SAFE ROWS 1
AS $fn$
    SELECT * FROM personalize.customer_profiles p WHERE p.customer_id = $1
$fn$;
COMMENT ON FUNCTION customer_profile(bigint) IS 'one customer''s row of customer_profiles';

-- Cross-sell for a cart from product_rules.
CREATE FUNCTION cart_suggestions(cart bigint[], k integer DEFAULT 10)
    RETURNS TABLE (item bigint, score float8, evidence bigint[], source text)
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.cart_suggestions($1, 'personalize.product_rules'::regclass, $2, 0::float8)
$fn$;
COMMENT ON FUNCTION cart_suggestions(bigint[], integer) IS 'top-k cross-sell items for a cart from the refreshed product_rules';

-- "Bought together" from product_rules.
CREATE FUNCTION product_complements(item bigint, k integer DEFAULT 10)
    RETURNS TABLE (complement bigint, confidence float8, lift float8, certainty float8)
    LANGUAGE sql STABLE STRICT PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.product_complements('personalize.product_rules'::regclass, $1, $2)
$fn$;
COMMENT ON FUNCTION product_complements(bigint, integer) IS 'top-k complements of a product from the refreshed product_rules';

-- A customer's top-n from purchase_history, item_similarities, shop_items
-- and the best sellers of the customer's segment (category_cap setting).
CREATE FUNCTION suggestions(customer_id bigint, n integer DEFAULT 10)
    RETURNS TABLE (rank integer, item_id bigint, score float8, source text, because bigint[])
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 10
AS $fn$
    SELECT * FROM personalize.suggestions(
        $1, 'personalize.purchase_history'::regclass, 'personalize.item_similarities'::regclass, $2,
        items => 'personalize.shop_items'::regclass, popular => 'personalize.popular_items'::regclass,
        segment => (SELECT p.segment FROM personalize.customer_profiles p WHERE p.customer_id = $1),
        category_cap => nullif(personalize.shop_setting('category_cap')::integer, 0))
$fn$;
COMMENT ON FUNCTION suggestions(bigint, integer) IS
    'one customer''s top-n suggestions from the refreshed history, similarities and best sellers';

-- A session's purchase propensity from the refreshed model (arguments as
-- session_features()); NULL before a refresh has fitted one.
CREATE FUNCTION session_propensity(pages_viewed integer, items_in_cart integer, cart_value float8,
                                   seconds_on_site float8, exit_intent boolean, signed_in boolean,
                                   prior_orders integer, days_since_last_order float8)
    RETURNS float8
    LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT personalize.logistic_score(m.parameters,
                                      personalize.session_features($1, $2, $3, $4, $5, $6, $7, $8))
    FROM personalize.models m WHERE m.name = 'propensity'
$fn$;
COMMENT ON FUNCTION session_propensity(integer, integer, float8, float8, boolean, boolean, integer, float8) IS
    'purchase propensity of a session from the refreshed propensity model';

-- ==== main: the "days" of lapsed_customers / recently_active_customers bounded (22023, not 22008) ====
-- The window of a cohort function: 1 to 36500 days (100 years; a longer
-- window would overflow the interval arithmetic, or push as_of minus it
-- out of the timestamp range).
CREATE FUNCTION check_cohort_days(fn text, days integer)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF days IS NULL THEN
        RAISE EXCEPTION '%: "days" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF days < 1 OR days > 36500 THEN
        RAISE EXCEPTION '%: "days" must be between 1 and 36500, got %', fn, days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_cohort_days(text, integer) IS 'internal: the "days" check of the cohort functions';

CREATE OR REPLACE FUNCTION lapsed_customers(orders regclass, as_of timestamptz, days integer)
    RETURNS TABLE (customer_id bigint, last_order_at timestamptz, days_since_last_order float8,
                   typical_gap_days float8, overdue boolean)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('lapsed_customers', orders, as_of);
    PERFORM personalize.check_cohort_days('lapsed_customers', days);
    RETURN QUERY EXECUTE format($q$
        WITH o AS (
            SELECT o.customer_id::bigint AS customer_id, o.ordered_at::timestamptz AS ordered_at,
                   extract(epoch FROM o.ordered_at - lag(o.ordered_at) OVER w)::float8 / 86400 AS gap
            FROM %s o
            WHERE o.status = 'completed' AND o.ordered_at <= $1
            WINDOW w AS (PARTITION BY o.customer_id ORDER BY o.ordered_at)
        ), c AS (
            SELECT o.customer_id, max(o.ordered_at) AS last_order_at,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY o.gap) AS typical_gap
            FROM o GROUP BY o.customer_id
        )
        SELECT c.customer_id, c.last_order_at, extract(epoch FROM $1 - c.last_order_at)::float8 / 86400,
               c.typical_gap, extract(epoch FROM $1 - c.last_order_at)::float8 / 86400 > 2 * c.typical_gap
        FROM c
        WHERE c.last_order_at <= $1 - $2 * interval '24 hours'
        ORDER BY c.customer_id$q$, orders)
        USING as_of, days;
END
$fn$;

CREATE OR REPLACE FUNCTION recently_active_customers(orders regclass, as_of timestamptz, days integer)
    RETURNS TABLE (customer_id bigint, orders_in_window bigint, spend_in_window numeric, last_order_at timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('recently_active_customers', orders, as_of);
    PERFORM personalize.check_cohort_days('recently_active_customers', days);
    RETURN QUERY EXECUTE format($q$
        SELECT o.customer_id::bigint, count(*), sum(o.total)::numeric, max(o.ordered_at)::timestamptz
        FROM %s o
        WHERE o.status = 'completed' AND o.ordered_at <= $1 AND o.ordered_at > $1 - $2 * interval '24 hours'
        GROUP BY o.customer_id
        ORDER BY o.customer_id$q$, orders)
        USING as_of, days;
END
$fn$;
-- Issue 14, items 3 and 7 (src/sql/97_pipeline.sql): forget_customer and
-- the tables that remember erased customers, the incremental refresh
-- (refresh_fingerprints, refresh_state and their helpers), and the stages
-- that now leave forgotten customers out and recompute only what changed.
-- Runs after 00_main.sql, which creates the pipeline; the definitions here
-- are those of the install script.

-- The customers forget_customer() erased: every refresh leaves them out
-- (their orders, sessions and customers row), though the shop's own
-- tables still hold them. Dumped, so a restore keeps forgetting them.
CREATE TABLE forgotten_customers (
    customer_id  bigint PRIMARY KEY,
    forgotten_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE forgotten_customers IS
    'customers erased by forget_customer(): refreshes leave them out of every model and output';
COMMENT ON COLUMN forgotten_customers.customer_id IS 'the customer (the shop''s id; the only thing kept about them)';
COMMENT ON COLUMN forgotten_customers.forgotten_at IS 'when forget_customer() was first called for them';
SELECT pg_catalog.pg_extension_config_dump('personalize.forgotten_customers', '');

-- The incremental refresh (refresh(full => false), docs/pipeline.md): what
-- each incremental stage was last built from, per customer: the number and
-- a digest (a sum of hashes of order id, time and total) of the customer's
-- completed orders up to as_of. A customer whose row differs from what the
-- orders give now (new, changed, cancelled or deleted orders, a customer
-- gone or forgotten) is recomputed; the others are kept.
CREATE TABLE refresh_fingerprints (
    stage       text NOT NULL,
    customer_id bigint NOT NULL,
    orders      bigint NOT NULL,
    digest      numeric NOT NULL,
    PRIMARY KEY (stage, customer_id)
);
COMMENT ON TABLE refresh_fingerprints IS
    'internal: per stage and customer, the fingerprint of the completed orders the stage was last built from (incremental refresh)';
COMMENT ON COLUMN refresh_fingerprints.stage IS 'summaries, purchase_history, product_rules or item_similarities';
COMMENT ON COLUMN refresh_fingerprints.customer_id IS 'the customer';
COMMENT ON COLUMN refresh_fingerprints.orders IS 'their completed orders up to as_of';
COMMENT ON COLUMN refresh_fingerprints.digest IS 'sum of hashes of each order''s id, time and total';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_fingerprints', '');

-- What each incremental stage was last built with: the configured tables
-- and every setting but as_of. Another basis: the stage rebuilds everything.
CREATE TABLE refresh_state (
    stage text PRIMARY KEY,
    basis jsonb NOT NULL,
    as_of timestamptz NOT NULL
);
COMMENT ON TABLE refresh_state IS 'internal: the configuration each incremental stage was last built with';
COMMENT ON COLUMN refresh_state.stage IS 'the stage';
COMMENT ON COLUMN refresh_state.basis IS 'the configured tables and the settings but as_of (refresh_basis())';
COMMENT ON COLUMN refresh_state.as_of IS 'the as_of it was built for';
SELECT pg_catalog.pg_extension_config_dump('personalize.refresh_state', '');

-- Internal: what an incremental stage's output depends on besides the
-- orders: the configured tables and the settings (but as_of, whose effect
-- on the orders the fingerprints see).
CREATE FUNCTION refresh_basis()
    RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT jsonb_build_object(
        'tables', (SELECT jsonb_build_array(s.orders, s.order_lines, s.customers, s.products, s.sessions)
                   FROM personalize.shop_source s),
        'settings', (SELECT jsonb_object_agg(d.key, personalize.shop_setting(d.key))
                     FROM personalize.shop_setting_definitions() d WHERE d.key <> 'as_of'))
$fn$;
COMMENT ON FUNCTION refresh_basis() IS 'internal: the configuration an incremental stage''s output depends on';

-- Internal: the customers whose completed orders changed since `stage`
-- last ran, in pg_temp.personalize_changed_<stage>; their number, or NULL
-- when the stage is to rebuild everything (refresh(full => true), no
-- earlier run, another basis). The fingerprints of the orders now are taken
-- once per refresh (pg_temp.personalize_refresh_fingerprints).
CREATE FUNCTION refresh_changes(stage text, as_of timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 3  -- the totals' text in the digest: exact
AS $fn$
DECLARE
    changed text := 'personalize_changed_' || stage;
    n bigint;
BEGIN
    IF to_regclass('pg_temp.personalize_refresh_fingerprints') IS NULL THEN
        CREATE TEMP TABLE personalize_refresh_fingerprints (
            customer_id bigint PRIMARY KEY, orders bigint NOT NULL, digest numeric NOT NULL) ON COMMIT DROP;
        EXECUTE format($q$
            INSERT INTO pg_temp.personalize_refresh_fingerprints
            SELECT o.customer_id, count(*),
                   sum(hashtextextended(concat_ws('|', o.order_id, extract(epoch FROM o.ordered_at), o.total), 0)::numeric)
            FROM (%s) o GROUP BY o.customer_id$q$, personalize.completed_orders_sql())
            USING as_of;
        ANALYZE pg_temp.personalize_refresh_fingerprints;
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY[changed]);
    IF current_setting('pg_personalize.refresh_full', true) IS DISTINCT FROM 'false'
       OR NOT EXISTS (SELECT 1 FROM personalize.refresh_state s
                      WHERE s.stage = refresh_changes.stage AND s.basis = personalize.refresh_basis()) THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        CREATE TEMP TABLE %I ON COMMIT DROP AS
        SELECT coalesce(c.customer_id, f.customer_id) AS customer_id
        FROM pg_temp.personalize_refresh_fingerprints c
        FULL JOIN (SELECT * FROM personalize.refresh_fingerprints x WHERE x.stage = %L) f
            ON f.customer_id = c.customer_id
        WHERE (c.orders, c.digest) IS DISTINCT FROM (f.orders, f.digest)$q$, changed, stage);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ANALYZE pg_temp.%I', changed);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION refresh_changes(text, timestamptz) IS
    'internal: the customers whose orders changed since a stage last ran (NULL: rebuild everything)';

-- Internal: records what `stage` was built from: the fingerprints of the
-- changed customers (incremental) or of all (a rebuild), and the basis.
CREATE FUNCTION refresh_record(stage text, as_of timestamptz, incremental boolean)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF incremental THEN
        EXECUTE format('DELETE FROM personalize.refresh_fingerprints f
                        WHERE f.stage = $1 AND f.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
        EXECUTE format('INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
                        SELECT $1, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p
                        WHERE p.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
    ELSE
        DELETE FROM personalize.refresh_fingerprints f WHERE f.stage = refresh_record.stage;
        INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
        SELECT stage, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p;
    END IF;
    INSERT INTO personalize.refresh_state AS s (stage, basis, as_of)
    VALUES (stage, personalize.refresh_basis(), as_of)
    ON CONFLICT ON CONSTRAINT refresh_state_pkey DO UPDATE SET basis = excluded.basis, as_of = excluded.as_of;
END
$fn$;
COMMENT ON FUNCTION refresh_record(text, timestamptz, boolean) IS
    'internal: records the fingerprints and basis a stage was built from';

-- The stages and the refresh, as in the install script.

CREATE OR REPLACE FUNCTION completed_orders_sql()
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('SELECT o.order_id::bigint AS order_id, o.customer_id::bigint AS customer_id, o.ordered_at,
                          o.total::float8 AS total
                   FROM %s o WHERE o.status = ANY (%L::text[]) AND o.ordered_at <= $1 AND o.customer_id IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                     WHERE f.customer_id = o.customer_id::bigint)',
                  (personalize.configured_shop('refresh')).orders, personalize.shop_setting('completed_statuses'))
$fn$;

CREATE OR REPLACE FUNCTION refresh_summaries(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    unit interval := personalize.shop_setting('time_unit')::interval;
    changed bigint := personalize.refresh_changes('summaries', as_of);
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_summary']);
    CREATE TEMP TABLE personalize_refresh_summary (
        customer_id bigint PRIMARY KEY, orders bigint, first_order_at timestamptz, last_order_at timestamptz,
        frequency bigint, recency float8, age float8, monetary float8, total float8) ON COMMIT DROP;
    IF changed IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO pg_temp.personalize_refresh_summary
            SELECT * FROM (
                SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $1, $2)).*
                FROM (%s) o WHERE o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_summaries c)
                GROUP BY o.customer_id
                UNION ALL
                SELECT p.customer_id, p.orders, p.first_order_at, p.last_order_at, p.frequency, p.recency,
                       (personalize.customer_summary(p.first_order_at, 0::float8, $1, $2)).age, p.monetary, p.total
                FROM personalize.customer_profiles p
                WHERE p.orders > 0
                  -- NOT EXISTS (an anti-join), not NOT IN: a NOT IN list too
                  -- large to hash in work_mem is rescanned per profile.
                  AND NOT EXISTS (SELECT 1 FROM pg_temp.personalize_changed_summaries c WHERE c.customer_id = p.customer_id)
                GROUP BY p.customer_id) x
            ORDER BY x.customer_id$q$, personalize.completed_orders_sql())
            USING as_of, unit;
        GET DIAGNOSTICS rows = ROW_COUNT;
        -- Profiles edited by hand since: rebuild rather than trust them.
        IF rows <> (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints) THEN
            TRUNCATE pg_temp.personalize_refresh_summary;
            changed := NULL;
        END IF;
    END IF;
    IF changed IS NULL THEN
        EXECUTE format('INSERT INTO pg_temp.personalize_refresh_summary
                        SELECT o.customer_id, (personalize.customer_summary(o.ordered_at, o.total, $1, $2)).*
                        FROM (%s) o GROUP BY o.customer_id ORDER BY o.customer_id', personalize.completed_orders_sql())
            USING as_of, unit;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    ANALYZE pg_temp.personalize_refresh_summary;
    PERFORM personalize.refresh_record('summaries', as_of, changed IS NOT NULL);
    quality := jsonb_build_object('customers_with_orders', rows, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed', coalesce(changed, rows));
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_customer_profiles(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    unit interval := personalize.shop_setting('time_unit')::interval;
    unit_days float8 := extract(epoch FROM personalize.shop_setting('time_unit')::interval) / 86400;
    draws integer := personalize.shop_setting('clv_interval_draws')::integer;
    has_signup boolean := src.customers IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = src.customers AND a.attname = 'signed_up_at'
                                      AND a.attnum > 0 AND NOT a.attisdropped);
BEGIN
    DELETE FROM personalize.customer_profiles;
    EXECUTE format($q$
        WITH mo AS (
            SELECT (SELECT parameters FROM personalize.models WHERE name = 'lifetime') AS bg,
                   (SELECT parameters FROM personalize.models WHERE name = 'spend') AS gg,
                   (SELECT parameters FROM personalize.models WHERE name = 'rfm') AS bp,
                   (SELECT parameters FROM personalize.models WHERE name = 'kmeans') AS km),
        -- segment() of every score cell once, instead of once per customer.
        cells AS (
            SELECT cr, cf, cm, personalize.segment($2, cr, cf, cm) AS segment
            FROM generate_series(1, 5) cr, generate_series(1, 5) cf, generate_series(1, 5) cm),
        prev AS (
            SELECT h.customer_id, h.segment FROM personalize.segment_history h
            WHERE h.map = $2 AND h.as_of = (SELECT max(x.as_of) FROM personalize.segment_history x
                                            WHERE x.map = $2 AND x.as_of < $1::date)),
        ids AS (
            SELECT s.customer_id FROM pg_temp.personalize_refresh_summary s
            %s),
        p AS (
            SELECT k.customer_id, %s AS signed_up_at, s.orders, s.first_order_at, s.last_order_at, s.frequency,
                   s.recency, s.age, s.monetary, s.total, sc.r, sc.f, sc.m, ka.cluster, ci.lower AS clv_lower,
                   ci.upper AS clv_upper,
                   personalize.probability_alive(mo.bg, s.frequency, s.recency, s.age) AS p_alive,
                   personalize.expected_purchases(mo.bg, 30 / $3, s.frequency, s.recency, s.age) AS e30,
                   personalize.expected_purchases(mo.bg, 90 / $3, s.frequency, s.recency, s.age) AS e90,
                   personalize.expected_purchases(mo.bg, 365 / $3, s.frequency, s.recency, s.age) AS e365,
                   personalize.customer_lifetime_value(mo.bg, mo.gg, s.frequency, s.recency, s.age, s.monetary,
                                                       $4, 365.25 / 12 / $3, $5) AS clv,
                   personalize.next_purchase_in(mo.bg, s.frequency, s.recency, s.age) AS next_in
            FROM ids k
            CROSS JOIN mo
            LEFT JOIN pg_temp.personalize_refresh_summary s ON s.customer_id = k.customer_id
            %s
            LEFT JOIN LATERAL personalize.rfm_score(mo.bp, s.age - s.recency, s.frequency, s.total) sc ON true
            LEFT JOIN LATERAL personalize.kmeans_assign(
                CASE WHEN s.customer_id IS NOT NULL THEN ARRAY[s.frequency, s.age - s.recency, s.total]::float8[] END,
                mo.km) ka ON true
            LEFT JOIN LATERAL (%s) ci ON true)
        INSERT INTO personalize.customer_profiles
        SELECT p.customer_id,
               CASE WHEN p.orders IS NULL THEN 'prospect'
                    WHEN p.first_order_at > $1 - $7 * interval '1 day' THEN 'new'
                    WHEN p.last_order_at <= $1 - $9 * interval '1 day' THEN 'churned'
                    WHEN p.last_order_at <= $1 - $8 * interval '1 day' THEN 'lapsed'
                    ELSE 'active' END,
               p.signed_up_at, coalesce(p.orders, 0), p.first_order_at, p.last_order_at,
               extract(epoch FROM $1 - p.last_order_at) / 86400,
               p.frequency, p.recency, p.age, p.monetary, coalesce(p.total, 0),
               p.r, p.f, p.m, cells.segment, prev.segment, p.cluster,
               p.p_alive, 1 - p.p_alive, p.e30, p.e90, p.e365, p.clv,
               p.clv_lower, p.clv_upper,
               CASE WHEN p.next_in < 'Infinity' THEN $1 + p.next_in * $10 END,
               $1, now()
        FROM p LEFT JOIN prev ON prev.customer_id = p.customer_id
        LEFT JOIN cells ON cells.cr = p.r AND cells.cf = p.f AND cells.cm = p.m$q$,
        CASE WHEN src.customers IS NULL THEN ''
             ELSE format('UNION SELECT c.customer_id::bigint FROM %s c WHERE c.customer_id IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                          WHERE f.customer_id = c.customer_id::bigint)', src.customers) END,
        CASE WHEN has_signup THEN 'c.signed_up_at' ELSE 'NULL::timestamptz' END,
        CASE WHEN has_signup THEN format('LEFT JOIN %s c ON c.customer_id = k.customer_id', src.customers) ELSE '' END,
        CASE WHEN draws > 0
             THEN 'SELECT x.lower, x.upper FROM personalize.customer_lifetime_value_interval(mo.bg, mo.gg, s.frequency,
                       s.recency, s.age, s.monetary, $4, 365.25 / 12 / $3, $5, 0.9, $6) x'
             ELSE 'SELECT NULL::float8 AS lower, NULL::float8 AS upper' END)
        USING as_of, personalize.shop_setting('segment_map'), unit_days,
              personalize.shop_setting('clv_months')::integer, personalize.shop_setting('discount_rate')::float8,
              draws, personalize.shop_setting('new_days')::integer, personalize.shop_setting('lapsed_days')::integer,
              personalize.shop_setting('churned_days')::integer, unit;
    GET DIAGNOSTICS rows = ROW_COUNT;
    SELECT jsonb_object_agg(x.lifecycle_stage, x.n) INTO quality
    FROM (SELECT p.lifecycle_stage, count(*) AS n FROM personalize.customer_profiles p GROUP BY 1 ORDER BY 1) x;
    quality := jsonb_build_object('lifecycle_stages', coalesce(quality, '{}'));
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    items bigint := 0;
    cols text;
    changed bigint := personalize.refresh_changes('purchase_history', as_of);
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_holdout_history']);
    IF changed IS NOT NULL THEN
        DELETE FROM personalize.purchase_history h
        WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c);
        EXECUTE format($q$
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines)
            SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE l.product_id IS NOT NULL
              AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c)
            GROUP BY 1, 2$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of;
        SELECT count(*) INTO rows FROM personalize.purchase_history;
    ELSE
        DELETE FROM personalize.purchase_history;
        -- The same pass keeps, for the holdout check of the suggestions, each
        -- customer's history up to holdout_from (bought_at NULL: first bought
        -- after it), so the order lines are read once.
        CREATE TEMP TABLE personalize_holdout_history (customer_id bigint, item_id bigint, bought_at timestamptz)
            ON COMMIT DROP;
        EXECUTE format($q$
            WITH agg AS MATERIALIZED (
                SELECT o.customer_id, l.product_id::bigint AS item_id, max(o.ordered_at) AS bought_at, count(*) AS lines,
                       max(o.ordered_at) FILTER (WHERE o.ordered_at <= $2) AS bought_before
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL
                GROUP BY 1, 2),
            holdout AS (
                INSERT INTO pg_temp.personalize_holdout_history
                SELECT a.customer_id, a.item_id, a.bought_before FROM agg a WHERE $2 IS NOT NULL
                RETURNING 1)
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines)
            SELECT a.customer_id, a.item_id, a.bought_at, a.lines FROM agg a$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of, holdout_from;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    IF to_regclass('pg_temp.personalize_holdout_history') IS NOT NULL THEN
        ANALYZE pg_temp.personalize_holdout_history;  -- temporary tables get no autovacuum statistics
    END IF;
    PERFORM personalize.refresh_record('purchase_history', as_of, changed IS NOT NULL);
    DELETE FROM personalize.shop_items;
    IF src.products IS NOT NULL THEN
        SELECT string_agg(CASE a.attname WHEN 'category' THEN 'p.category::text' ELSE 'coalesce(p.rebuyable, false)' END,
                          ', ' ORDER BY a.attname)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = src.products AND a.attname IN ('category', 'rebuyable')
                              AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO personalize.shop_items (item_id, category, rebuyable)
                        SELECT DISTINCT ON (p.product_id) p.product_id::bigint, %s, %s FROM %s p
                        WHERE p.product_id IS NOT NULL ORDER BY p.product_id',
                       CASE WHEN cols LIKE '%category%' THEN 'p.category::text' ELSE 'NULL::text' END,
                       CASE WHEN cols LIKE '%rebuyable%' THEN 'coalesce(p.rebuyable, false)' ELSE 'false' END,
                       src.products);
        GET DIAGNOSTICS items = ROW_COUNT;
    END IF;
    quality := jsonb_build_object('customers', (SELECT count(DISTINCT h.customer_id) FROM personalize.purchase_history h),
                                  'items', items, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed',
                                  coalesce(changed, (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints)));
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_product_rules(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    min_count bigint := personalize.shop_setting('rules_min_count')::bigint;
    per_item integer := personalize.shop_setting('rules_per_item')::integer;
    orders bigint;
    changed bigint := personalize.refresh_changes('product_rules', as_of);
BEGIN
    -- Rules count every basket: any changed order rebuilds them; no change
    -- keeps them (and their model row, now as of this refresh).
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'product_rules') THEN
        UPDATE personalize.models m SET as_of = refresh_product_rules.as_of WHERE m.name = 'product_rules';
        SELECT count(*) INTO rows FROM personalize.product_rules;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'product_rules';
        PERFORM personalize.refresh_record('product_rules', as_of, true);
        RETURN;
    END IF;
    DELETE FROM personalize.product_rules;
    EXECUTE format($q$
        WITH b AS MATERIALIZED (
            SELECT personalize.baskets(o.order_id, l.product_id::bigint) AS b
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id),
        rules AS (
            SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength
            FROM b, personalize.association_rules(b.b, min_count => $2, min_len => 1) r),
        ins AS (
            INSERT INTO personalize.product_rules
            SELECT r.antecedent, r.consequent, r.count, r.antecedent_support, r.consequent_support, r.support,
                   r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski, r.zhangs_metric
            FROM rules r WHERE r.strength <= $3 OR r.antecedent = '{}'
            RETURNING 1)
        SELECT (SELECT count(*) FROM ins), (SELECT (personalize.basket_stats(b.b)).basket_count FROM b)$q$,
        personalize.completed_orders_sql(), src.order_lines)
        INTO rows, orders USING as_of, min_count, per_item;
    quality := jsonb_build_object('orders', coalesce(orders, 0), 'rules', rows,
                                  'items', (SELECT count(*) FROM personalize.product_rules r WHERE r.antecedent = '{}'));
    PERFORM personalize.store_model('product_rules',
                                    jsonb_build_object('min_count', min_count, 'min_len', 1, 'rules_per_item', per_item),
                                    as_of, coalesce(orders, 0), quality);
    PERFORM personalize.refresh_record('product_rules', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_item_similarities(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    measure text := personalize.shop_setting('similarity_measure');
    neighbours integer := personalize.shop_setting('similarity_neighbours')::integer;
    customers bigint;
    changed bigint := personalize.refresh_changes('item_similarities', as_of);
BEGIN
    -- No purchase changed: the similarities (and their quality) are kept.
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'item_similarities') THEN
        UPDATE personalize.models m SET as_of = refresh_item_similarities.as_of WHERE m.name = 'item_similarities';
        SELECT count(*) INTO rows FROM personalize.item_similarities;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'item_similarities';
        PERFORM personalize.refresh_record('item_similarities', as_of, true);
        RETURN;
    END IF;
    DELETE FROM personalize.item_similarities;
    INSERT INTO personalize.item_similarities (item, neighbour, score, together)
    SELECT s.item, s.neighbour, s.score, s.together
    FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h),
        measure, neighbours) s;
    GET DIAGNOSTICS rows = ROW_COUNT;
    SELECT count(DISTINCT h.customer_id) INTO customers FROM personalize.purchase_history h;
    quality := jsonb_build_object('items', (SELECT count(*) FROM personalize.item_similarities s WHERE s.item = s.neighbour));
    IF holdout_from IS NOT NULL AND to_regclass('pg_temp.personalize_holdout_history') IS NULL
       AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'item_similarities' AND m.quality ? 'holdout') THEN
        -- An incremental purchase_history took no holdout history: the
        -- figures of the last rebuild stay, marked with their as_of.
        quality := quality || jsonb_build_object('holdout', (
            SELECT (m.quality -> 'holdout') || jsonb_build_object('as_of', coalesce(m.quality -> 'holdout' -> 'as_of',
                                                                                    to_jsonb(m.as_of)))
            FROM personalize.models m WHERE m.name = 'item_similarities'));
    ELSIF holdout_from IS NOT NULL THEN
        quality := quality || jsonb_build_object('holdout', personalize.evaluate_suggestions(as_of, holdout_from));
    END IF;
    PERFORM personalize.store_model('item_similarities', jsonb_build_object('measure', measure, 'neighbours', neighbours),
                                    as_of, customers, quality);
    PERFORM personalize.refresh_record('item_similarities', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_propensity(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    l2 float8 := personalize.shop_setting('propensity_l2')::float8;
    model jsonb;
    holdout jsonb;
    split timestamptz;
BEGIN
    IF src.sessions IS NULL THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        rows := 0;
        quality := jsonb_build_object('skipped', 'no sessions table is configured');
        RETURN;
    END IF;
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_sessions']);
    CREATE TEMP TABLE personalize_refresh_sessions (started_at timestamptz, converted boolean, features float8[])
        ON COMMIT DROP;
    -- Each session's prior completed orders from one sort of orders and
    -- sessions together (a session before an order at the same time).
    EXECUTE format($q$
        WITH ev AS (
            SELECT o.customer_id, o.ordered_at AS at, 1 AS is_order, NULL::timestamptz AS ended_at,
                   NULL::integer AS pages_viewed, NULL::integer AS items_in_cart, NULL::float8 AS cart_value,
                   NULL::boolean AS exit_intent, NULL::boolean AS converted
            FROM (%s) o
            UNION ALL
            SELECT s.customer_id::bigint, s.started_at, 0, s.ended_at, s.pages_viewed::integer, s.items_in_cart::integer,
                   s.cart_value::float8, s.exit_intent, s.converted
            FROM %s s WHERE s.started_at <= $1 AND s.converted IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM personalize.forgotten_customers f
                                        WHERE f.customer_id = s.customer_id::bigint)),
        h AS (
            SELECT ev.*, sum(ev.is_order) OVER w AS prior_orders,
                   max(CASE WHEN ev.is_order = 1 THEN ev.at END) OVER w AS last_order_at
            FROM ev
            WINDOW w AS (PARTITION BY ev.customer_id ORDER BY ev.at, ev.is_order ROWS UNBOUNDED PRECEDING))
        INSERT INTO pg_temp.personalize_refresh_sessions
        SELECT h.at, h.converted,
               personalize.session_features(
                   h.pages_viewed, h.items_in_cart, h.cart_value, extract(epoch FROM h.ended_at - h.at)::float8,
                   h.exit_intent, h.customer_id IS NOT NULL,
                   CASE WHEN h.customer_id IS NULL THEN 0 ELSE h.prior_orders END::integer,
                   CASE WHEN h.customer_id IS NOT NULL THEN extract(epoch FROM h.at - h.last_order_at)::float8 / 86400 END)
        FROM h WHERE h.is_order = 0$q$, personalize.completed_orders_sql(), src.sessions)
        USING as_of;
    GET DIAGNOSTICS rows = ROW_COUNT;
    IF (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s) < 2 THEN
        DELETE FROM personalize.models WHERE name = 'propensity';
        quality := jsonb_build_object('skipped', 'the sessions need both converted and not converted ones');
        RETURN;
    END IF;
    -- Sessions are usually kept for a short time: the holdout is the latest
    -- fifth of them rather than holdout_days.
    SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY s.started_at) INTO split
    FROM pg_temp.personalize_refresh_sessions s;
    IF holdout_from IS NOT NULL
       AND (SELECT count(DISTINCT s.converted) FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split) = 2
    THEN
        WITH m AS (SELECT personalize.logistic_fit(s.converted, s.features, l2) AS model
                   FROM pg_temp.personalize_refresh_sessions s WHERE s.started_at < split)
        SELECT jsonb_build_object('from', split, 'sessions', count(*),
                                  'converted', count(*) FILTER (WHERE s.converted),
                                  'auc', personalize.auc(personalize.logistic_score(m.model, s.features), s.converted))
        INTO holdout
        FROM pg_temp.personalize_refresh_sessions s, m WHERE s.started_at >= split;
    END IF;
    SELECT personalize.logistic_fit(s.converted, s.features, l2, personalize.session_feature_names()) INTO model
    FROM pg_temp.personalize_refresh_sessions s;
    quality := jsonb_build_object('converged', model -> 'converged', 'holdout', holdout);
    PERFORM personalize.store_model('propensity', model, as_of, rows, quality);
END
$fn$;

CREATE OR REPLACE FUNCTION refresh_run(models text[], "full" boolean, OUT stages jsonb, OUT error jsonb, OUT as_of timestamptz)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'  -- restores the caller's time zone on exit
AS $fn$
DECLARE
    analyzed text;
    wanted text[];
    unknown text;
    st text;
    t0 timestamptz;
    n bigint;
    q jsonb;
    holdout_days integer;
    holdout_from timestamptz;
    holder integer;
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
    memory_limit text := current_setting('personalize.memory_limit', true);
    tables personalize.shop_tables;
BEGIN
    stages := '[]';
    BEGIN
        tables := personalize.configured_shop('refresh', true);
        IF cardinality(models) = 0 OR array_position(models, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" must be NULL (all) or a non-empty list of model names'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT string_agg(quote_literal(m), ', ') INTO unknown FROM unnest(models) m
        WHERE m NOT IN (SELECT o.model FROM personalize.refresh_stage_order() o);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" has unknown models %', unknown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The models: customer_profiles, purchase_history, product_rules, item_similarities, popular_items, propensity.';
        END IF;
        wanted := coalesce(models, ARRAY(SELECT DISTINCT o.model FROM personalize.refresh_stage_order() o));
        IF wanted && ARRAY['item_similarities', 'popular_items'] THEN
            wanted := wanted || 'purchase_history'::text;
        END IF;
        IF NOT pg_try_advisory_xact_lock(personalize.refresh_lock_key()) THEN
            SELECT l.pid INTO holder FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::bigint << 32) | l.objid::bigint) = personalize.refresh_lock_key()
            LIMIT 1;
            RAISE EXCEPTION 'refresh: another refresh is running (backend %)', coalesce(holder::text, 'unknown')
                USING ERRCODE = 'lock_not_available',
                      HINT = 'Wait for it to end; its models are swapped in when it commits.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = personalize.shop_setting('segment_map')) THEN
            RAISE EXCEPTION 'refresh: setting "segment_map" % is not a map in personalize.segment_rules',
                quote_literal(personalize.shop_setting('segment_map')) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- The offer contexts follow recreated tables too (when configure_shop set them).
        IF EXISTS (SELECT 1 FROM personalize.offer_context_source o
                   WHERE o.features = 'personalize.customer_profile_features'::regclass
                     AND ((o.orders, o.customers) IS DISTINCT FROM (tables.orders, tables.customers)
                          OR o.currency <> personalize.shop_setting('currency'))) THEN
            PERFORM personalize.configure_offer_context(tables.orders, tables.customers,
                                                        'personalize.customer_profile_features',
                                                        personalize.shop_setting('currency'));
        END IF;
        PERFORM set_config('TimeZone', personalize.shop_setting('time_zone'), true);
        PERFORM set_config('personalize.memory_limit', personalize.shop_setting('memory_limit'), true);
        as_of := personalize.refresh_as_of();
        -- The incremental stages read the mode (refresh_changes) and take
        -- the orders' fingerprints anew in each refresh.
        PERFORM set_config('pg_personalize.refresh_full', "full"::text, true);
        PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_fingerprints', 'personalize_holdout_history']);
        holdout_days := personalize.shop_setting('holdout_days')::integer;
        holdout_from := CASE WHEN holdout_days > 0 THEN as_of - holdout_days * interval '1 day' END;
        FOR st IN SELECT o.stage FROM personalize.refresh_stage_order() o WHERE o.model = ANY (wanted) ORDER BY o.step
        LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT * FROM personalize.%I($1, $2)', 'refresh_' || st) INTO n, q USING as_of, holdout_from;
            stages := stages || jsonb_build_array(jsonb_build_object(
                'stage', st, 'rows', n, 'seconds', extract(epoch FROM clock_timestamp() - t0), 'quality', q));
        END LOOP;
        -- Statistics of the rewritten tables, committed with them: until
        -- autovacuum came by, the serving calls planned on the previous
        -- contents (a seq scan of product_rules per cart_suggestions call,
        -- 15-30 ms instead of about 1 ms on the demo shop).
        st := 'analyze';
        FOR analyzed IN SELECT DISTINCT a.tbl FROM (VALUES
                ('customer_profiles', 'customer_profiles'), ('customer_profiles', 'segment_history'),
                ('purchase_history', 'purchase_history'), ('purchase_history', 'shop_items'),
                ('product_rules', 'product_rules'), ('item_similarities', 'item_similarities'),
                ('popular_items', 'popular_items')) AS a(model, tbl)
            WHERE a.model = ANY (wanted)
        LOOP
            EXECUTE format('ANALYZE personalize.%I', analyzed);
        END LOOP;
        st := NULL;
        IF memory_limit IS NOT NULL THEN
            PERFORM set_config('personalize.memory_limit', memory_limit, true);
        END IF;
    EXCEPTION WHEN query_canceled OR others THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
                                e_hint = PG_EXCEPTION_HINT;
        error := jsonb_strip_nulls(jsonb_build_object('stage', st, 'sqlstate', e_state, 'message', e_message,
                                                      'detail', nullif(e_detail, ''), 'hint', nullif(e_hint, '')));
    END;
END
$fn$;

-- Erases a customer everywhere the extension keeps them (an erasure
-- request, docs/pipeline.md): their rows of customer_profiles,
-- purchase_history, segment_history, offer_log, offer_customer_lock and
-- refresh_fingerprints, and records the id in forgotten_customers so every
-- later refresh leaves their orders, sessions and customers row out. The
-- fitted models hold no per-customer rows (aggregate parameters only); the
-- next refresh rebuilds every stage, refitting them without the customer.
-- Returns the rows erased per table (forgotten_customers: 1 when newly
-- recorded). An unknown id is recorded
-- all the same (a customer not refreshed yet stays out). Waits for a
-- running refresh (its lock), so none writes the customer back after.
CREATE FUNCTION forget_customer(customer_id bigint)
    RETURNS TABLE (erased_from text, rows bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    n bigint;
BEGIN
    IF customer_id IS NULL THEN
        RAISE EXCEPTION 'forget_customer: "customer_id" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM pg_advisory_xact_lock(personalize.refresh_lock_key());
    INSERT INTO personalize.forgotten_customers AS f (customer_id) VALUES (customer_id) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'forgotten_customers'; rows := n; RETURN NEXT;
    DELETE FROM personalize.customer_profiles t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'customer_profiles'; rows := n; RETURN NEXT;
    DELETE FROM personalize.purchase_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'purchase_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.segment_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'segment_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_log t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_log'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_customer_lock t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_customer_lock'; rows := n; RETURN NEXT;
    DELETE FROM personalize.refresh_fingerprints t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'refresh_fingerprints'; rows := n; RETURN NEXT;
    -- The kept rules and similarities counted their orders: the next
    -- refresh rebuilds every stage.
    DELETE FROM personalize.refresh_state;
END
$fn$;
REVOKE EXECUTE ON FUNCTION forget_customer(bigint) FROM PUBLIC;
COMMENT ON FUNCTION forget_customer(bigint) IS
    'erases a customer from every table of the extension and keeps later refreshes from using them; rows erased per table';
-- The serving wrappers customer_profile and product_complements are not
-- STRICT, so the planner inlines them (a STRICT set-returning SQL function
-- is not inlined; see src/sql/97_pipeline.sql). NULL arguments still give
-- no rows.
ALTER FUNCTION customer_profile(bigint) CALLED ON NULL INPUT;
ALTER FUNCTION product_complements(bigint, integer) CALLED ON NULL INPUT;
-- Upgrade part: the behaviour signals (issue 16), created as in src/sql/98_signals.sql.

-- The events table by schema-qualified name (as shop_source keeps the shop's
-- tables): every call resolves it again, so a table dropped and created anew
-- is followed.
CREATE TABLE signal_source (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    events        text NOT NULL,
    configured_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE signal_source IS 'the shop''s events table the behaviour signals read (configure_signals())';
SELECT pg_catalog.pg_extension_config_dump('personalize.signal_source', '');

-- Internal: checks an events table: session_id (an integer type or text),
-- customer_id and product_id (integer types, NULL allowed in the rows),
-- event_at timestamptz, event_type text.
CREATE FUNCTION check_signal_events(fn text, events regclass)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text;
BEGIN
    PERFORM personalize.check_shop_table(fn, 'events', events,
        ARRAY['customer_id id', 'event_at timestamptz', 'event_type text', 'product_id id']);
    SELECT personalize.shop_column_kind(a.atttypid) INTO kind FROM pg_attribute a
    WHERE a.attrelid = events AND a.attname = 'session_id' AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: "events" (%) has no column "session_id"', fn, events
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = '"events" needs the columns session_id, customer_id, event_at, event_type, product_id.',
                  HINT = 'A view can rename and cast the shop''s own columns.';
    ELSIF kind NOT IN ('id', 'text') THEN
        RAISE EXCEPTION '%: "events" (%) column "session_id" must be an integer type or text, not %', fn, events,
            (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
             WHERE a.attrelid = events AND a.attname = 'session_id')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
COMMENT ON FUNCTION check_signal_events(text, regclass) IS 'internal: the column checks of the events table';

-- Configures the events table the signals read (checked); replaces an
-- earlier configuration. Returns the table's qualified name.
CREATE FUNCTION configure_signals(events regclass)
    RETURNS text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
BEGIN
    PERFORM personalize.check_signal_events('configure_signals', events);
    SELECT format('%I.%I', n.nspname, c.relname) INTO name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = events;
    INSERT INTO personalize.signal_source AS s (events) VALUES (name)
    ON CONFLICT (singleton) DO UPDATE SET events = EXCLUDED.events, configured_at = now();
    RETURN name;
END
$fn$;
COMMENT ON FUNCTION configure_signals(regclass) IS
    'configures the events table (session_id, customer_id, event_at, event_type, product_id) of the behaviour signals';
REVOKE EXECUTE ON FUNCTION configure_signals(regclass) FROM PUBLIC;

-- Internal: the configured events table, resolved and checked, else an error.
CREATE FUNCTION configured_events(fn text)
    RETURNS regclass
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
    rel regclass;
BEGIN
    SELECT s.events INTO name FROM personalize.signal_source s;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no events table is configured', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_signals(events => ...) first.';
    END IF;
    rel := to_regclass(name);
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: the configured table "events" (%) no longer exists', fn, name
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- The fast path, one catalog query: every column there with a plain
    -- type. Otherwise (a missing column, a wrong type, a domain) the full
    -- check raises the error, or passes a domain over the right type.
    IF (SELECT count(*) FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
          AND ((a.attname IN ('customer_id', 'product_id') AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))
               OR (a.attname = 'session_id' AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                                                'text'::regtype, 'varchar'::regtype, 'bpchar'::regtype))
               OR (a.attname = 'event_at' AND a.atttypid = 'timestamptz'::regtype)
               OR (a.attname = 'event_type' AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)))) < 5 THEN
        PERFORM personalize.check_signal_events(fn, rel);
    END IF;
    RETURN rel;
END
$fn$;
COMMENT ON FUNCTION configured_events(text) IS 'internal: the configured events table, resolved and checked';

-- Internal: the argument checks shared by the signal functions. A NULL is
-- 22004, a value out of range 22023, each naming the argument.
CREATE FUNCTION check_signal_args(fn text, n integer, as_of timestamptz, intervals text[], vals interval[])
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF n IS NULL THEN
        RAISE EXCEPTION '%: "n" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF n < 1 OR n > 1000 THEN
        RAISE EXCEPTION '%: "n" must be between 1 and 1000, got %', fn, n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of IS NULL THEN
        RAISE EXCEPTION '%: "as_of" must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT isfinite(as_of) THEN
        RAISE EXCEPTION '%: "as_of" must be a finite timestamp, got %', fn, as_of
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1 .. coalesce(array_length(intervals, 1), 0) LOOP
        IF vals[i] IS NULL THEN
            RAISE EXCEPTION '%: "%" must not be NULL', fn, intervals[i] USING ERRCODE = 'null_value_not_allowed';
        ELSIF vals[i] < interval '0' OR vals[i] > interval '36500 days'
              OR (vals[i] = interval '0' AND intervals[i] <> 'quiet') THEN
            RAISE EXCEPTION '%: "%" must be an interval %, got %', fn, intervals[i],
                CASE WHEN intervals[i] = 'quiet' THEN 'between 0 and 36500 days'
                     ELSE 'greater than 0 and at most 36500 days' END, vals[i]
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION check_signal_args(text, integer, timestamptz, text[], interval[]) IS
    'internal: the argument checks of the behaviour signal functions';

-- The products a customer or a session viewed (page_view events with a
-- product), latest first, one row per product, up to as_of. Either id may
-- be NULL (an anonymous session; a customer across sessions), not both;
-- given both, the views of either count (a session that signed in).
CREATE FUNCTION recently_viewed(customer_id bigint, session_id text, n integer DEFAULT 10,
                                as_of timestamptz DEFAULT now())
    RETURNS TABLE (product_id bigint, viewed_at timestamptz, views bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('recently_viewed');
    session_type text;
    session_is_integer boolean;
BEGIN
    IF recently_viewed.customer_id IS NULL AND recently_viewed.session_id IS NULL THEN
        RAISE EXCEPTION 'recently_viewed: "customer_id" and "session_id" must not both be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM personalize.check_signal_args('recently_viewed', n, as_of, '{}', '{}');
    SELECT format_type(a.atttypid, a.atttypmod), a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                                                 OR personalize.shop_column_kind(a.atttypid) = 'id'
    INTO session_type, session_is_integer FROM pg_attribute a
    WHERE a.attrelid = events AND a.attname = 'session_id';
    IF recently_viewed.session_id IS NOT NULL AND session_is_integer THEN
        -- Compared in the column's type, so an index on session_id serves.
        IF recently_viewed.session_id !~ '^\s*[+-]?[0-9]{1,18}\s*$' THEN
            RAISE EXCEPTION 'recently_viewed: "session_id" must be an integer (the events'' session_id is %), got ''%''',
                session_type, recently_viewed.session_id USING ERRCODE = 'invalid_text_representation';
        END IF;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT e.product_id::bigint, max(e.event_at), count(*)::bigint
        FROM %s e
        WHERE e.event_type = 'page_view' AND e.product_id IS NOT NULL AND e.event_at <= $4
          AND (e.customer_id = $1 OR e.session_id = $2::%s)
        GROUP BY e.product_id
        ORDER BY 2 DESC, 1
        LIMIT $3$q$, events, session_type)
        USING recently_viewed.customer_id, recently_viewed.session_id, n, as_of;
END
$fn$;
COMMENT ON FUNCTION recently_viewed(bigint, text, integer, timestamptz) IS
    'products a customer or session viewed, latest first (configured events table)';

-- Time-decayed popularity of the products viewed and carted in
-- (as_of - time_window, as_of]: each event counts weight * 2^(-age / half_life),
-- weight 1 for a page_view and 3 for an add_to_cart, age = as_of - event_at.
-- half_life NULL is a quarter of the window (an event at the window's start
-- counts 1/16 of one now).
CREATE FUNCTION trending_items(time_window interval, n integer DEFAULT 10, half_life interval DEFAULT NULL,
                               as_of timestamptz DEFAULT now())
    RETURNS TABLE (product_id bigint, score float8, views bigint, carts bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('trending_items');
    hl interval := coalesce(half_life, time_window / 4);
BEGIN
    PERFORM personalize.check_signal_args('trending_items', n, as_of, ARRAY['time_window', 'half_life'],
                                          ARRAY[time_window, hl]);
    RETURN QUERY EXECUTE format($q$
        SELECT e.product_id::bigint,
               sum(CASE e.event_type WHEN 'add_to_cart' THEN 3.0 ELSE 1.0 END
                   * power(0.5::float8, extract(epoch FROM $1 - e.event_at)::float8 / $4))::float8,
               count(*) FILTER (WHERE e.event_type = 'page_view'),
               count(*) FILTER (WHERE e.event_type = 'add_to_cart')
        FROM %s e
        WHERE e.event_type IN ('page_view', 'add_to_cart') AND e.product_id IS NOT NULL
          AND e.event_at > $1 - $2 AND e.event_at <= $1
        GROUP BY e.product_id
        ORDER BY 2 DESC, 1
        LIMIT $3$q$, events)
        USING as_of, time_window, n, extract(epoch FROM hl)::float8;
END
$fn$;
COMMENT ON FUNCTION trending_items(interval, integer, interval, timestamptz) IS
    'products by time-decayed views (1) and adds to cart (3) in a window, half-life a quarter of the window by default';

-- Internal: the SQL of a customer's orders and checkouts as (customer_id,
-- at): the configured shop's orders (any status: a placed order ends the
-- abandonment) when a shop is configured, and the events' checkout / order
-- events.
CREATE FUNCTION signal_orders_sql(fn text, events regclass)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q text := format($q$SELECT x.customer_id::bigint AS customer_id, x.event_at AS at FROM %s x
                        WHERE x.event_type IN ('checkout', 'order') AND x.customer_id IS NOT NULL$q$, events);
BEGIN
    IF EXISTS (SELECT 1 FROM personalize.shop_source) THEN
        q := q || format(' UNION ALL SELECT o.customer_id::bigint, o.ordered_at FROM %s o',
                         (personalize.configured_shop(fn)).orders);
    END IF;
    RETURN q;
END
$fn$;
COMMENT ON FUNCTION signal_orders_sql(text, regclass) IS 'internal: the orders and checkouts the abandonment cohorts look for';

-- Browse abandonment: signed-in customers who viewed products in
-- (as_of - time_window, as_of], the latest view at least `quiet` ago, and
-- who neither added to cart, checked out nor ordered in that window.
-- products: the viewed products, latest first (the e-mail's content).
CREATE FUNCTION browse_abandonment(time_window interval DEFAULT '7 days', quiet interval DEFAULT '1 hour',
                                   as_of timestamptz DEFAULT now())
    RETURNS TABLE (customer_id bigint, last_viewed_at timestamptz, views bigint, products bigint[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('browse_abandonment');
BEGIN
    PERFORM personalize.check_signal_args('browse_abandonment', 1, as_of, ARRAY['time_window', 'quiet'],
                                          ARRAY[time_window, quiet]);
    RETURN QUERY EXECUTE format($q$
        WITH w AS (
            SELECT e.customer_id::bigint AS customer_id, e.product_id::bigint AS product_id, e.event_at, e.event_type
            FROM %s e
            WHERE e.customer_id IS NOT NULL AND e.event_at > $1 - $2 AND e.event_at <= $1
        ), p AS (
            SELECT w.customer_id, w.product_id, max(w.event_at) AS at, count(*) AS views
            FROM w WHERE w.event_type = 'page_view' AND w.product_id IS NOT NULL
            GROUP BY 1, 2
        ), o AS (%s)
        SELECT p.customer_id, max(p.at), sum(p.views)::bigint, array_agg(p.product_id ORDER BY p.at DESC, p.product_id)
        FROM p
        WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.customer_id = p.customer_id AND w.event_type = 'add_to_cart')
          AND NOT EXISTS (SELECT 1 FROM o WHERE o.customer_id = p.customer_id AND o.at > $1 - $2 AND o.at <= $1)
        GROUP BY p.customer_id
        HAVING max(p.at) <= $1 - $3
        ORDER BY 1$q$, events, personalize.signal_orders_sql('browse_abandonment', events))
        USING as_of, time_window, quiet;
END
$fn$;
COMMENT ON FUNCTION browse_abandonment(interval, interval, timestamptz) IS
    'customers who viewed products in a window and left without carting or ordering';

-- Cart abandonment: signed-in customers whose latest add_to_cart in
-- (as_of - time_window, as_of] is at least `quiet` ago and was followed by
-- no checkout and no order up to as_of. products: what they carted in the
-- window, latest first.
CREATE FUNCTION cart_abandonment(time_window interval DEFAULT '7 days', quiet interval DEFAULT '1 hour',
                                 as_of timestamptz DEFAULT now())
    RETURNS TABLE (customer_id bigint, last_carted_at timestamptz, items bigint, products bigint[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    events regclass := personalize.configured_events('cart_abandonment');
BEGIN
    PERFORM personalize.check_signal_args('cart_abandonment', 1, as_of, ARRAY['time_window', 'quiet'],
                                          ARRAY[time_window, quiet]);
    RETURN QUERY EXECUTE format($q$
        WITH p AS (
            SELECT e.customer_id::bigint AS customer_id, e.product_id::bigint AS product_id,
                   max(e.event_at) AS at, count(*) AS items
            FROM %s e
            WHERE e.customer_id IS NOT NULL AND e.event_type = 'add_to_cart' AND e.product_id IS NOT NULL
              AND e.event_at > $1 - $2 AND e.event_at <= $1
            GROUP BY 1, 2
        ), c AS (
            SELECT p.customer_id, max(p.at) AS at, sum(p.items)::bigint AS items,
                   array_agg(p.product_id ORDER BY p.at DESC, p.product_id) AS products
            FROM p GROUP BY p.customer_id
        ), o AS (%s)
        SELECT c.customer_id, c.at, c.items, c.products
        FROM c
        WHERE c.at <= $1 - $3
          AND NOT EXISTS (SELECT 1 FROM o WHERE o.customer_id = c.customer_id AND o.at >= c.at AND o.at <= $1)
        ORDER BY 1$q$, events, personalize.signal_orders_sql('cart_abandonment', events))
        USING as_of, time_window, quiet;
END
$fn$;
COMMENT ON FUNCTION cart_abandonment(interval, interval, timestamptz) IS
    'customers who added to cart in a window and did not check out or order since';
-- Upgrade part of issue 13 (Citus). Every aggregate gets the state type
-- personalize.aggregate_state instead of internal, so Citus combines it on
-- the workers: the aggregates and their support functions change signature,
-- so they are dropped and created as a fresh install defines them
-- (src/sql/*.sql; no stored value has an aggregate state type, so no data
-- moves). customer_summary gains a time_zone form; citus_setup() is new.

DROP AGGREGATE customer_summary(timestamptz, float8, timestamptz);
DROP AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval);
DROP AGGREGATE baskets(bigint, bigint);
DROP AGGREGATE baskets(bigint, bigint[]);
DROP AGGREGATE bgnbd_fit(float8, float8, float8);
DROP AGGREGATE bgnbd_fit(float8, float8, float8, float8);
DROP AGGREGATE bgnbd_fit(float8, float8, float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8, float8);
DROP AGGREGATE pareto_nbd_fit(float8, float8, float8, float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8, float8);
DROP AGGREGATE gamma_gamma_fit(float8, float8, float8, float8);
DROP AGGREGATE kmeans(float8[], integer);
DROP AGGREGATE kmeans(float8[], integer, bigint);
DROP AGGREGATE kmeans(float8[], integer, bigint, text);
DROP AGGREGATE kmeans(float8[], integer, bigint, text, integer, float8);
DROP AGGREGATE rfm_breakpoints(float8, float8, float8);
DROP AGGREGATE rfm_breakpoints(float8, float8, float8, integer);
DROP AGGREGATE als_fit(bigint, bigint, float8);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint);
DROP AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint, text);
DROP AGGREGATE logistic_fit(boolean, float8[]);
DROP AGGREGATE logistic_fit(boolean, float8[], float8);
DROP AGGREGATE logistic_fit(boolean, float8[], float8, text[]);
DROP AGGREGATE logistic_fit(boolean, float8[], float8, text[], integer, float8);
DROP AGGREGATE auc(float8, boolean);

DROP FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz);
DROP FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz, interval);
DROP FUNCTION customer_summary_combine(internal, internal);
DROP FUNCTION customer_summary_serialize(internal);
DROP FUNCTION customer_summary_deserialize(bytea, internal);
DROP FUNCTION customer_summary_final(internal);
DROP FUNCTION baskets_transfn(internal, bigint, bigint);
DROP FUNCTION baskets_transfn(internal, bigint, bigint[]);
DROP FUNCTION baskets_combine(internal, internal);
DROP FUNCTION baskets_serialize(internal);
DROP FUNCTION baskets_deserialize(bytea, internal);
DROP FUNCTION baskets_final(internal);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION bgnbd_fit_transfn(internal, float8, float8, float8, float8, float8);
DROP FUNCTION bgnbd_fit_combine(internal, internal);
DROP FUNCTION bgnbd_fit_serialize(internal);
DROP FUNCTION bgnbd_fit_deserialize(bytea, internal);
DROP FUNCTION bgnbd_fit_final(internal);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_transfn(internal, float8, float8, float8, float8, float8);
DROP FUNCTION pareto_nbd_fit_combine(internal, internal);
DROP FUNCTION pareto_nbd_fit_serialize(internal);
DROP FUNCTION pareto_nbd_fit_deserialize(bytea, internal);
DROP FUNCTION pareto_nbd_fit_final(internal);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8);
DROP FUNCTION gamma_gamma_fit_transfn(internal, float8, float8, float8, float8);
DROP FUNCTION gamma_gamma_fit_combine(internal, internal);
DROP FUNCTION gamma_gamma_fit_serialize(internal);
DROP FUNCTION gamma_gamma_fit_deserialize(bytea, internal);
DROP FUNCTION gamma_gamma_fit_final(internal);
DROP FUNCTION kmeans_transfn(internal, float8[], integer);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text);
DROP FUNCTION kmeans_transfn(internal, float8[], integer, bigint, text, integer, float8);
DROP FUNCTION kmeans_combine(internal, internal);
DROP FUNCTION kmeans_serialize(internal);
DROP FUNCTION kmeans_deserialize(bytea, internal);
DROP FUNCTION kmeans_final(internal);
DROP FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8);
DROP FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8, integer);
DROP FUNCTION rfm_breakpoints_combine(internal, internal);
DROP FUNCTION rfm_breakpoints_serialize(internal);
DROP FUNCTION rfm_breakpoints_deserialize(bytea, internal);
DROP FUNCTION rfm_breakpoints_final(internal);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint);
DROP FUNCTION als_fit_transfn(internal, bigint, bigint, float8, integer, integer, float8, float8, bigint, text);
DROP FUNCTION als_fit_combine(internal, internal);
DROP FUNCTION als_fit_serialize(internal);
DROP FUNCTION als_fit_deserialize(bytea, internal);
DROP FUNCTION als_fit_final(internal);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[]);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[]);
DROP FUNCTION logistic_fit_transfn(internal, boolean, float8[], float8, text[], integer, float8);
DROP FUNCTION logistic_fit_combine(internal, internal);
DROP FUNCTION logistic_fit_serialize(internal);
DROP FUNCTION logistic_fit_deserialize(bytea, internal);
DROP FUNCTION logistic_fit_final(internal);
DROP FUNCTION auc_transfn(internal, float8, boolean);
DROP FUNCTION auc_combine(internal, internal);
DROP FUNCTION auc_serialize(internal);
DROP FUNCTION auc_deserialize(bytea, internal);
DROP FUNCTION auc_final(internal);

CREATE TYPE aggregate_state;
CREATE FUNCTION aggregate_state_in(cstring) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_out(aggregate_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_recv(internal) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aggregate_state_send(aggregate_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_aggregate_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE aggregate_state (
    INPUT = aggregate_state_in, OUTPUT = aggregate_state_out,
    RECEIVE = aggregate_state_recv, SEND = aggregate_state_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON TYPE aggregate_state IS
    'partial state of a pg_personalize aggregate (what Citus workers send to the coordinator); text: hexadecimal bytes';

CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval, text)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_combine(aggregate_state, aggregate_state)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_final(aggregate_state)
    RETURNS customer_summary_result AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval, time_zone text) (
    SFUNC = customer_summary_transfn,
    STYPE = aggregate_state,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz) IS
    'per-customer orders, frequency, recency, age (days) and monetary value, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval) IS
    'per-customer orders, frequency, recency, age and monetary value in the given unit, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval, text) IS
    'customer_summary in the given unit with purchase days taken in the given time zone, whatever the session TimeZone';
CREATE FUNCTION rfm_breakpoints_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_transfn(aggregate_state, float8, float8, float8, integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8) (
    SFUNC = rfm_breakpoints_transfn, STYPE = aggregate_state, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8, bins integer) (
    SFUNC = rfm_breakpoints_transfn, STYPE = aggregate_state, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8) IS
    'RFM quintile breakpoints (jsonb) of the customers'' recency (time since last purchase), frequency and monetary value';
COMMENT ON AGGREGATE rfm_breakpoints(float8, float8, float8, integer) IS
    'RFM breakpoints (jsonb) for 2..10 bins of the customers'' recency (time since last purchase), frequency and monetary value';
CREATE FUNCTION baskets_transfn(aggregate_state, bigint, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_transfn(aggregate_state, bigint, bigint[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_array_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION baskets_final(aggregate_state) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE baskets(basket_id bigint, item_id bigint) (
    SFUNC = baskets_transfn, STYPE = aggregate_state,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE baskets(basket_id bigint, items bigint[]) (
    SFUNC = baskets_transfn, STYPE = aggregate_state,
    FINALFUNC = baskets_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = baskets_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE baskets(bigint, bigint) IS
    'groups order lines into baskets (duplicate lines count once; NULL ids are skipped)';
COMMENT ON AGGREGATE baskets(bigint, bigint[]) IS
    'collects one item array per basket (rows of one basket are united; NULL ids and elements are skipped)';
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_transfn(aggregate_state, float8, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_bgnbd_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_transfn(aggregate_state, float8, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pareto_nbd_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_pareto_nbd_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_transfn(aggregate_state, float8, float8, float8, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_gamma_gamma_state_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE bgnbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = bgnbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = bgnbd_fit_final, COMBINEFUNC = bgnbd_fit_combine, PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE pareto_nbd_fit(frequency float8, recency float8, age float8, weight float8, penalty float8) (
    SFUNC = pareto_nbd_fit_transfn, STYPE = aggregate_state, FINALFUNC = pareto_nbd_fit_final,
    COMBINEFUNC = pareto_nbd_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE gamma_gamma_fit(frequency float8, monetary float8, weight float8, penalty float8) (
    SFUNC = gamma_gamma_fit_transfn, STYPE = aggregate_state, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = gamma_gamma_fit_combine,
    PARALLEL = SAFE);
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint, text) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_transfn(aggregate_state, float8[], integer, bigint, text, integer, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION kmeans_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_kmeans_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE kmeans(features float8[], k integer) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE AGGREGATE kmeans(features float8[], k integer, seed bigint, scaling text, max_iterations integer,
                        tolerance float8) (
    SFUNC = kmeans_transfn, STYPE = aggregate_state, FINALFUNC = kmeans_final, COMBINEFUNC = kmeans_combine, PARALLEL = SAFE);
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer, integer, float8, float8, bigint) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_transfn(aggregate_state, bigint, bigint, float8, integer, integer, float8, float8, bigint, text) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION als_fit_final(aggregate_state) RETURNS als_model
    AS 'MODULE_PATHNAME', 'personalize_als_fit_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE als_fit(customer_id bigint, item_id bigint, strength float8, factors integer, iterations integer,
                         regularization float8, alpha float8, seed bigint, solver text) (
    SFUNC = als_fit_transfn, STYPE = aggregate_state, FINALFUNC = als_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = als_fit_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8) IS
    'implicit-feedback ALS model of (customer, item, strength) rows with the default options';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer) IS
    'implicit-feedback ALS model of (customer, item, strength) rows with the given number of factors';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint) IS
    'implicit-feedback ALS model: factors, iterations, regularization, alpha (confidence = 1 + alpha * strength), seed';
COMMENT ON AGGREGATE als_fit(bigint, bigint, float8, integer, integer, float8, float8, bigint, text) IS
    'implicit-feedback ALS model: factors, iterations, regularization, alpha, seed and solver (''cg'' or ''cholesky'')';
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8, text[]) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_transfn(aggregate_state, boolean, float8[], float8, text[], integer, float8) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logistic_fit_final(aggregate_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_logistic_fit_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE logistic_fit(label boolean, features float8[]) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[]) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
CREATE AGGREGATE logistic_fit(label boolean, features float8[], l2 float8, feature_names text[],
                              max_iterations integer, tolerance float8) (
    SFUNC = logistic_fit_transfn, STYPE = aggregate_state, FINALFUNC = logistic_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = logistic_fit_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE logistic_fit(boolean, float8[]) IS
    'logistic regression (jsonb model) of a label on a feature array, L2 penalty 1, Newton / IRLS';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8) IS
    'logistic regression (jsonb model) of a label on a feature array with the given L2 penalty (intercept not penalised)';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8, text[]) IS
    'logistic regression (jsonb model) with an L2 penalty and names for the features';
COMMENT ON AGGREGATE logistic_fit(boolean, float8[], float8, text[], integer, float8) IS
    'logistic regression (jsonb model) with an L2 penalty, feature names, an iteration limit and a step tolerance';
CREATE FUNCTION auc_transfn(aggregate_state, float8, boolean) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_auc_state_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_combine(aggregate_state, aggregate_state) RETURNS aggregate_state
    AS 'MODULE_PATHNAME', 'personalize_auc_state_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_final(aggregate_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_auc_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE auc(score float8, label boolean) (
    SFUNC = auc_transfn, STYPE = aggregate_state, FINALFUNC = auc_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = auc_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE auc(float8, boolean) IS
    'area under the ROC curve of scores against labels (ties count one half); NULL without both labels';

CREATE FUNCTION citus_setup(orders regclass DEFAULT NULL) RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
    t text;
    fn text;
    colocate text := 'default';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'citus_setup: the citus extension is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On one server pg_personalize needs no setup. On a Citus cluster run CREATE EXTENSION citus and add the workers first (docs/distributed.md).';
    END IF;
    IF orders IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = orders AND p.partmethod = 'h') THEN
            RAISE EXCEPTION 'citus_setup: "orders" (%) is not a hash-distributed table', orders
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Distribute the orders by customer first: SELECT create_distributed_table(''orders'', ''customer_id'').';
        END IF;
        colocate := orders::text;
    END IF;
    -- Read by every node (eligible_offers and the segment functions run on
    -- the workers when called per row of a distributed table).
    FOREACH t IN ARRAY ARRAY['offers', 'segment_rules_shipped', 'segment_rules_custom',
                             'segment_maps_customized', 'offer_context_source'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_reference_table(('personalize.' || t)::regclass);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'reference table: personalize.' || t;
    END LOOP;
    -- Per row of a distributed table these run on the workers and read the
    -- reference tables there, which Citus refuses inside a shard's query
    -- unless nested execution is allowed; reading a reference table's copy
    -- is right on any node. Set on every node.
    FOREACH fn IN ARRAY ARRAY['personalize.eligible_offers(jsonb, text)', 'personalize.explain_offer(text, jsonb, text)',
                              'personalize.segment(text, integer, integer, integer)'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn);
        PERFORM pg_catalog.run_command_on_workers(
            format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn));
        RETURN NEXT 'reads reference tables on the workers: ' || fn;
    END LOOP;
    -- Per customer, co-located with the orders: a customer's decisions,
    -- cap counts and segment snapshots live on the shard of its orders.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = 'personalize.offer_log'::regclass) THEN
        -- A distributed table's primary key must hold the distribution column.
        ALTER TABLE personalize.offer_log DROP CONSTRAINT offer_log_pkey;
        ALTER TABLE personalize.offer_log ADD CONSTRAINT offer_log_pkey PRIMARY KEY (customer_id, decision_id);
    END IF;
    FOREACH t IN ARRAY ARRAY['offer_log', 'offer_customer_lock', 'segment_history'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_distributed_table(('personalize.' || t)::regclass, 'customer_id',
                                                        colocate_with => colocate);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'distributed by customer_id: personalize.' || t;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION citus_setup(regclass) IS
    'on a Citus cluster: offers, segment rules and the offer context source become reference tables (read on the workers by eligible_offers, explain_offer, segment), offer_log, offer_customer_lock and segment_history are distributed by customer_id (co-located with orders)';

REVOKE EXECUTE ON FUNCTION citus_setup(regclass) FROM PUBLIC;
-- Upgrade part of issue 14, item 6 (the pipeline on a Citus cluster): on a
-- Citus coordinator refresh() reads each Citus-backed shop table once into a
-- temporary copy (citus_refresh_copies, src/sql/98_citus.sql) and its stages
-- read the copies (configured_shop('refresh')); citus_setup() also keeps
-- the refresh's temporary view of the suggestions check on the coordinator
-- (40_citus.sql's body plus that step). configured_shop and
-- refresh_run are replaced by their src/sql/97_pipeline.sql bodies (each
-- gains one call over 00_main.sql's and 20_pipeline.sql's); the Citus
-- helpers are new.

-- The pipeline on distributed shop tables (docs/distributed.md). refresh()'s
-- queries join the shop's tables with the extension's own local tables
-- (forgotten_customers, the stages' temporary tables, customer_profiles),
-- which Citus refuses ("direct joins between distributed and local tables
-- are not supported"). So on a Citus coordinator, each configured table that
-- is a Citus table (or a view reading one) is read once, at the start of the
-- refresh, into a temporary table of the columns the pipeline uses (one
-- distributed read Citus runs on every shard), and the stages read that
-- copy (configured_shop('refresh')). One server: nothing happens.

-- Internal: true when rel is a Citus table (distributed, reference or
-- Citus-managed local) or a view that reads one, at any depth.
CREATE FUNCTION citus_backed(rel regclass)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        WITH RECURSIVE r(oid) AS (
            SELECT rel::oid
            UNION
            SELECT d.refobjid FROM r
            JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.oid
            JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                       AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.oid)
        SELECT 1 FROM r JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = r.oid);
END
$fn$;
COMMENT ON FUNCTION citus_backed(regclass) IS 'internal: true for a Citus table or a view reading one';

-- Internal (refresh_run, before as_of is taken): the temporary copies of
-- the Citus-backed configured tables, the columns of configure_shop's
-- checks only, the orders only those of the completed statuses. Records
-- the copied tables in pg_personalize.refresh_copies (transaction-local,
-- rolled back with a failed refresh) for configured_shop('refresh').
CREATE FUNCTION citus_refresh_copies(t personalize.shop_tables)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    name text;
    rel regclass;
    cols text;
    copied text[] := '{}';
    wanted constant jsonb := '{"orders": ["order_id", "customer_id", "ordered_at", "status", "total"],
                               "order_lines": ["order_id", "product_id"],
                               "customers": ["customer_id", "signed_up_at"],
                               "products": ["product_id", "category", "rebuyable"],
                               "sessions": ["customer_id", "started_at", "ended_at", "pages_viewed", "items_in_cart",
                                            "cart_value", "exit_intent", "converted"]}';
BEGIN
    PERFORM set_config('pg_personalize.refresh_copies', '', true);
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_shop_orders', 'personalize_shop_order_lines',
        'personalize_shop_customers', 'personalize_shop_products', 'personalize_shop_sessions']);
    FOREACH name IN ARRAY ARRAY['orders', 'order_lines', 'customers', 'products', 'sessions'] LOOP
        rel := CASE name WHEN 'orders' THEN t.orders WHEN 'order_lines' THEN t.order_lines
                         WHEN 'customers' THEN t.customers WHEN 'products' THEN t.products ELSE t.sessions END;
        IF NOT personalize.citus_backed(rel) THEN
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname::text IN (SELECT jsonb_array_elements_text(wanted -> name));
        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT %s FROM %s x %s',
                       'personalize_shop_' || name, cols, rel,
                       CASE WHEN name = 'orders'
                            THEN format('WHERE x.status = ANY (%L::text[]) AND x.customer_id IS NOT NULL',
                                        personalize.shop_setting('completed_statuses'))
                            ELSE '' END);
        EXECUTE format('ANALYZE pg_temp.%I', 'personalize_shop_' || name);
        copied := copied || name;
    END LOOP;
    PERFORM set_config('pg_personalize.refresh_copies', array_to_string(copied, ','), true);
END
$fn$;
COMMENT ON FUNCTION citus_refresh_copies(personalize.shop_tables) IS
    'internal: on a Citus coordinator, reads the Citus-backed shop tables once into temporary tables for a refresh';

-- Internal (configured_shop('refresh')): the configured tables with the
-- refresh's temporary copies in place of the Citus-backed ones.
CREATE FUNCTION citus_refresh_tables(t personalize.shop_tables)
    RETURNS personalize.shop_tables
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    copied text[] := string_to_array(current_setting('pg_personalize.refresh_copies', true), ',');
BEGIN
    IF 'orders' = ANY (copied) THEN t.orders := coalesce(to_regclass('pg_temp.personalize_shop_orders'), t.orders); END IF;
    IF 'order_lines' = ANY (copied) THEN
        t.order_lines := coalesce(to_regclass('pg_temp.personalize_shop_order_lines'), t.order_lines);
    END IF;
    IF 'customers' = ANY (copied) THEN
        t.customers := coalesce(to_regclass('pg_temp.personalize_shop_customers'), t.customers);
    END IF;
    IF 'products' = ANY (copied) THEN
        t.products := coalesce(to_regclass('pg_temp.personalize_shop_products'), t.products);
    END IF;
    IF 'sessions' = ANY (copied) THEN
        t.sessions := coalesce(to_regclass('pg_temp.personalize_shop_sessions'), t.sessions);
    END IF;
    RETURN t;
END
$fn$;
COMMENT ON FUNCTION citus_refresh_tables(personalize.shop_tables) IS
    'internal: the configured tables with a refresh''s temporary copies of the Citus-backed ones';

CREATE OR REPLACE FUNCTION citus_setup(orders regclass DEFAULT NULL) RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $fn$
DECLARE
    t text;
    fn text;
    colocate text := 'default';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'citus_setup: the citus extension is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On one server pg_personalize needs no setup. On a Citus cluster run CREATE EXTENSION citus and add the workers first (docs/distributed.md).';
    END IF;
    IF orders IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = orders AND p.partmethod = 'h') THEN
            RAISE EXCEPTION 'citus_setup: "orders" (%) is not a hash-distributed table', orders
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Distribute the orders by customer first: SELECT create_distributed_table(''orders'', ''customer_id'').';
        END IF;
        colocate := orders::text;
    END IF;
    -- Read by every node (eligible_offers and the segment functions run on
    -- the workers when called per row of a distributed table).
    FOREACH t IN ARRAY ARRAY['offers', 'segment_rules_shipped', 'segment_rules_custom',
                             'segment_maps_customized', 'offer_context_source'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_reference_table(('personalize.' || t)::regclass);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'reference table: personalize.' || t;
    END LOOP;
    -- Per row of a distributed table these run on the workers and read the
    -- reference tables there, which Citus refuses inside a shard's query
    -- unless nested execution is allowed; reading a reference table's copy
    -- is right on any node. Set on every node.
    FOREACH fn IN ARRAY ARRAY['personalize.eligible_offers(jsonb, text)', 'personalize.explain_offer(text, jsonb, text)',
                              'personalize.segment(text, integer, integer, integer)'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn);
        PERFORM pg_catalog.run_command_on_workers(
            format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', fn));
        RETURN NEXT 'reads reference tables on the workers: ' || fn;
    END LOOP;
    -- The refresh's holdout check of the suggestions creates a temporary
    -- view, which Citus would try to propagate to the workers (and warn on
    -- every refresh that it cannot): nothing it creates is for the workers.
    ALTER FUNCTION personalize.evaluate_suggestions(timestamptz, timestamptz) SET citus.enable_ddl_propagation = off;
    RETURN NEXT 'creates its temporary objects on the coordinator only: personalize.evaluate_suggestions(timestamptz, timestamptz)';
    -- Per customer, co-located with the orders: a customer's decisions,
    -- cap counts and segment snapshots live on the shard of its orders.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = 'personalize.offer_log'::regclass) THEN
        -- A distributed table's primary key must hold the distribution column.
        ALTER TABLE personalize.offer_log DROP CONSTRAINT offer_log_pkey;
        ALTER TABLE personalize.offer_log ADD CONSTRAINT offer_log_pkey PRIMARY KEY (customer_id, decision_id);
    END IF;
    FOREACH t IN ARRAY ARRAY['offer_log', 'offer_customer_lock', 'segment_history'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                       WHERE p.logicalrelid = ('personalize.' || t)::regclass) THEN
            PERFORM pg_catalog.create_distributed_table(('personalize.' || t)::regclass, 'customer_id',
                                                        colocate_with => colocate);
            PERFORM pg_catalog.truncate_local_data_after_distributing_table(('personalize.' || t)::regclass);
        END IF;
        RETURN NEXT 'distributed by customer_id: personalize.' || t;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION citus_setup(regclass) IS
    'on a Citus cluster: offers, segment rules and the offer context source become reference tables (read on the workers by eligible_offers, explain_offer, segment), offer_log, offer_customer_lock and segment_history are distributed by customer_id (co-located with orders)';

CREATE OR REPLACE FUNCTION configured_shop(fn text, checked boolean DEFAULT false)
    RETURNS personalize.shop_tables
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_source;
    t personalize.shop_tables;
    missing text;
BEGIN
    SELECT * INTO src FROM personalize.shop_source;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no shop is configured', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call personalize.configure_shop(orders => ..., order_lines => ...) first.';
    END IF;
    t := ROW(to_regclass(src.orders), to_regclass(src.order_lines), to_regclass(src.customers),
             to_regclass(src.products), to_regclass(src.sessions));
    SELECT string_agg(format('"%s" (%s)', x.arg, x.name), ', ') INTO missing
    FROM (VALUES ('orders', src.orders, t.orders), ('order_lines', src.order_lines, t.order_lines),
                 ('customers', src.customers, t.customers), ('products', src.products, t.products),
                 ('sessions', src.sessions, t.sessions)) x(arg, name, rel)
    WHERE x.name IS NOT NULL AND x.rel IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: the configured table % no longer exists', fn, missing
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create it again, or call personalize.configure_shop() with the shop''s tables.';
    END IF;
    IF checked THEN
        PERFORM personalize.check_shop_tables(fn, t);
    ELSIF fn = 'refresh' AND current_setting('pg_personalize.refresh_copies', true) <> '' THEN
        t := personalize.citus_refresh_tables(t);  -- Citus: the refresh's copies (98_citus.sql)
    END IF;
    RETURN t;
END
$fn$;
COMMENT ON FUNCTION configured_shop(text, boolean) IS 'internal: the configured tables, resolved (and checked), else an error';

CREATE OR REPLACE FUNCTION refresh_run(models text[], "full" boolean, OUT stages jsonb, OUT error jsonb, OUT as_of timestamptz)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'  -- restores the caller's time zone on exit
AS $fn$
DECLARE
    analyzed text;
    wanted text[];
    unknown text;
    st text;
    t0 timestamptz;
    n bigint;
    q jsonb;
    holdout_days integer;
    holdout_from timestamptz;
    holder integer;
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
    memory_limit text := current_setting('personalize.memory_limit', true);
    tables personalize.shop_tables;
BEGIN
    stages := '[]';
    BEGIN
        tables := personalize.configured_shop('refresh', true);
        IF cardinality(models) = 0 OR array_position(models, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" must be NULL (all) or a non-empty list of model names'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT string_agg(quote_literal(m), ', ') INTO unknown FROM unnest(models) m
        WHERE m NOT IN (SELECT o.model FROM personalize.refresh_stage_order() o);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'refresh: "models" has unknown models %', unknown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The models: customer_profiles, purchase_history, product_rules, item_similarities, popular_items, propensity.';
        END IF;
        wanted := coalesce(models, ARRAY(SELECT DISTINCT o.model FROM personalize.refresh_stage_order() o));
        IF wanted && ARRAY['item_similarities', 'popular_items'] THEN
            wanted := wanted || 'purchase_history'::text;
        END IF;
        IF NOT pg_try_advisory_xact_lock(personalize.refresh_lock_key()) THEN
            SELECT l.pid INTO holder FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::bigint << 32) | l.objid::bigint) = personalize.refresh_lock_key()
            LIMIT 1;
            RAISE EXCEPTION 'refresh: another refresh is running (backend %)', coalesce(holder::text, 'unknown')
                USING ERRCODE = 'lock_not_available',
                      HINT = 'Wait for it to end; its models are swapped in when it commits.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules r WHERE r.map = personalize.shop_setting('segment_map')) THEN
            RAISE EXCEPTION 'refresh: setting "segment_map" % is not a map in personalize.segment_rules',
                quote_literal(personalize.shop_setting('segment_map')) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- The offer contexts follow recreated tables too (when configure_shop set them).
        IF EXISTS (SELECT 1 FROM personalize.offer_context_source o
                   WHERE o.features = 'personalize.customer_profile_features'::regclass
                     AND ((o.orders, o.customers) IS DISTINCT FROM (tables.orders, tables.customers)
                          OR o.currency <> personalize.shop_setting('currency'))) THEN
            PERFORM personalize.configure_offer_context(tables.orders, tables.customers,
                                                        'personalize.customer_profile_features',
                                                        personalize.shop_setting('currency'));
        END IF;
        PERFORM set_config('TimeZone', personalize.shop_setting('time_zone'), true);
        PERFORM set_config('personalize.memory_limit', personalize.shop_setting('memory_limit'), true);
        PERFORM personalize.citus_refresh_copies(tables);  -- Citus only (98_citus.sql)
        as_of := personalize.refresh_as_of();
        -- The incremental stages read the mode (refresh_changes) and take
        -- the orders' fingerprints anew in each refresh.
        PERFORM set_config('pg_personalize.refresh_full', "full"::text, true);
        PERFORM personalize.drop_temp_tables(ARRAY['personalize_refresh_fingerprints', 'personalize_holdout_history']);
        holdout_days := personalize.shop_setting('holdout_days')::integer;
        holdout_from := CASE WHEN holdout_days > 0 THEN as_of - holdout_days * interval '1 day' END;
        FOR st IN SELECT o.stage FROM personalize.refresh_stage_order() o WHERE o.model = ANY (wanted) ORDER BY o.step
        LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT * FROM personalize.%I($1, $2)', 'refresh_' || st) INTO n, q USING as_of, holdout_from;
            stages := stages || jsonb_build_array(jsonb_build_object(
                'stage', st, 'rows', n, 'seconds', extract(epoch FROM clock_timestamp() - t0), 'quality', q));
        END LOOP;
        -- Statistics of the rewritten tables, committed with them: until
        -- autovacuum came by, the serving calls planned on the previous
        -- contents (a seq scan of product_rules per cart_suggestions call,
        -- 15-30 ms instead of about 1 ms on the demo shop).
        st := 'analyze';
        FOR analyzed IN SELECT DISTINCT a.tbl FROM (VALUES
                ('customer_profiles', 'customer_profiles'), ('customer_profiles', 'segment_history'),
                ('purchase_history', 'purchase_history'), ('purchase_history', 'shop_items'),
                ('product_rules', 'product_rules'), ('item_similarities', 'item_similarities'),
                ('popular_items', 'popular_items')) AS a(model, tbl)
            WHERE a.model = ANY (wanted)
        LOOP
            EXECUTE format('ANALYZE personalize.%I', analyzed);
        END LOOP;
        st := NULL;
        IF memory_limit IS NOT NULL THEN
            PERFORM set_config('personalize.memory_limit', memory_limit, true);
        END IF;
    EXCEPTION WHEN query_canceled OR others THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
                                e_hint = PG_EXCEPTION_HINT;
        error := jsonb_strip_nulls(jsonb_build_object('stage', st, 'sqlstate', e_state, 'message', e_message,
                                                      'detail', nullif(e_detail, ''), 'hint', nullif(e_hint, '')));
    END;
END
$fn$;
COMMENT ON FUNCTION refresh_run(text[], boolean) IS 'internal: the stages of a refresh; a failure rolls them back and is returned';
-- The refresh's speed (issue 14, docs/BENCHMARKS.md): purchase_history keeps
-- each item's first purchase, so a full refresh writes the history once (the
-- holdout check of the suggestions reads it instead of a temporary copy),
-- and the stages below as they are in src/sql/97_pipeline.sql.
-- purchase_history is new in 0.2.0 and empty here: NOT NULL needs no default.
ALTER TABLE purchase_history ADD COLUMN first_bought_at timestamptz NOT NULL;
COMMENT ON COLUMN purchase_history.first_bought_at IS 'the earliest completed order with it (the suggestions'' holdout check)';

-- The basket collection (one basket per completed order) product_rules was
-- last built from: an incremental refresh merges the new orders' baskets
-- into it (merge_baskets) instead of collecting every order line again.
-- Not dumped: after a restore the rules are rebuilt once.
CREATE TABLE refresh_baskets (
    stage   text PRIMARY KEY,
    baskets baskets NOT NULL,
    as_of   timestamptz NOT NULL
);
COMMENT ON TABLE refresh_baskets IS 'internal: the basket collection of the last product_rules refresh (incremental refresh)';
COMMENT ON COLUMN refresh_baskets.stage IS 'the stage (product_rules)';
COMMENT ON COLUMN refresh_baskets.baskets IS 'its baskets: one per completed order up to as_of';
COMMENT ON COLUMN refresh_baskets.as_of IS 'the as_of they were collected for';

-- Internal: records what `stage` was built from: the fingerprints of the
-- changed customers (incremental) or of all (a rebuild), and the basis.
CREATE OR REPLACE FUNCTION refresh_record(stage text, as_of timestamptz, incremental boolean)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF incremental THEN
        EXECUTE format('DELETE FROM personalize.refresh_fingerprints f
                        WHERE f.stage = $1 AND f.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
        EXECUTE format('INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
                        SELECT $1, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p
                        WHERE p.customer_id IN (SELECT c.customer_id FROM pg_temp.%1$I c)',
                       'personalize_changed_' || stage) USING stage;
    ELSE
        -- Only the rows that differ are rewritten: after a full refresh of
        -- an unchanged shop that is none (rewriting all 172k rows of the
        -- bench shop took 2 s per stage).
        DELETE FROM personalize.refresh_fingerprints f
        WHERE f.stage = refresh_record.stage
          AND NOT EXISTS (SELECT 1 FROM pg_temp.personalize_refresh_fingerprints p
                          WHERE p.customer_id = f.customer_id AND p.orders = f.orders AND p.digest = f.digest);
        INSERT INTO personalize.refresh_fingerprints (stage, customer_id, orders, digest)
        SELECT stage, p.customer_id, p.orders, p.digest FROM pg_temp.personalize_refresh_fingerprints p
        WHERE NOT EXISTS (SELECT 1 FROM personalize.refresh_fingerprints f
                          WHERE f.stage = refresh_record.stage AND f.customer_id = p.customer_id);
    END IF;
    INSERT INTO personalize.refresh_state AS s (stage, basis, as_of)
    VALUES (stage, personalize.refresh_basis(), as_of)
    ON CONFLICT ON CONSTRAINT refresh_state_pkey DO UPDATE SET basis = excluded.basis, as_of = excluded.as_of;
END
$fn$;
COMMENT ON FUNCTION refresh_record(text, timestamptz, boolean) IS
    'internal: records the fingerprints and basis a stage was built from';

-- Internal: of the customers refresh_changes(stage) found changed, those
-- whose completed orders up to `previous` (the stage's last as_of) are the
-- ones it was built from (the same fingerprint; none then and none now for
-- a new customer): only their orders after `previous` are new, and an
-- additive output merges them instead of recomputing the customer. In
-- pg_temp.personalize_appended_<stage>; returns their number.
CREATE OR REPLACE FUNCTION refresh_appended(stage text, previous timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 3  -- the totals' text in the digest, as refresh_changes() takes it
AS $fn$
DECLARE
    appended text := 'personalize_appended_' || stage;
    n bigint;
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY[appended]);
    EXECUTE format($q$
        CREATE TEMP TABLE %1$I ON COMMIT DROP AS
        SELECT ch.customer_id
        FROM pg_temp.%2$I ch
        LEFT JOIN (SELECT * FROM personalize.refresh_fingerprints x WHERE x.stage = %3$L) f
            ON f.customer_id = ch.customer_id
        LEFT JOIN (SELECT o.customer_id, count(*) AS orders,
                          sum(hashtextextended(concat_ws('|', o.order_id, extract(epoch FROM o.ordered_at), o.total),
                                               0)::numeric) AS digest
                   FROM (%4$s) o
                   WHERE o.customer_id IN (SELECT c.customer_id FROM pg_temp.%2$I c)
                   GROUP BY o.customer_id) c
            ON c.customer_id = ch.customer_id
        WHERE (f.orders, f.digest) IS NOT DISTINCT FROM (c.orders, c.digest)$q$,
        appended, 'personalize_changed_' || stage, stage, personalize.completed_orders_sql())
        USING previous;
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ANALYZE pg_temp.%I', appended);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION refresh_appended(text, timestamptz) IS
    'internal: the changed customers of a stage whose only change is orders after its last as_of';

-- Internal: the number of customers with rows in purchase_history. During
-- a refresh they are among the customers of the fingerprints taken from the
-- orders, so one probe of the primary key each counts them, far cheaper
-- than count(DISTINCT) over every row (8.46M on the bench shop).
CREATE OR REPLACE FUNCTION history_customers()
    RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    IF to_regclass('pg_temp.personalize_refresh_fingerprints') IS NULL THEN
        SELECT count(*) INTO n FROM (SELECT DISTINCT h.customer_id FROM personalize.purchase_history h) d;
    ELSE
        SELECT count(*) INTO n FROM pg_temp.personalize_refresh_fingerprints f
        WHERE EXISTS (SELECT 1 FROM personalize.purchase_history h WHERE h.customer_id = f.customer_id);
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION history_customers() IS 'internal: the customers with a purchase history';

-- purchase_history and shop_items. Incremental: the rows of the customers
-- whose orders changed are replaced, from their orders only (the orders'
-- index on customer_id and the order lines' on order_id make it touch just
-- those rows). first_bought_at is what the holdout check of the suggestions
-- needs (bought before the split or not), so the history is written once.
CREATE OR REPLACE FUNCTION refresh_purchase_history(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    items bigint := 0;
    cols text;
    changed bigint := personalize.refresh_changes('purchase_history', as_of);
    previous timestamptz;
BEGIN
    IF changed IS NOT NULL THEN
        SELECT s.as_of INTO previous FROM personalize.refresh_state s WHERE s.stage = 'purchase_history';
        IF changed > 0 AND previous <= as_of THEN
            -- The customers whose only change is orders after the previous
            -- as_of: the new orders' lines are merged into their rows
            -- (counts add up, the latest and earliest purchase are the
            -- greatest and least), reading just the new orders.
            PERFORM personalize.refresh_appended('purchase_history', previous);
            EXECUTE format($q$
                INSERT INTO personalize.purchase_history AS h (customer_id, item_id, bought_at, lines, first_bought_at)
                SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL AND o.ordered_at > $2
                  AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_appended_purchase_history c)
                GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT ON CONSTRAINT purchase_history_pkey DO UPDATE
                SET bought_at = greatest(h.bought_at, excluded.bought_at), lines = h.lines + excluded.lines,
                    first_bought_at = least(h.first_bought_at, excluded.first_bought_at)$q$,
                personalize.completed_orders_sql(), src.order_lines)
                USING as_of, previous;
        ELSE
            PERFORM personalize.drop_temp_tables(ARRAY['personalize_appended_purchase_history']);
            CREATE TEMP TABLE personalize_appended_purchase_history (customer_id bigint) ON COMMIT DROP;
        END IF;
        -- The others: their rows replaced from all their orders.
        DELETE FROM personalize.purchase_history h
        WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c
                                EXCEPT SELECT a.customer_id FROM pg_temp.personalize_appended_purchase_history a);
        IF changed > 0 THEN
            EXECUTE format($q$
                INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines, first_bought_at)
                SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
                FROM (%s) o JOIN %s l ON l.order_id = o.order_id
                WHERE l.product_id IS NOT NULL
                  AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_changed_purchase_history c
                                        EXCEPT SELECT a.customer_id FROM pg_temp.personalize_appended_purchase_history a)
                GROUP BY 1, 2 ORDER BY 1, 2$q$,
                personalize.completed_orders_sql(), src.order_lines)
                USING as_of;
        END IF;
        SELECT count(*) INTO rows FROM personalize.purchase_history;
    ELSE
        DELETE FROM personalize.purchase_history;
        -- In key order: the primary key's index is then appended to, not
        -- written at random places (8.46M rows of the bench shop: 62 s
        -- against 174 s unordered, docs/BENCHMARKS.md).
        EXECUTE format($q$
            INSERT INTO personalize.purchase_history (customer_id, item_id, bought_at, lines, first_bought_at)
            SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at), count(*), min(o.ordered_at)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE l.product_id IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2$q$,
            personalize.completed_orders_sql(), src.order_lines)
            USING as_of;
        GET DIAGNOSTICS rows = ROW_COUNT;
    END IF;
    PERFORM personalize.refresh_record('purchase_history', as_of, changed IS NOT NULL);
    DELETE FROM personalize.shop_items;
    IF src.products IS NOT NULL THEN
        SELECT string_agg(CASE a.attname WHEN 'category' THEN 'p.category::text' ELSE 'coalesce(p.rebuyable, false)' END,
                          ', ' ORDER BY a.attname)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = src.products AND a.attname IN ('category', 'rebuyable')
                              AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO personalize.shop_items (item_id, category, rebuyable)
                        SELECT DISTINCT ON (p.product_id) p.product_id::bigint, %s, %s FROM %s p
                        WHERE p.product_id IS NOT NULL ORDER BY p.product_id',
                       CASE WHEN cols LIKE '%category%' THEN 'p.category::text' ELSE 'NULL::text' END,
                       CASE WHEN cols LIKE '%rebuyable%' THEN 'coalesce(p.rebuyable, false)' ELSE 'false' END,
                       src.products);
        GET DIAGNOSTICS items = ROW_COUNT;
    END IF;
    -- The customers with a history: a probe of the primary key per
    -- customer with orders, cheaper than count(DISTINCT) over every row.
    quality := jsonb_build_object('customers', personalize.history_customers(),
                                  'items', items, 'mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'incremental' END,
                                  'customers_recomputed',
                                  coalesce(changed, (SELECT count(*) FROM pg_temp.personalize_refresh_fingerprints)));
    IF changed IS NOT NULL THEN
        quality := quality || jsonb_build_object('customers_merged',
                                                 (SELECT count(*) FROM pg_temp.personalize_appended_purchase_history));
    END IF;
END
$fn$;
COMMENT ON FUNCTION refresh_purchase_history(timestamptz, timestamptz) IS 'refresh stage: purchase_history and shop_items';

-- Association rules of the completed orders (model product_rules).
CREATE OR REPLACE FUNCTION refresh_product_rules(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    min_count bigint := personalize.shop_setting('rules_min_count')::bigint;
    per_item integer := personalize.shop_setting('rules_per_item')::integer;
    orders bigint;
    changed bigint := personalize.refresh_changes('product_rules', as_of);
    previous timestamptz;
    collected personalize.baskets;
    added personalize.baskets;
    merged boolean := false;
BEGIN
    -- Rules count every basket: any changed order rebuilds them; no change
    -- keeps them (and their model row, now as of this refresh).
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'product_rules') THEN
        UPDATE personalize.models m SET as_of = refresh_product_rules.as_of WHERE m.name = 'product_rules';
        SELECT count(*) INTO rows FROM personalize.product_rules;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'product_rules';
        UPDATE personalize.refresh_baskets r SET as_of = refresh_product_rules.as_of WHERE r.stage = 'product_rules';
        PERFORM personalize.refresh_record('product_rules', as_of, true);
        RETURN;
    END IF;
    -- Only orders after the previous as_of are new (refresh_appended() of
    -- every changed customer) and the collection they were added to is
    -- stored: their baskets are merged into it; otherwise every order's.
    SELECT s.as_of INTO previous FROM personalize.refresh_state s WHERE s.stage = 'product_rules';
    SELECT r.baskets INTO collected FROM personalize.refresh_baskets r
    WHERE r.stage = 'product_rules' AND r.as_of = previous;
    IF changed > 0 AND previous <= as_of AND collected IS NOT NULL THEN
        merged := personalize.refresh_appended('product_rules', previous) = changed;
    END IF;
    IF merged THEN
        EXECUTE format($q$
            SELECT personalize.baskets(o.order_id, l.product_id::bigint)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id
            WHERE o.ordered_at > $2
              AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_appended_product_rules c)$q$,
            personalize.completed_orders_sql(), src.order_lines)
            INTO added USING as_of, previous;
        collected := coalesce(personalize.merge_baskets(collected, added), collected);
    ELSE
        EXECUTE format($q$
            SELECT personalize.baskets(o.order_id, l.product_id::bigint)
            FROM (%s) o JOIN %s l ON l.order_id = o.order_id$q$,
            personalize.completed_orders_sql(), src.order_lines)
            INTO collected USING as_of;
    END IF;
    DELETE FROM personalize.product_rules;
    WITH rules AS (
        SELECT r.*, row_number() OVER (PARTITION BY r.antecedent ORDER BY r.certainty DESC, r.consequent) AS strength
        FROM personalize.association_rules(collected, min_count => min_count, min_len => 1) r),
    ins AS (
        INSERT INTO personalize.product_rules
        SELECT r.antecedent, r.consequent, r.count, r.antecedent_support, r.consequent_support, r.support,
               r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski, r.zhangs_metric
        FROM rules r WHERE r.strength <= per_item OR r.antecedent = '{}'
        RETURNING 1)
    SELECT count(*) INTO rows FROM ins;
    orders := (personalize.basket_stats(collected)).basket_count;
    DELETE FROM personalize.refresh_baskets r WHERE r.stage = 'product_rules';
    IF collected IS NOT NULL THEN
        INSERT INTO personalize.refresh_baskets (stage, baskets, as_of) VALUES ('product_rules', collected, as_of);
    END IF;
    quality := jsonb_build_object('orders', coalesce(orders, 0), 'rules', rows,
                                  'items', (SELECT count(*) FROM personalize.product_rules r WHERE r.antecedent = '{}'));
    PERFORM personalize.store_model('product_rules',
                                    jsonb_build_object('min_count', min_count, 'min_len', 1, 'rules_per_item', per_item),
                                    as_of, coalesce(orders, 0), quality);
    PERFORM personalize.refresh_record('product_rules', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full'
                                                          WHEN merged THEN 'merged: new orders'
                                                          ELSE 'rebuilt: orders changed' END);
END
$fn$;
COMMENT ON FUNCTION refresh_product_rules(timestamptz, timestamptz) IS 'refresh stage: association rules';

-- Internal: nDCG@10 of the item-item suggestions against the best sellers
-- on the holdout: both built from the purchases up to holdout_from, scored
-- on the items a sample of customers bought after it (and not before).
-- Reads purchase_history (first_bought_at tells bought before the split or
-- not); the sampled customers' latest purchase of each item before the
-- split, which the suggestions weigh by recency, comes from their orders.
CREATE OR REPLACE FUNCTION evaluate_suggestions(as_of timestamptz, holdout_from timestamptz)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src personalize.shop_tables := personalize.configured_shop('refresh');
    model record;
    popular record;
    n_customers bigint;
BEGIN
    PERFORM personalize.drop_temp_tables(ARRAY['personalize_eval_relevant', 'personalize_eval_sims',
        'personalize_eval_no_sims', 'personalize_eval_popular', 'personalize_eval_model', 'personalize_eval_baseline',
        'personalize_eval_customers', 'personalize_eval_before']);
    -- The sample: customers with items bought before the split and items
    -- first bought after it.
    CREATE TEMP TABLE personalize_eval_customers ON COMMIT DROP AS
    SELECT h.customer_id
    FROM personalize.purchase_history h
    GROUP BY h.customer_id
    HAVING bool_or(h.first_bought_at <= holdout_from) AND bool_or(h.first_bought_at > holdout_from)
    ORDER BY hashint8(h.customer_id), h.customer_id
    LIMIT personalize.shop_setting('evaluation_customers')::bigint;
    CREATE TEMP TABLE personalize_eval_relevant ON COMMIT DROP AS
    SELECT h.customer_id, array_agg(h.item_id ORDER BY h.item_id) AS relevant
    FROM personalize.purchase_history h
    WHERE h.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_eval_customers c)
      AND h.first_bought_at > holdout_from
    GROUP BY h.customer_id
    ORDER BY hashint8(h.customer_id), h.customer_id;
    SELECT count(*) INTO n_customers FROM pg_temp.personalize_eval_relevant;
    IF n_customers = 0 THEN
        RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', 0);
    END IF;
    -- Their history before the split: the orders up to holdout_from ($1 of
    -- completed_orders_sql()).
    CREATE TEMP TABLE personalize_eval_before (customer_id bigint, item_id bigint, bought_at timestamptz)
        ON COMMIT DROP;
    EXECUTE format($q$
        INSERT INTO pg_temp.personalize_eval_before
        SELECT o.customer_id, l.product_id::bigint, max(o.ordered_at)
        FROM (%s) o JOIN %s l ON l.order_id = o.order_id
        WHERE l.product_id IS NOT NULL
          AND o.customer_id IN (SELECT c.customer_id FROM pg_temp.personalize_eval_customers c)
        GROUP BY 1, 2$q$,
        personalize.completed_orders_sql(), src.order_lines)
        USING holdout_from;
    ANALYZE pg_temp.personalize_eval_before;
    CREATE TEMP TABLE personalize_eval_sims ON COMMIT DROP AS
    SELECT * FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h
         WHERE h.first_bought_at <= holdout_from),
        personalize.shop_setting('similarity_measure'), personalize.shop_setting('similarity_neighbours')::integer);
    CREATE TEMP TABLE personalize_eval_no_sims ON COMMIT DROP AS SELECT * FROM pg_temp.personalize_eval_sims WHERE false;
    CREATE TEMP TABLE personalize_eval_popular ON COMMIT DROP AS
    SELECT NULL::text AS segment, h.item_id, count(*)::float8 AS score, count(*) AS buyers  -- score: the order only
    FROM personalize.purchase_history h WHERE h.first_bought_at <= holdout_from
    GROUP BY h.item_id ORDER BY count(*) DESC, h.item_id LIMIT 50;
    CREATE TEMP TABLE personalize_eval_model ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_before',
                                       'pg_temp.personalize_eval_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    CREATE TEMP TABLE personalize_eval_baseline ON COMMIT DROP AS
    SELECT b.customer_id, array_agg(b.item_id ORDER BY b.rank) AS recommended
    FROM personalize.batch_suggestions('pg_temp.personalize_eval_relevant', 'pg_temp.personalize_eval_before',
                                       'pg_temp.personalize_eval_no_sims', 10, items => 'personalize.shop_items',
                                       popular => 'pg_temp.personalize_eval_popular') b
    GROUP BY b.customer_id;
    SELECT * INTO model FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_model',
                                                                  'pg_temp.personalize_eval_relevant', 10);
    SELECT * INTO popular FROM personalize.evaluate_recommendations('pg_temp.personalize_eval_baseline',
                                                                    'pg_temp.personalize_eval_relevant', 10);
    RETURN jsonb_build_object('days', personalize.shop_setting('holdout_days')::integer, 'customers', model.customers,
                              'ndcg_at_10', model.ndcg_at_k, 'precision_at_10', model.precision_at_k,
                              'recall_at_10', model.recall_at_k, 'popular_ndcg_at_10', popular.ndcg_at_k,
                              'popular_precision_at_10', popular.precision_at_k);
END
$fn$;
COMMENT ON FUNCTION evaluate_suggestions(timestamptz, timestamptz) IS
    'internal: holdout nDCG@10 of item-item suggestions against the best sellers';

-- Item similarities over purchase_history (model item_similarities);
-- quality: evaluate_suggestions().
CREATE OR REPLACE FUNCTION refresh_item_similarities(as_of timestamptz, holdout_from timestamptz, OUT rows bigint,
                                          OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    measure text := personalize.shop_setting('similarity_measure');
    neighbours integer := personalize.shop_setting('similarity_neighbours')::integer;
    customers bigint;
    changed bigint := personalize.refresh_changes('item_similarities', as_of);
BEGIN
    -- No purchase changed: the similarities (and their quality) are kept.
    IF changed = 0 AND EXISTS (SELECT 1 FROM personalize.models m WHERE m.name = 'item_similarities') THEN
        UPDATE personalize.models m SET as_of = refresh_item_similarities.as_of WHERE m.name = 'item_similarities';
        SELECT count(*) INTO rows FROM personalize.item_similarities;
        SELECT m.quality || jsonb_build_object('mode', 'kept: no order changed') INTO quality
        FROM personalize.models m WHERE m.name = 'item_similarities';
        PERFORM personalize.refresh_record('item_similarities', as_of, true);
        RETURN;
    END IF;
    DELETE FROM personalize.item_similarities;
    INSERT INTO personalize.item_similarities (item, neighbour, score, together)
    SELECT s.item, s.neighbour, s.score, s.together
    FROM personalize.item_similarities(
        (SELECT personalize.baskets(h.customer_id, h.item_id) FROM personalize.purchase_history h),
        measure, neighbours) s;
    GET DIAGNOSTICS rows = ROW_COUNT;
    customers := personalize.history_customers();
    quality := jsonb_build_object('items', (SELECT count(*) FROM personalize.item_similarities s WHERE s.item = s.neighbour));
    IF holdout_from IS NOT NULL THEN
        quality := quality || jsonb_build_object('holdout', personalize.evaluate_suggestions(as_of, holdout_from));
    END IF;
    PERFORM personalize.store_model('item_similarities', jsonb_build_object('measure', measure, 'neighbours', neighbours),
                                    as_of, customers, quality);
    PERFORM personalize.refresh_record('item_similarities', as_of, changed IS NOT NULL);
    quality := quality || jsonb_build_object('mode', CASE WHEN changed IS NULL THEN 'full' ELSE 'rebuilt: orders changed' END);
END
$fn$;
COMMENT ON FUNCTION refresh_item_similarities(timestamptz, timestamptz) IS 'refresh stage: item similarities and their holdout check';

-- Best sellers per segment of customer_profiles and overall: the rows
-- popular_items('personalize.purchase_history', 'personalize.customer_profiles', k)
-- gives, counted without its DISTINCT passes (purchase_history already has
-- one row per customer and item).
CREATE OR REPLACE FUNCTION refresh_popular_items(as_of timestamptz, holdout_from timestamptz, OUT rows bigint, OUT quality jsonb)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k integer := personalize.shop_setting('popular_k')::integer;
BEGIN
    DELETE FROM personalize.popular_items;
    -- One pass over purchase_history joined to the profiles counts both the
    -- overall and the per-segment buyers (grouping sets).
    WITH counts AS (
        SELECT CASE WHEN grouping(p.segment) = 0 THEN p.segment END AS segment, grouping(p.segment) = 1 AS overall,
               h.item_id, count(*) AS buyers
        FROM personalize.purchase_history h LEFT JOIN personalize.customer_profiles p USING (customer_id)
        GROUP BY GROUPING SETS ((h.item_id), (p.segment, h.item_id))),
    sizes AS (
        SELECT NULL::text AS segment, personalize.history_customers() AS n
        UNION ALL
        SELECT p.segment, count(*) FROM personalize.customer_profiles p
        WHERE p.segment IS NOT NULL
          AND EXISTS (SELECT 1 FROM personalize.purchase_history h WHERE h.customer_id = p.customer_id)
        GROUP BY p.segment),
    ranked AS (
        SELECT c.segment, c.item_id, c.buyers::float8 / z.n AS score, c.buyers,
               row_number() OVER (PARTITION BY c.segment ORDER BY c.buyers DESC, c.item_id) AS r
        FROM counts c JOIN sizes z ON z.segment IS NOT DISTINCT FROM c.segment
        WHERE c.overall OR c.segment IS NOT NULL)
    INSERT INTO personalize.popular_items (segment, item_id, score, buyers)
    SELECT r.segment, r.item_id, r.score, r.buyers FROM ranked r WHERE r.r <= k;
    GET DIAGNOSTICS rows = ROW_COUNT;
    quality := jsonb_build_object('segments', (SELECT count(DISTINCT p.segment) FROM personalize.popular_items p));
    PERFORM personalize.store_model('popular_items', jsonb_build_object('k', k), as_of,
                                    personalize.history_customers(), quality);
END
$fn$;
COMMENT ON FUNCTION refresh_popular_items(timestamptz, timestamptz) IS 'refresh stage: best sellers';

-- Erases a customer everywhere the extension keeps them (an erasure
-- request, docs/pipeline.md): their rows of customer_profiles,
-- purchase_history, segment_history, offer_log, offer_customer_lock and
-- refresh_fingerprints, and records the id in forgotten_customers so every
-- later refresh leaves their orders, sessions and customers row out. The
-- fitted models hold no per-customer rows (aggregate parameters only); the
-- next refresh rebuilds every stage, refitting them without the customer.
-- Returns the rows erased per table (forgotten_customers: 1 when newly
-- recorded). An unknown id is recorded
-- all the same (a customer not refreshed yet stays out). Waits for a
-- running refresh (its lock), so none writes the customer back after.
CREATE OR REPLACE FUNCTION forget_customer(customer_id bigint)
    RETURNS TABLE (erased_from text, rows bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_variable
DECLARE
    n bigint;
BEGIN
    IF customer_id IS NULL THEN
        RAISE EXCEPTION 'forget_customer: "customer_id" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM pg_advisory_xact_lock(personalize.refresh_lock_key());
    INSERT INTO personalize.forgotten_customers AS f (customer_id) VALUES (customer_id) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'forgotten_customers'; rows := n; RETURN NEXT;
    DELETE FROM personalize.customer_profiles t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'customer_profiles'; rows := n; RETURN NEXT;
    DELETE FROM personalize.purchase_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'purchase_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.segment_history t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'segment_history'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_log t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_log'; rows := n; RETURN NEXT;
    DELETE FROM personalize.offer_customer_lock t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'offer_customer_lock'; rows := n; RETURN NEXT;
    DELETE FROM personalize.refresh_fingerprints t WHERE t.customer_id = customer_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    erased_from := 'refresh_fingerprints'; rows := n; RETURN NEXT;
    -- The kept rules and similarities counted their orders: the next
    -- refresh rebuilds every stage; the stored baskets held their orders.
    DELETE FROM personalize.refresh_state;
    DELETE FROM personalize.refresh_baskets;
END
$fn$;
REVOKE EXECUTE ON FUNCTION forget_customer(bigint) FROM PUBLIC;
COMMENT ON FUNCTION forget_customer(bigint) IS
    'erases a customer from every table of the extension and keeps later refreshes from using them; rows erased per table';
-- ease_similarities' lambda defaults to 3000 (60_suggest.sql): on every
-- dataset of the offline evaluation the validation split picked the largest
-- lambda tried (FIMI 2000, bench 3000, Complete Journey 5000;
-- docs/suggestions.md, section 6), 500 was below all of them. A changed
-- default is a CREATE OR REPLACE with the same signature.
CREATE OR REPLACE FUNCTION ease_similarities(
    baskets baskets,
    lambda float8 DEFAULT 3000,
    neighbours integer DEFAULT 50,
    min_count bigint DEFAULT 2,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (item bigint, neighbour bigint, score float8, together bigint)
    AS 'MODULE_PATHNAME', 'personalize_ease_similarities'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100000;
-- Privileges of what 0.2.0 added after grant_roles() was first defined
-- (00_main.sql): the admin role also configures the behaviour signals
-- (configure_signals, signal_source; 30_signals.sql), and the application
-- and reporting roles read the pipeline's models (20_pipeline.sql). The body
-- is that of src/sql/99_privileges.sql.
CREATE OR REPLACE FUNCTION grant_roles(app regrole, reporting regrole DEFAULT NULL, admin regrole DEFAULT NULL)
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
            format('GRANT SELECT, INSERT, UPDATE ON personalize.offer_customer_lock TO %s', app),
            -- The pipeline's serving calls read the refreshed models.
            format('GRANT SELECT ON personalize.customer_profiles, personalize.customer_profile_features, '
                   'personalize.purchase_history, personalize.item_similarities, personalize.popular_items, '
                   'personalize.shop_items, personalize.product_rules, personalize.models, personalize.refresh_runs, '
                   'personalize.shop_source, personalize.shop_settings, personalize.signal_source TO %s', app)];
    END IF;
    IF reporting IS NOT NULL THEN
        statements := statements || ARRAY[
            format('GRANT USAGE ON SCHEMA personalize TO %s', reporting),
            format('GRANT SELECT ON personalize.offers, personalize.offer_log, personalize.offer_context_source, '
                   'personalize.segment_rules, personalize.segment_history TO %s', reporting),
            format('GRANT SELECT ON personalize.customer_profiles, personalize.customer_profile_features, '
                   'personalize.models, personalize.refresh_runs, personalize.product_rules, '
                   'personalize.item_similarities, personalize.popular_items, personalize.shop_settings TO %s', reporting)];
    END IF;
    IF admin IS NOT NULL THEN
        statements := statements || ARRAY[
            format('GRANT USAGE ON SCHEMA personalize TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE, DELETE ON personalize.offers TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE, DELETE ON personalize.segment_rules, personalize.segment_rules_custom, '
                   'personalize.segment_maps_customized, personalize.segment_history TO %s', admin),
            format('GRANT SELECT ON personalize.segment_rules_shipped, personalize.offer_log TO %s', admin),
            format('GRANT SELECT, INSERT, UPDATE ON personalize.offer_context_source, personalize.signal_source TO %s', admin),
            format('GRANT EXECUTE ON FUNCTION personalize.configure_offer_context(regclass, regclass, regclass, text), '
                   'personalize.snapshot_segments(text, date, regclass), personalize.reset_segment_map(text), '
                   'personalize.customize_segment_map(text), personalize.configure_signals(regclass) TO %s', admin)];
    END IF;
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
        RETURN NEXT statement;
    END LOOP;
END
$fn$;

-- The pipeline's configuration, refresh and schedule (docs/pipeline.md) are
-- the DBA's: the owner runs them (or a role the owner grants them to by
-- hand); so are the refresh stages, which write the model tables.
REVOKE EXECUTE ON FUNCTION configure_shop(regclass, regclass, regclass, regclass, regclass, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION refresh(text[], boolean) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE run_refresh(text[], boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION refresh_run(text[], boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION schedule_refresh(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION unschedule_refresh() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION store_model(text, jsonb, timestamptz, bigint, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION refresh_record(text, timestamptz, boolean) FROM PUBLIC;
DO $do$
DECLARE
    stage regprocedure;
BEGIN
    -- Every stage function: refresh_<stage>(as_of, holdout_from).
    FOR stage IN SELECT p.oid::regprocedure FROM pg_proc p
                 WHERE p.pronamespace = 'personalize'::regnamespace AND p.proname LIKE 'refresh\_%'
                   AND p.proargtypes = '1184 1184'::oidvector LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', stage);
    END LOOP;
END
$do$;
