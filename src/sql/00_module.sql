-- pg_personalize 0.1.0: e-commerce personalisation inside PostgreSQL.
-- Assembled from src/sql/*.sql by the Makefile; every object lives in the
-- schema "personalize" (see pg_personalize.control).

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
