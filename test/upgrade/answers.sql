-- The answers test/upgrade/run.sh records before the update and recomputes
-- after it and after a dump and restore, into upgrade_check.answers (phase:
-- the setting upgrade_check.phase): the stored data themselves (data/...),
-- what the 0.1.0 functions answer over the shop's data and models
-- (shop/...), and over stored baskets and als_model values, the shop's and
-- the 0.1.0 library's as fill.sql loaded them (value_answers.sql). Only
-- calls 0.1.0 has belong here: the answers are first recorded under 0.1.0.
SET client_min_messages = warning;
SET extra_float_digits = 1;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Contexts of eligible_offers / explain_offer, with a fixed "now".
CREATE TEMP TABLE contexts (name text PRIMARY KEY, context jsonb NOT NULL);
INSERT INTO contexts VALUES
    ('new shopper', '{"customer": {"orders": 0}, "cart": {"total": 42.50, "items": [47]}, "currency": "GBP",
                      "now": "2026-02-01T00:00:00Z"}'),
    ('lapsed', '{"customer": {"orders": 4, "last_order_at": "2025-06-01", "segment": "Dormant"},
                 "now": "2026-02-01T00:00:00Z"}'),
    ('exit, big cart', '{"customer": {"orders": 2, "segment": "Champions"}, "cart": {"total": "180.00 GBP", "items": [12]},
                         "session": {"exit_intent": true, "offer_shown": false}, "now": "2026-02-01T00:00:00Z"}');

INSERT INTO upgrade_check.answers (source, name, answer)
SELECT 'shop', a.name, a.answer
FROM (SELECT baskets AS b FROM shop.stored WHERE name = 'shop') v,
     LATERAL (SELECT jsonb_object_agg(name, model) AS j FROM shop.models) models,
     LATERAL (VALUES
    -- The data: the extension's tables (shipped rows and the user's), the shop's own.
    ('data/offers', (SELECT string_agg(o::text, E'\n' ORDER BY o.offer_key) FROM personalize.offers o)),
    ('data/offer_log', (SELECT string_agg(l::text, E'\n' ORDER BY l.decision_id) FROM personalize.offer_log l)),
    ('data/offer_customer_lock', (SELECT string_agg(l::text, E'\n' ORDER BY l.customer_id)
                                  FROM personalize.offer_customer_lock l)),
    ('data/offer_context_source', (SELECT string_agg(s::text, E'\n') FROM personalize.offer_context_source s)),
    ('data/segment_history', (SELECT string_agg(h::text, E'\n' ORDER BY h.as_of, h.map, h.customer_id)
                              FROM personalize.segment_history h)),
    ('data/segment_rules of the shipped maps (one edited)',
     (SELECT string_agg(r::text, E'\n' ORDER BY r.map, r.segment) FROM personalize.segment_rules r
      WHERE r.map IN ('rf_grid', 'rfm_rules'))),
    ('data/segment_rules of the shop''s map', (SELECT string_agg(r::text, E'\n' ORDER BY r.map, r.segment)
                                               FROM personalize.segment_rules r
                                               WHERE r.map NOT IN ('rf_grid', 'rfm_rules'))),
    ('data/shop tables',
     (SELECT string_agg(format('%s: %s rows, md5 %s', t.relname, x.n, x.md5), E'\n' ORDER BY t.relname)
      FROM pg_class t,
           LATERAL (SELECT (xpath('/row/n/text()', q))[1]::text AS n, (xpath('/row/md5/text()', q))[1]::text AS md5
                    FROM query_to_xml(format('SELECT count(*) AS n, md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) AS md5 FROM %s t',
                                             E'\n', '', t.oid::regclass), false, false, '') q) x
      WHERE t.relnamespace = 'shop'::regnamespace AND t.relkind IN ('r', 'v')
        AND t.relname <> 'stored')),  -- its values: below
    ('data/models', (SELECT string_agg(format('%s: %s', name, model), E'\n' ORDER BY name) FROM shop.models)),
    -- Stored baskets (more in value_answers.sql).
    ('shop/association_rules', (SELECT string_agg(r::text, E'\n' ORDER BY r.antecedent, r.consequent)
                                FROM personalize.association_rules(v.b, min_support => 0.02) r)),
    ('shop/association_rules of three', (SELECT string_agg(r::text, E'\n' ORDER BY r.antecedent, r.consequent)
                                         FROM personalize.association_rules(v.b, min_count => 20, max_len => 3,
                                                                            min_len => 3) r)),
    ('shop/product_complements', (SELECT string_agg(c::text, E'\n' ORDER BY c.confidence DESC, c.complement)
                                  FROM personalize.product_complements('shop.product_rules', 50, 5) c)),
    ('shop/cart_suggestions', (SELECT string_agg(s::text, E'\n' ORDER BY s.score DESC, s.item)
                               FROM personalize.cart_suggestions(ARRAY[50, 54], 'shop.product_rules', 5) s)),
    -- jsonb models.
    ('shop/kmeans_assign', (SELECT md5(string_agg(format('%s %s', s.customer_id, a), E'\n' ORDER BY s.customer_id))
                            FROM shop.customer_stats s,
                                 personalize.kmeans_assign(ARRAY[s.frequency, s.monetary, s.age - s.recency],
                                                           models.j->'kmeans') a)),
    ('shop/lifetime', (SELECT string_agg(concat_ws(' ', s.customer_id,
               personalize.probability_alive(models.j->'bgnbd', s.frequency, s.recency, s.age),
               personalize.probability_alive(models.j->'pareto_nbd', s.frequency, s.recency, s.age),
               personalize.expected_purchases(models.j->'bgnbd', 12, s.frequency, s.recency, s.age),
               personalize.probability_of_purchases(models.j->'bgnbd', 1, 12, s.frequency, s.recency, s.age),
               personalize.next_purchase_in(models.j->'bgnbd', s.frequency, s.recency, s.age),
               personalize.expected_spend(models.j->'gamma_gamma', s.frequency, s.monetary),
               personalize.customer_lifetime_value(models.j->'bgnbd', models.j->'gamma_gamma', s.frequency, s.recency,
                                                   s.age, s.monetary, 12, 4.345, 0.01)), E'\n' ORDER BY s.customer_id)
                       FROM shop.customer_stats s)),
    ('shop/lifetime intervals', (SELECT string_agg(concat_ws(' ', s.customer_id,
               personalize.expected_purchases_interval(models.j->'bgnbd', 12, s.frequency, s.recency, s.age, 0.9, 50),
               personalize.customer_lifetime_value_interval(models.j->'bgnbd', models.j->'gamma_gamma', s.frequency,
                                                            s.recency, s.age, s.monetary, 12, 4.345, 0.01, 0.9, 50)),
               E'\n' ORDER BY s.customer_id)
                                 FROM shop.customer_stats s WHERE s.customer_id <= 10)),
    ('shop/expected_purchases_new', personalize.expected_purchases_new(models.j->'bgnbd', 12)::text),
    ('shop/simulate_customers', (SELECT string_agg(c::text, E'\n' ORDER BY c.customer_id)
                                 FROM personalize.simulate_customers('bgnbd', ARRAY[0.5, 10, 0.7, 3], 5, 1) c)),
    ('shop/logistic_score', (SELECT md5(string_agg(format('%s %s', f.session_id,
                                                          personalize.logistic_score(models.j->'logistic', f.features)),
                                                   E'\n' ORDER BY f.session_id))
                             FROM shop.session_features f)),
    ('shop/auc', (SELECT personalize.auc(personalize.logistic_score(models.j->'logistic', f.features), f.converted)::text
                  FROM shop.session_features f)),
    ('shop/rfm_score', (SELECT md5(string_agg(format('%s %s', s.customer_id,
                                                     personalize.rfm_score(models.j->'rfm_breakpoints', s.age - s.recency,
                                                                           s.frequency, s.total)),
                                              E'\n' ORDER BY s.customer_id))
                        FROM shop.customer_stats s)),
    -- Segments and cohorts.
    ('shop/segment', (SELECT string_agg(format('%s %s %s: %s / %s / %s', r, f, m,
                                               personalize.segment('rf_grid', r, f),
                                               personalize.segment('rfm_rules', r, f, m),
                                               personalize.segment('two_tier', r, f)), E'\n' ORDER BY r, f, m)
                      FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m)),
    ('shop/validate_segment_map', (SELECT string_agg(format('%s: %s', map, (SELECT string_agg(x::text, '; ')
                                                                          FROM personalize.validate_segment_map(map) x)),
                                                     E'\n' ORDER BY map)
                                   FROM unnest(ARRAY['rf_grid', 'rfm_rules', 'two_tier']) map)),
    ('shop/segment_transitions', (SELECT string_agg(t::text, E'\n' ORDER BY t::text)
                                  FROM personalize.segment_transitions('rf_grid', '2025-07-01', '2026-01-01') t)),
    ('shop/cohorts', concat_ws(E'\n',
        (SELECT md5(string_agg(c::text, ',' ORDER BY c::text)) FROM personalize.first_time_customers('shop.customers', 'shop.orders') c),
        (SELECT md5(string_agg(c::text, ',' ORDER BY c::text)) FROM personalize.lapsed_customers('shop.orders', '2026-01-01', 90) c),
        (SELECT md5(string_agg(c::text, ',' ORDER BY c::text)) FROM personalize.recently_active_customers('shop.orders', '2026-01-01', 90) c),
        (SELECT md5(string_agg(c::text, ',' ORDER BY c::text)) FROM personalize.high_value_customers('shop.orders', '2026-01-01') c))),
    ('shop/rfm_scores', (SELECT md5(string_agg(s::text, E'\n' ORDER BY s.customer_id))
                         FROM personalize.rfm_scores('shop.customer_stats_rfm') s)),
    -- Suggestions.
    ('shop/popular_items', (SELECT string_agg(p::text, E'\n' ORDER BY p.score DESC, p.item_id)
                            FROM personalize.popular_items('shop.history', NULL, 5) p)),
    ('shop/suggestions', (SELECT string_agg(format('%s %s', c, s), E'\n' ORDER BY c, s.rank)
                          FROM generate_series(1, 3) c,
                               personalize.suggestions(c, 'shop.history', 'shop.similarities', 5) s)),
    ('shop/batch_suggestions', (SELECT md5(string_agg(s::text, E'\n' ORDER BY s.customer_id, s.rank))
                                FROM personalize.batch_suggestions(NULL, 'shop.history', 'shop.similarities', 5) s)),
    ('shop/ranking_metrics', (SELECT m::text FROM personalize.ranking_metrics(ARRAY[1, 2, 3, 4], ARRAY[2, 4, 9], 3) m)),
    -- Offers.
    ('shop/eligible_offers', (SELECT string_agg(format('%s: %s', c.name, e), E'\n' ORDER BY c.name, e.priority)
                              FROM contexts c, personalize.eligible_offers(c.context) e)),
    ('shop/eligible_offers by channel', (SELECT string_agg(format('%s %s: %s', c.name, ch, e.offer_key), E'\n'
                                                           ORDER BY c.name, ch, e.priority)
                                         FROM contexts c, unnest(ARRAY['web', 'email', 'exit']) ch,
                                              personalize.eligible_offers(c.context, ch) e)),
    ('shop/explain_offer', (SELECT string_agg(format('%s %s', o, x), E'\n' ORDER BY o, x.step)
                            FROM unnest(ARRAY['first_order', 'win_back', 'exit_save']) o,
                                 personalize.explain_offer(o, (SELECT context FROM contexts WHERE name = 'exit, big cart'),
                                                           'exit') x)),
    ('shop/offer_contexts', (SELECT md5(string_agg(c::text, E'\n' ORDER BY c.customer_id))
                             FROM personalize.offer_contexts('2026-01-01') c)),
    ('shop/offer_uplift', (SELECT string_agg(u::text, E'\n' ORDER BY u.offer_key) FROM personalize.offer_uplift() u)),
    ('shop/rules', concat_ws(E'\n', personalize.check_rule('cart.total >= 30 GBP and customer.orders = 0'),
                             personalize.rule_holds('cart.items > 1', '{"cart": {"items": [1, 2]}}'),
                             (SELECT md5(string_agg(f::text, E'\n' ORDER BY f.path)) FROM personalize.rule_fields() f),
                             personalize.holdout_draw(42, 'first_order_2026'),
                             personalize.normal_two_sided_p(1.96))),
    ('shop/customer_summary', (SELECT md5(string_agg(s::text, E'\n' ORDER BY s.customer_id))
                               FROM (SELECT customer_id, personalize.customer_summary(ordered_at, total::float8, '2026-01-01')
                                     FROM shop.orders WHERE status <> 'cancelled' GROUP BY customer_id) s)),
    ('shop/demo shop', (SELECT md5(string_agg(l::text, E'\n' ORDER BY l.order_id, l.line_no))
                        FROM personalize.demo_order_lines('tiny', 7) l))
) a(name, answer);

-- The shop's stored baskets and als_model, and the 0.1.0 library's values
-- as fill.sql loaded them.
\set values shop.stored
\set source 'shop values'
\ir value_answers.sql
\set values upgrade_check.fixture_stored
\set source 'fixture: 0.1.0 stored bytes'
\ir value_answers.sql
\set values upgrade_check.fixture_binary
\set source 'fixture: binary COPY of 0.1.0 values'
\ir value_answers.sql
\set values upgrade_check.fixture_text
\set source 'fixture: text COPY of 0.1.0 values'
\ir value_answers.sql
