-- personalize.aggregate_state, the state type of every aggregate: text round
-- trip, partial states combined through their text form (what Citus does),
-- NULL, and malformed or hostile input (22P02, never a crash).
SET client_min_messages = notice;
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

CREATE TABLE orders AS
SELECT 1 + i % 5 AS customer_id, i % 3 AS shard,
       timestamptz '2024-01-01 12:00+00' + (i * 7 % 300) * interval '1 day' AS ordered_at,
       (10 + i % 17)::float8 AS amount
FROM generate_series(1, 200) i;

-- The partial states themselves: the transition function without a final one.
CREATE AGGREGATE pg_temp.summary_state(timestamptz, float8, timestamptz) (
    SFUNC = personalize.customer_summary_transfn, STYPE = personalize.aggregate_state);
-- Combines partial states given as values (as the Citus coordinator does).
CREATE AGGREGATE pg_temp.summary_merge(personalize.aggregate_state) (
    SFUNC = personalize.customer_summary_combine, STYPE = personalize.aggregate_state,
    FINALFUNC = personalize.customer_summary_final);

CREATE TEMP TABLE partial AS
SELECT customer_id, shard, pg_temp.summary_state(ordered_at, amount, timestamptz '2025-01-01 00:00+00')::text AS state
FROM orders GROUP BY customer_id, shard;

-- The text form: hexadecimal, starting with the tag "CSUM", version 1.
SELECT DISTINCT left(state, 16) AS header, state ~ '^[0-9a-f]+$' AS hex FROM partial;
-- Text round trip is exact.
SELECT bool_and(state::personalize.aggregate_state::text = state) AS round_trip FROM partial;
-- Merged from text per shard = computed in one pass.
SELECT bool_and(m = d) AS merged_equals_direct, count(*) AS customers
FROM (SELECT customer_id, pg_temp.summary_merge(state::personalize.aggregate_state) AS m
      FROM partial GROUP BY customer_id) p
JOIN (SELECT customer_id, personalize.customer_summary(ordered_at, amount, timestamptz '2025-01-01 00:00+00') AS d
      FROM orders GROUP BY customer_id) q USING (customer_id);
-- The final function reads a flat state given directly.
SELECT (personalize.customer_summary_final(state::personalize.aggregate_state)).orders > 0 AS final_on_text
FROM partial LIMIT 1;

-- Binary I/O (COPY ... FORMAT binary: send, then receive, which validates).
CREATE TEMP TABLE states AS SELECT customer_id, shard, state::personalize.aggregate_state AS s FROM partial;
SELECT '/tmp/pg_personalize_aggregate_state_' || pg_backend_pid() || '.bin' AS binary_file \gset
SELECT format('cat %1$s && rm -f %1$s', :'binary_file') AS read_and_remove \gset
COPY states TO :'binary_file' (FORMAT binary);
CREATE TEMP TABLE states_back (LIKE states);
COPY states_back FROM PROGRAM :'read_and_remove' (FORMAT binary);
SELECT count(*) AS rows, bool_and(b.s::text = a.s::text) AS binary_round_trip
FROM states a JOIN states_back b USING (customer_id, shard);

-- NULL stays NULL.
SELECT NULL::personalize.aggregate_state IS NULL AS null_in,
       personalize.customer_summary_final(NULL) IS NULL AS null_final;

-- Malformed and hostile input: 22P02, never a crash.
SELECT left(s, 20) AS input, pg_temp.error_of(format('SELECT %L::personalize.aggregate_state', s)) AS error
FROM unnest(ARRAY[
    'garbage',                                  -- not hexadecimal, odd length
    'zz',                                       -- not hexadecimal
    '',                                         -- empty
    '43535',                                    -- odd length
    '4353554d0100',                             -- shorter than the header
    '5858585801000000',                         -- a header of no known kind
    '4353554d01000000',                         -- CSUM without its fields
    '4353554d09000000' || repeat('00', 64),     -- a version never written
    '4b4d535401000000' || repeat('ff', 40),     -- KMST with huge counts
    '424b4c4e01000000ffffffffffffffff'          -- BKLN claiming 2^64 lines
]) s;
-- A valid state with one byte more or less is rejected too.
SELECT pg_temp.error_of(format('SELECT %L::personalize.aggregate_state', state || '00')) AS trailing_byte,
       pg_temp.error_of(format('SELECT %L::personalize.aggregate_state', left(state, -2))) AS missing_byte
FROM partial ORDER BY customer_id, shard LIMIT 1;
-- A state of another aggregate: the reader of that aggregate rejects it.
SELECT pg_temp.error_of(format('SELECT personalize.kmeans_final(%L::personalize.aggregate_state)', state)) AS other_kind
FROM partial LIMIT 1;
-- Transition and combine functions refuse to run outside an aggregate.
SELECT pg_temp.error_of(format('SELECT personalize.customer_summary_combine(%L, %L)', state, state)) AS outside
FROM partial LIMIT 1;
SELECT personalize.live_cpp_objects() AS live_objects;
