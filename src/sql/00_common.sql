-- pg_personalize: e-commerce personalisation inside PostgreSQL.
-- The install script of the current version, assembled by the Makefile from
-- src/sql/NN_<capability>.sql in order; every object lives in the schema
-- "personalize" (see pg_personalize.control). What the module itself offers
-- (its version, the C++ object count) and helpers every capability uses.

\echo Use "CREATE EXTENSION pg_personalize" to load this file. \quit

CREATE FUNCTION version() RETURNS text
    AS 'MODULE_PATHNAME', 'personalize_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION version() IS 'version of the pg_personalize library that is loaded';

CREATE FUNCTION live_cpp_objects() RETURNS bigint
    AS 'MODULE_PATHNAME', 'personalize_live_cpp_objects'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;  -- the leader's own count
COMMENT ON FUNCTION live_cpp_objects() IS
    'C++ objects (aggregate states, models) currently alive in this backend; 0 between queries unless something leaks';

-- The limit in force (personalize.memory_limit, -1 resolved to work_mem x
-- hash_mem_multiplier). Calling it also loads the library, which defines the
-- setting: until then a fresh session has no personalize.memory_limit to SHOW.
CREATE FUNCTION memory_limit() RETURNS bigint
    AS 'MODULE_PATHNAME', 'personalize_memory_limit'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION memory_limit() IS
    'bytes one call of pg_personalize may use for its largest structure (personalize.memory_limit, -1 = work_mem x hash_mem_multiplier)';

-- The state type of every aggregate of the extension (instead of internal,
-- which Citus never combines on the workers): flat, the byte form of the
-- partial state (docs/architecture.md, "One byte format"); text is its
-- hexadecimal digits. Input is validated (22P02), so anyone may cast text to it.
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

-- Internal: raises an error naming fn's argument arg unless rel has cols.
CREATE FUNCTION require_columns(rel regclass, cols text[], fn text, arg text)
    RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
DECLARE
    missing text[];
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: "%" must not be NULL', fn, arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT array_agg(c ORDER BY o) INTO missing
    FROM unnest(cols) WITH ORDINALITY u(c, o)
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = rel AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%: "%" (%) must have the columns %; missing: %', fn, arg, rel,
            array_to_string(cols, ', '), array_to_string(missing, ', ')
            USING ERRCODE = 'undefined_column';
    END IF;
END
$fn$;
COMMENT ON FUNCTION require_columns(regclass, text[], text, text) IS
    'internal: checks that a table given as regclass has the columns a function reads';

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
