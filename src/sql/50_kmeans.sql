-- k-means clustering of feature vectors (float8[]): k-means++ seeding from a
-- seed, Hamerly-accelerated Lloyd iterations, optional per-feature scaling.

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
-- Not strict: an empty input gets a NOTICE instead of silence.
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

CREATE FUNCTION kmeans_assign(features float8[], model jsonb, OUT cluster integer, OUT distance float8)
    AS 'MODULE_PATHNAME', 'personalize_kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_silhouette(model jsonb, points float8[], sample_size integer DEFAULT 2000,
                                  seed bigint DEFAULT 0) RETURNS float8
    AS 'MODULE_PATHNAME', 'personalize_kmeans_silhouette' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
