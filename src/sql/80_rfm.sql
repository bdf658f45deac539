-- RFM scoring: recency, frequency and monetary scores 1..bins by population
-- quantiles (NTILE's bucket starts; identical values share a score). See
-- docs/rfm.md. "recency" here is the time since the last purchase (lower is
-- better: the most recent customers score bins).

CREATE FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_transfn(internal, float8, float8, float8, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_breakpoints_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'personalize_rfm_breakpoints_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8) (
    SFUNC = rfm_breakpoints_transfn, STYPE = internal, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine, SERIALFUNC = rfm_breakpoints_serialize,
    DESERIALFUNC = rfm_breakpoints_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE rfm_breakpoints(recency float8, frequency float8, monetary float8, bins integer) (
    SFUNC = rfm_breakpoints_transfn, STYPE = internal, FINALFUNC = rfm_breakpoints_final,
    COMBINEFUNC = rfm_breakpoints_combine, SERIALFUNC = rfm_breakpoints_serialize,
    DESERIALFUNC = rfm_breakpoints_deserialize, PARALLEL = SAFE);
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
