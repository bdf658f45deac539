-- What the 0.1.0 functions answer over stored baskets and als_model values,
-- as (source, name, answer) rows of upgrade_check.answers (phase: the
-- setting upgrade_check.phase). psql variables: `values`, a table of
-- (name text, baskets personalize.baskets, model personalize.als_model), and
-- `source`, what the rows are labelled with. make-fixtures.sh runs this with
-- the 0.1.0 library (fixtures/answers-0.1.0.txt), answers.sql with this one.
-- Answers named format/... depend on the stored bytes, not only on what
-- they mean: a later byte format may change them, never the others.
INSERT INTO upgrade_check.answers (source, name, answer)
SELECT :'source', v.name || '/' || a.name, a.answer
FROM :values v
CROSS JOIN LATERAL (SELECT min(c.customer_id) AS customer, max(c.customer_id) AS last_customer
                    FROM personalize.als_customer_factors(v.model) c) c
CROSS JOIN LATERAL (SELECT array_agg(i.item_id ORDER BY i.item_id) FILTER (WHERE n <= 3) AS items,
                           min(i.item_id) AS item
                    FROM (SELECT i.item_id, row_number() OVER (ORDER BY i.item_id) AS n
                          FROM personalize.als_item_factors(v.model) i) i) i
CROSS JOIN LATERAL (VALUES
    ('baskets', v.baskets::text),
    ('basket_stats', (SELECT s::text FROM personalize.basket_stats(v.baskets) s)),
    ('unnest_baskets', (SELECT string_agg(u::text, E'\n' ORDER BY u.basket_id)
                        FROM personalize.unnest_baskets(v.baskets) u)),
    ('merge_baskets', personalize.merge_baskets(v.baskets, '{1:{7,8},1000:{1,2}}')::text),
    ('association_rules', (SELECT string_agg(r::text, E'\n' ORDER BY r.antecedent, r.consequent)
                           FROM personalize.association_rules(v.baskets, min_support => 0.2, min_len => 1) r)),
    ('item_similarities', (SELECT string_agg(s::text, E'\n' ORDER BY s.item, s.neighbour)
                           FROM personalize.item_similarities(v.baskets, 'cosine', 2, 3) s)),
    ('als_model_info', (SELECT (m.customers, m.items, m.interactions, m.factors, m.iterations, m.regularization,
                                m.alpha, m.seed, m.solver, m.cg_steps, m.loss)::text
                        FROM personalize.als_model_info(v.model) m)),
    ('als_recommend', (SELECT string_agg(format('%s %s', x.customer_id, r), E'\n' ORDER BY x.customer_id, r.rank)
                       FROM unnest(ARRAY[c.customer, c.last_customer]) x(customer_id),
                            personalize.als_recommend(v.model, x.customer_id, 5) r)),
    ('als_recommend_batch', (SELECT string_agg(b::text, E'\n' ORDER BY b.customer_id)
                             FROM personalize.als_recommend_batch(v.model, 3) b)),
    ('als_score', personalize.als_score(v.model, c.customer, i.item)::text),
    ('als_fold_in', personalize.als_fold_in(v.model, i.items)::text),
    ('als_recommend_items', (SELECT string_agg(r::text, E'\n' ORDER BY r.rank)
                             FROM personalize.als_recommend_items(v.model, i.items, 5) r)),
    ('als_customer_factors', (SELECT string_agg(f::text, E'\n' ORDER BY f.customer_id)
                              FROM personalize.als_customer_factors(v.model) f)),
    ('als_item_factors', (SELECT string_agg(f::text, E'\n' ORDER BY f.item_id)
                          FROM personalize.als_item_factors(v.model) f)),
    ('format/als_model_text_md5', md5(v.model::text)),
    ('format/als_model_bytes', (SELECT (m.bytes, m.fingerprint)::text FROM personalize.als_model_info(v.model) m))
) a(name, answer);
