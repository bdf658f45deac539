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

CREATE FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_transfn(internal, timestamptz, float8, timestamptz, interval)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_transfn'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_combine(internal, internal)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION customer_summary_serialize(internal)
    RETURNS bytea AS 'MODULE_PATHNAME', 'personalize_customer_summary_serialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_summary_deserialize(bytea, internal)
    RETURNS internal AS 'MODULE_PATHNAME', 'personalize_customer_summary_deserialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customer_summary_final(internal)
    RETURNS customer_summary_result AS 'MODULE_PATHNAME', 'personalize_customer_summary_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The calendar day of each order is taken in the session's TimeZone (as
-- ordered_at::date does), hence STABLE transition functions.
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz) (
    SFUNC = customer_summary_transfn,
    STYPE = internal,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    SERIALFUNC = customer_summary_serialize,
    DESERIALFUNC = customer_summary_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE customer_summary(ordered_at timestamptz, amount float8, as_of timestamptz, unit interval) (
    SFUNC = customer_summary_transfn,
    STYPE = internal,
    FINALFUNC = customer_summary_final,
    COMBINEFUNC = customer_summary_combine,
    SERIALFUNC = customer_summary_serialize,
    DESERIALFUNC = customer_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz) IS
    'per-customer orders, frequency, recency, age (days) and monetary value, as lifetimes/BTYD define them';
COMMENT ON AGGREGATE customer_summary(timestamptz, float8, timestamptz, interval) IS
    'per-customer orders, frequency, recency, age and monetary value in the given unit, as lifetimes/BTYD define them';
