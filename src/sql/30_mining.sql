-- Market baskets: the personalize.baskets type, built from order lines by
-- the baskets() aggregates, mergeable, and mined by association_rules().

CREATE TYPE baskets;
CREATE FUNCTION baskets_in(cstring) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_out(baskets) RETURNS cstring
    AS 'MODULE_PATHNAME', 'personalize_baskets_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_recv(internal) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_baskets_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION baskets_send(baskets) RETURNS bytea
    AS 'MODULE_PATHNAME', 'personalize_baskets_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE baskets (
    INPUT = baskets_in, OUTPUT = baskets_out, RECEIVE = baskets_recv, SEND = baskets_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON TYPE baskets IS
    'a collection of market baskets: for each basket id the sorted set of its item ids; text form {basket:{item,...},...}';

-- Aggregates: baskets(basket_id, item_id) over order lines, or
-- baskets(basket_id, items) over one array per basket.
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

CREATE FUNCTION merge_baskets(a baskets, b baskets) RETURNS baskets
    AS 'MODULE_PATHNAME', 'personalize_merge_baskets' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION merge_baskets(baskets, baskets) IS
    'union of two basket collections; a basket id present in both gets the union of its items';

CREATE FUNCTION unnest_baskets(baskets baskets, OUT basket_id bigint, OUT items bigint[]) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'personalize_unnest_baskets' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
CREATE FUNCTION basket_stats(baskets baskets, OUT basket_count bigint, OUT line_count bigint, OUT max_basket_size bigint)
    AS 'MODULE_PATHNAME', 'personalize_basket_stats' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Association rules with one consequent item and the full metric set.

CREATE FUNCTION association_rules(
    baskets baskets,
    min_support float8 DEFAULT 0.01,
    min_confidence float8 DEFAULT 0,
    max_len integer DEFAULT 2,
    min_len integer DEFAULT 2,
    min_count bigint DEFAULT NULL,
    consequents bigint[] DEFAULT NULL,
    antecedents bigint[] DEFAULT NULL,
    max_basket_size integer DEFAULT NULL)
RETURNS TABLE (
    antecedent bigint[], consequent bigint, count bigint,
    antecedent_support float8, consequent_support float8, support float8,
    confidence float8, lift float8, leverage float8, conviction float8,
    jaccard float8, certainty float8, kulczynski float8, zhangs_metric float8)
    AS 'MODULE_PATHNAME', 'personalize_association_rules'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION association_rules(baskets, float8, float8, integer, integer, bigint, bigint[], bigint[], integer) IS
    'association rules antecedent => consequent with support, confidence, lift, leverage, conviction, jaccard, certainty, kulczynski and zhangs_metric';
