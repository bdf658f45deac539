-- citus_setup(): the one call that prepares the extension's own tables on a
-- Citus cluster (docs/distributed.md): the configuration every node reads
-- becomes reference tables, the per-customer logs are distributed by
-- customer_id next to the shop's orders.

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
