-- Offline evaluation helpers for test/bench/als.sh (psql, one session).
-- Same definitions as the suggestions helper's personalize.ranking_metrics /
-- evaluate_recommendations (which replace these once they are on main):
--   precision@k = hits / k, recall@k = hits / |relevant|,
--   nDCG@k = sum over hits at rank r of 1 / log2(r + 1), divided by the DCG
--            of min(k, |relevant|) hits at ranks 1, 2, ...;
--   a repeated recommended item counts once, at its first rank;
--   coverage = distinct items among the first k recommended / catalogue size.
-- Every customer with relevant items counts (no recommendations: zeros).
CREATE FUNCTION pg_temp.ranking_metrics(recommended bigint[], relevant bigint[], k integer,
                                        OUT precision_at_k float8, OUT recall_at_k float8, OUT ndcg_at_k float8)
LANGUAGE sql IMMUTABLE AS $$
    WITH rel AS (SELECT DISTINCT x FROM unnest(relevant) x WHERE x IS NOT NULL),
         ranked AS (SELECT x, min(i) AS i FROM unnest(coalesce(recommended, '{}')) WITH ORDINALITY u(x, i)
                    WHERE i <= k AND x IS NOT NULL GROUP BY x),
         hits AS (SELECT i FROM ranked WHERE x IN (SELECT x FROM rel))
    SELECT (SELECT count(*) FROM hits)::float8 / k,
           (SELECT count(*) FROM hits)::float8 / nullif((SELECT count(*) FROM rel), 0),
           (SELECT coalesce(sum(1 / log(2, i + 1)), 0) FROM hits)
             / nullif((SELECT sum(1 / log(2, j + 1)) FROM generate_series(1, least(k, (SELECT count(*) FROM rel)::int)) j), 0)
$$;

-- recs: (customer_id bigint, recommended bigint[]); relevant: (customer_id, relevant bigint[]).
CREATE FUNCTION pg_temp.evaluate(recs regclass, relevant regclass, k integer, catalogue bigint,
    OUT customers bigint, OUT precision_at_k float8, OUT recall_at_k float8, OUT ndcg_at_k float8, OUT coverage float8)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        WITH e AS (SELECT v.customer_id, r.recommended, v.relevant FROM %s v LEFT JOIN %s r USING (customer_id)),
             m AS (SELECT e.recommended, pg_temp.ranking_metrics(e.recommended, e.relevant, $1) AS q FROM e),
             shown AS (SELECT DISTINCT x FROM m, unnest(m.recommended[1:$1]) x WHERE x IS NOT NULL)
        SELECT count(*), avg((q).precision_at_k), avg((q).recall_at_k), avg((q).ndcg_at_k),
               (SELECT count(*) FROM shown)::float8 / $2 FROM m$q$, relevant, recs)
    INTO customers, precision_at_k, recall_at_k, ndcg_at_k, coverage USING k, catalogue;
END $$;

-- Popularity baseline: the items most customers bought in training, leaving
-- out what the customer bought (the same exclusion as ALS). `train` needs an
-- index on (customer_id, item_id).
CREATE FUNCTION pg_temp.popularity_recs(train regclass, relevant regclass, k integer, target text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        CREATE TEMP TABLE pop_ranked AS
        SELECT item_id, row_number() OVER (ORDER BY count(*) DESC, item_id) AS r FROM %1$s GROUP BY item_id$q$, train);
    CREATE INDEX ON pop_ranked (r);
    ANALYZE pop_ranked;
    EXECUTE format($q$
        CREATE TEMP TABLE %1$I AS
        SELECT v.customer_id,
               ARRAY(SELECT p.item_id FROM pop_ranked p
                     WHERE NOT EXISTS (SELECT 1 FROM %2$s t WHERE t.customer_id = v.customer_id AND t.item_id = p.item_id)
                     ORDER BY p.r LIMIT $1) AS recommended
        FROM %3$s v$q$, target, train, relevant) USING k;
    DROP TABLE pop_ranked;
END $$;
