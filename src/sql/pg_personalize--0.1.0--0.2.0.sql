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
