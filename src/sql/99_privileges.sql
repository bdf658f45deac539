-- Least privilege (docs/security.md): the functions that change the
-- extension's state are not EXECUTE to PUBLIC, and grant_roles() issues the
-- grants for the shop's three roles: the application (decisions and
-- suggestions), reporting (reads results) and an admin (edits offers and
-- segment maps, configures contexts). Nothing is SECURITY DEFINER: every
-- function runs with the caller's privileges, so what a role may do is what
-- it was granted on the tables.

-- Only the extension's owner, and the roles grant_roles() names, call these.
REVOKE EXECUTE ON FUNCTION decide_offer(bigint, jsonb, jsonb, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION configure_offer_context(regclass, regclass, regclass, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION snapshot_segments(text, date, regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION reset_segment_map(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION citus_setup(regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION customize_segment_map(text) FROM PUBLIC;
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
--              configure_offer_context, configure_signals, snapshot_segments,
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
REVOKE EXECUTE ON FUNCTION grant_roles(regrole, regrole, regrole) FROM PUBLIC;
COMMENT ON FUNCTION grant_roles(regrole, regrole, regrole) IS
    'grants an application, a reporting and an admin role what they need (NULL: skipped); returns the statements run';
