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
