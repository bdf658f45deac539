-- customer_summary: the per-customer purchase summary (orders, frequency,
-- recency, age, monetary) that RFM and the lifetime models read.

CREATE TYPE customer_summary_result AS (
    orders          bigint,       -- rows with a non-NULL ordered_at
    first_order_at  timestamptz,
    last_order_at   timestamptz,
    frequency       bigint,       -- repeat purchase days (purchase days - 1)
    recency         float8,       -- t_x: first to last purchase day, in units
    age             float8,       -- T: first purchase day to as_of's day, in units
    monetary        float8,       -- mean amount of the repeat purchase days, 0 if none
    total           float8        -- sum of all amounts
);

CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
-- With an explicit time zone the day no longer depends on the session.
CREATE FUNCTION customer_summary_transfn(aggregate_state, timestamptz, float8, timestamptz, interval, text)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_combine(aggregate_state, aggregate_state)
    RETURNS aggregate_state AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_final(aggregate_state)
    RETURNS customer_summary_result AS 'MODULE_PATHNAME', 'personalize_customer_summary_state_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The calendar day of each order is taken in the session's TimeZone (as
-- ordered_at::date does), hence STABLE transition functions.
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
-- The purchase day taken in time_zone (e.g. 'Europe/Berlin'), not the
-- session's: the same answer on every node of a cluster (docs/distributed.md).
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

-- RFM scoring: recency, frequency and monetary scores 1..bins by population
-- quantiles (NTILE's bucket starts; identical values share a score). See
-- docs/rfm.md. "recency" here is the time since the last purchase (lower is
-- better: the most recent customers score bins).

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

CREATE FUNCTION rfm_score(breakpoints jsonb, recency float8, frequency float8, monetary float8,
                          OUT r integer, OUT f integer, OUT m integer)
    AS 'MODULE_PATHNAME', 'personalize_rfm_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rfm_score(jsonb, float8, float8, float8) IS
    'RFM scores 1..bins of one customer against stored rfm_breakpoints (r = bins for the most recent)';

-- The one-call form: reads customer_id, recency, frequency and monetary from
-- a table or view (customer_id castable to bigint, the others to float8).
-- Customers with a NULL value get NULL scores and do not count in the
-- quantiles.
CREATE FUNCTION rfm_scores(customers regclass, bins integer DEFAULT 5)
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
COMMENT ON FUNCTION rfm_scores(regclass, integer) IS
    'RFM scores 1..bins of every row of a table or view with customer_id, recency (time since last purchase), frequency and monetary';

-- Named segments from RFM scores (table-driven maps), segment history with
-- transitions, and the customer cohorts the offers need (first-timers,
-- lapsed, recently active, high value). Plain SQL/plpgsql; see
-- docs/segments_rfm.md. Scores are integers 1..5 (5 = most recent, most
-- frequent, highest spend); this file does not depend on how they are made.

-- A map is a set of rules; a customer's segment is the first rule (by
-- priority, then segment name) whose inclusive ranges contain its scores.
-- NULL m bounds mean "any m" (both NULL or both set).
--
-- Where the rules live, so that pg_dump keeps every edit: the shipped maps
-- (rf_grid, rfm_rules) are part of the extension, in segment_rules_shipped,
-- which CREATE EXTENSION fills and pg_dump leaves out. The shop's own maps,
-- and its edited copies of shipped maps, are in segment_rules_custom, which
-- pg_dump dumps whole. personalize.segment_rules is the view users read and
-- edit: an edit of a shipped map first copies that map into the custom table
-- (copy on write, recorded in segment_maps_customized), so the edit survives
-- a dump and restore and the shipped rows stop applying to that map.
CREATE TABLE segment_rules_custom (
    map      text    NOT NULL,
    segment  text    NOT NULL,
    priority integer NOT NULL,
    r_min    integer NOT NULL,
    r_max    integer NOT NULL,
    f_min    integer NOT NULL,
    f_max    integer NOT NULL,
    m_min    integer,
    m_max    integer,
    CONSTRAINT segment_rules_pkey PRIMARY KEY (map, segment),
    CONSTRAINT segment_rules_r_range CHECK (r_min BETWEEN 1 AND 5 AND r_max BETWEEN r_min AND 5),
    CONSTRAINT segment_rules_f_range CHECK (f_min BETWEEN 1 AND 5 AND f_max BETWEEN f_min AND 5),
    CONSTRAINT segment_rules_m_range CHECK ((m_min IS NULL AND m_max IS NULL)
                                            OR (m_min IS NOT NULL AND m_max IS NOT NULL
                                                AND m_min BETWEEN 1 AND 5 AND m_max BETWEEN m_min AND 5)),
    CONSTRAINT segment_rules_segment_not_empty CHECK (segment <> '' AND map <> '')
);
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

-- One row per (date, map, customer): the segment the customer was in.
CREATE TABLE segment_history (
    as_of       date   NOT NULL,
    map         text   NOT NULL,
    customer_id bigint NOT NULL,
    segment     text   NOT NULL,
    PRIMARY KEY (as_of, map, customer_id)
);
CREATE INDEX segment_history_map_as_of ON segment_history (map, as_of);
COMMENT ON TABLE segment_history IS 'snapshots of customers'' segments, written by snapshot_segments()';
SELECT pg_catalog.pg_extension_config_dump('personalize.segment_history', '');

-- The segment of one customer's scores. NULL r or f (or map) gives NULL; a
-- NULL m matches only rules without m bounds. No rule matches: 'Others'.
CREATE FUNCTION segment(map text, r integer, f integer, m integer DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    result text;
BEGIN
    IF map IS NULL OR r IS NULL OR f IS NULL THEN
        RETURN NULL;
    END IF;
    IF r NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "r" must be between 1 and 5, got %', r USING ERRCODE = 'invalid_parameter_value';
    ELSIF f NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "f" must be between 1 and 5, got %', f USING ERRCODE = 'invalid_parameter_value';
    ELSIF m NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'segment: "m" must be between 1 and 5, got %', m USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.segment INTO result
    FROM personalize.segment_rules s
    WHERE s.map = segment.map
      AND segment.r BETWEEN s.r_min AND s.r_max
      AND segment.f BETWEEN s.f_min AND s.f_max
      AND (s.m_min IS NULL OR segment.m BETWEEN s.m_min AND s.m_max)
    ORDER BY s.priority, s.segment
    LIMIT 1;
    IF result IS NOT NULL THEN
        RETURN result;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM personalize.segment_rules s WHERE s.map = segment.map) THEN
        RAISE EXCEPTION 'segment: "map" % is not a map in personalize.segment_rules', pg_catalog.quote_literal(map)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN 'Others';
END
$fn$;
COMMENT ON FUNCTION segment(text, integer, integer, integer) IS
    'named segment of RFM scores (1..5) from a map in segment_rules: first matching rule by priority, else Others';

-- Cells of a map that no rule covers (gaps) or, for maps without m bounds,
-- that several rules cover (overlaps). See docs/segments_rfm.md.
CREATE FUNCTION validate_segment_map(map text, scores integer DEFAULT 5)
    RETURNS TABLE (problem text, r integer, f integer, m integer, segments text[])
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    grid boolean;
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'validate_segment_map: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF scores IS NULL OR scores NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'validate_segment_map: "scores" must be between 1 and 5' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT bool_and(s.m_min IS NULL) INTO grid FROM personalize.segment_rules s WHERE s.map = validate_segment_map.map;
    IF grid IS NULL THEN
        RAISE EXCEPTION 'validate_segment_map: "map" % is not a map in personalize.segment_rules',
            pg_catalog.quote_literal(map) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF grid THEN
        RETURN QUERY
        SELECT CASE WHEN count(s.segment) = 0 THEN 'gap' ELSE 'overlap' END,
               cr, cf, NULL::integer,
               coalesce(array_agg(s.segment ORDER BY s.priority, s.segment) FILTER (WHERE s.segment IS NOT NULL),
                        '{}')
        FROM generate_series(1, scores) cr CROSS JOIN generate_series(1, scores) cf
        LEFT JOIN personalize.segment_rules s
          ON s.map = validate_segment_map.map AND cr BETWEEN s.r_min AND s.r_max AND cf BETWEEN s.f_min AND s.f_max
        GROUP BY cr, cf
        HAVING count(s.segment) <> 1
        ORDER BY cr, cf;
    ELSE
        RETURN QUERY
        SELECT 'gap (fallback Others)', cr, cf, cm, '{}'::text[]
        FROM generate_series(1, scores) cr CROSS JOIN generate_series(1, scores) cf
             CROSS JOIN generate_series(1, scores) cm
        WHERE NOT EXISTS (
            SELECT 1 FROM personalize.segment_rules s
            WHERE s.map = validate_segment_map.map AND cr BETWEEN s.r_min AND s.r_max
              AND cf BETWEEN s.f_min AND s.f_max AND (s.m_min IS NULL OR cm BETWEEN s.m_min AND s.m_max))
        ORDER BY cr, cf, cm;
    END IF;
END
$fn$;
COMMENT ON FUNCTION validate_segment_map(text, integer) IS
    'cells of a segment map covered by no rule (gap) or, for maps without m bounds, by several rules (overlap)';

-- Writes the segment of every row of `scores` (customer_id, r, f, m) into
-- segment_history for (as_of, map), replacing that snapshot. Rows with a
-- NULL r or f are skipped. Returns the rows written.
CREATE FUNCTION snapshot_segments(map text, as_of date, scores regclass)
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
COMMENT ON FUNCTION snapshot_segments(text, date, regclass) IS
    'stores every customer''s segment of a map for a date in segment_history (replacing that date''s snapshot)';

-- Who moved where between two snapshots of a map. A customer in only one
-- snapshot has NULL on the other side (new: from_segment NULL; gone:
-- to_segment NULL).
CREATE FUNCTION segment_transitions(map text, from_date date, to_date date)
    RETURNS TABLE (from_segment text, to_segment text, customers bigint)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
BEGIN
    IF map IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "map" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF from_date IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "from_date" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF to_date IS NULL THEN
        RAISE EXCEPTION 'segment_transitions: "to_date" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_history h
                      WHERE h.map = segment_transitions.map AND h.as_of = from_date) THEN
        RAISE EXCEPTION 'segment_transitions: no snapshot of map % on "from_date" %', quote_literal(map), from_date
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT EXISTS (SELECT 1 FROM personalize.segment_history h
                      WHERE h.map = segment_transitions.map AND h.as_of = to_date) THEN
        RAISE EXCEPTION 'segment_transitions: no snapshot of map % on "to_date" %', quote_literal(map), to_date
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT a.segment, b.segment, count(*)
    FROM (SELECT h.customer_id, h.segment FROM personalize.segment_history h
          WHERE h.map = segment_transitions.map AND h.as_of = from_date) a
    FULL JOIN (SELECT h.customer_id, h.segment FROM personalize.segment_history h
               WHERE h.map = segment_transitions.map AND h.as_of = to_date) b
      ON a.customer_id = b.customer_id
    GROUP BY a.segment, b.segment
    ORDER BY a.segment NULLS FIRST, b.segment NULLS FIRST;
END
$fn$;
COMMENT ON FUNCTION segment_transitions(text, date, date) IS
    'customers per (from_segment, to_segment) between two snapshots; NULL side = new or gone';

-- Cohorts over an orders table (customer_id, ordered_at, status, total):
-- only orders with status 'completed' count, and only those at or before
-- as_of. A day is 24 hours.

-- Internal: the common argument checks of the cohort functions.
CREATE FUNCTION check_cohort_args(fn text, orders regclass, as_of timestamptz)
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
COMMENT ON FUNCTION check_cohort_args(text, regclass, timestamptz) IS 'internal: argument checks of the cohort functions';

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

-- Customers of `customers` (customer_id) with no completed order in `orders`.
CREATE FUNCTION first_time_customers(customers regclass, orders regclass)
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
COMMENT ON FUNCTION first_time_customers(regclass, regclass) IS
    'customers with no completed order yet (offers for a first purchase)';

-- Customers whose last completed order is at least `days` days before
-- as_of, with the median gap between their consecutive completed orders.
CREATE FUNCTION lapsed_customers(orders regclass, as_of timestamptz, days integer)
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
COMMENT ON FUNCTION lapsed_customers(regclass, timestamptz, integer) IS
    'customers with no completed order in the last "days" days; overdue = days since last order > 2 x median gap';

-- Customers with at least one completed order in (as_of - days, as_of].
CREATE FUNCTION recently_active_customers(orders regclass, as_of timestamptz, days integer)
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
COMMENT ON FUNCTION recently_active_customers(regclass, timestamptz, integer) IS
    'customers with a completed order in the last "days" days before as_of';

-- The top `top_fraction` of customers by total spend over completed orders
-- up to as_of: ceil(top_fraction x customers) rows, ties broken by
-- customer_id.
CREATE FUNCTION high_value_customers(orders regclass, as_of timestamptz, top_fraction float8 DEFAULT 0.1)
    RETURNS TABLE (customer_id bigint, total_spend numeric, completed_orders bigint, spend_rank bigint)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM personalize.check_cohort_args('high_value_customers', orders, as_of);
    IF top_fraction IS NULL THEN
        RAISE EXCEPTION 'high_value_customers: "top_fraction" must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT (top_fraction > 0 AND top_fraction <= 1) THEN
        RAISE EXCEPTION 'high_value_customers: "top_fraction" must be in (0, 1], got %', top_fraction
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH c AS (
            SELECT o.customer_id::bigint AS customer_id, sum(o.total)::numeric AS spend, count(*) AS n
            FROM %s o
            WHERE o.status = 'completed' AND o.ordered_at <= $1
            GROUP BY o.customer_id
        ), ranked AS (
            SELECT c.*, row_number() OVER (ORDER BY c.spend DESC, c.customer_id) AS rn, count(*) OVER () AS total_n
            FROM c
        )
        SELECT ranked.customer_id, ranked.spend, ranked.n, ranked.rn
        FROM ranked
        WHERE ranked.rn <= ceil($2::numeric * ranked.total_n)
        ORDER BY ranked.rn$q$, orders)
        USING as_of, top_fraction;
END
$fn$;
COMMENT ON FUNCTION high_value_customers(regclass, timestamptz, float8) IS
    'the top share of customers by total spend over completed orders up to as_of';
