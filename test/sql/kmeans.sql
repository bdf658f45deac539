-- k-means: recovers planted clusters, determinism, scaling, assign,
-- silhouette, parallel = serial, NULLs, empty and bad input.
SET client_min_messages = notice;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;

\i test/sql/include/error_of.sql

-- Three well-separated groups of 2,000 points around (0,0), (10,0), (0,10),
-- in shuffled order; the second feature is money-like (log1p helps).
CREATE TABLE points AS
SELECT i, g,
       ARRAY[(CASE g WHEN 1 THEN 10 ELSE 0 END) + (abs(hashint4(i)) % 1000) / 1000.0 - 0.5,
             (CASE g WHEN 2 THEN 10 ELSE 0 END) + (abs(hashint4(i + 7)) % 1000) / 1000.0 - 0.5]::float8[] AS f
FROM generate_series(1, 6000) i, LATERAL (SELECT i % 3 AS g) x
ORDER BY md5(i::text);
ANALYZE points;

CREATE TEMP TABLE model AS SELECT personalize.kmeans(f, 3, 42) AS m FROM points;
SELECT m->>'model' AS model, m->'k' AS k, m->'dim' AS dim, m->'converged' AS converged,
       m->'points' AS points, m->'seed' AS seed,
       (SELECT array_agg(s::int ORDER BY s::int) FROM jsonb_array_elements_text(m->'sizes') s) AS sizes
FROM model;
-- Centroids are the group means (in original units), whatever the cluster numbering.
SELECT string_agg(round((c->>0)::numeric, 1) || ',' || round((c->>1)::numeric, 1), '  '
                  ORDER BY (c->>0)::numeric, (c->>1)::numeric) AS centroids
FROM model, jsonb_array_elements(m->'centroids') c;
-- Each planted group is exactly one cluster.
SELECT count(DISTINCT (g, a.cluster)) AS group_cluster_pairs, count(DISTINCT a.cluster) AS clusters
FROM points, model, personalize.kmeans_assign(f, m) a;
-- Deterministic for a seed.
SELECT (SELECT personalize.kmeans(f, 3, 42) FROM points) = m AS same_model_same_seed FROM model;
-- Silhouette of well-separated groups is high.
SELECT round(personalize.kmeans_silhouette(m, (SELECT array_agg(f) FROM points), 1000, 1)::numeric, 2) > 0.8 AS high_silhouette
FROM model;

-- Scaling: z-score and log1p then z-score are reported per feature.
SELECT jsonb_path_query_array(m, '$.scaling[*].kind') AS kinds
FROM (SELECT personalize.kmeans(f, 3, 1, 'zscore, log1p_zscore') AS m
      FROM (SELECT ARRAY[f[1], abs(f[2])] AS f FROM points) p) s;

-- A parallel plan gives the serial model.
\i test/sql/include/parallel_plans.sql
EXPLAIN (COSTS OFF) SELECT personalize.kmeans(f, 3, 42) FROM points;
SELECT (SELECT personalize.kmeans(f, 3, 42) FROM points) = m AS parallel_equals_serial FROM model;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Empty input: a NOTICE and no model. NULL feature arrays are skipped.
SELECT personalize.kmeans(f, 3) IS NULL AS no_model FROM points WHERE false;
SELECT (personalize.kmeans(f, 1)->'points')::int AS points
FROM (VALUES ('{1,2}'::float8[]), (NULL), ('{3,4}')) v(f);

-- NULL arguments of the STRICT functions give NULL.
SELECT personalize.kmeans_assign(NULL, m) IS NULL AS null_features,
       personalize.kmeans_silhouette(m, NULL) IS NULL AS null_points
FROM model;

-- Bad input names the argument.
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 0) FROM points$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 7) FROM (VALUES ('{1,1}'::float8[]), ('{2,2}')) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2) FROM (VALUES ('{1,1}'::float8[]), ('{2,2,2}')) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2) FROM (VALUES ('{1,NULL}'::float8[])) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2) FROM (VALUES ('{1,NaN}'::float8[])) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2) FROM (VALUES ('{1,Infinity}'::float8[])) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, NULL) FROM points$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2, 1, 'cubic') FROM points$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2, 1, 'log1p_zscore') FROM (VALUES ('{-3,1}'::float8[]), ('{1,2}')) v(f)$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2, i) FROM points$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans_assign('{1,2,3}', m) FROM model$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans_assign('{1,2}', '{"model": "bgnbd"}')$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans_silhouette(m, '{1,2}') FROM model$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans_silhouette(m, (SELECT array_agg(f) FROM points), 1) FROM model$$);
SELECT pg_temp.error_of($$SELECT personalize.kmeans(f, 2, 1, CASE WHEN f[1] > 0 THEN 'zscore' ELSE 'none' END) FROM points$$);
SELECT personalize.live_cpp_objects() AS live_cpp_objects;
DROP TABLE points;
