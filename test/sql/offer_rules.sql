-- The offer rule language from SQL: check_rule (what the CHECK constraint on
-- offers.rule runs), rule_fields, rule_holds with three-valued logic, money
-- and currencies, timestamps, lists, and the exact errors.
SET client_min_messages = warning;
SET personalize.memory_limit = '128MB';  -- not the default (work_mem x hash_mem_multiplier): pass on any server
SET extra_float_digits = 0;
SET TimeZone = 'UTC';

\i test/sql/include/error_of.sql

-- Valid rules: the issue's examples.
SELECT personalize.check_rule('customer.orders = 0 and cart.total >= 30 GBP') AS first_order,
       personalize.check_rule('days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5') AS win_back,
       personalize.check_rule('session.exit_intent and cart.items > 0 and not session.offer_shown') AS exit_intent,
       personalize.check_rule('contains(cart.items, 123) or any_in(cart.categories, [''Phones'', ''Audio''])') AS lists,
       personalize.check_rule(E'customer.segment in [''Champions'', ''Loyal Customers''] -- a comment\n  and customer.email_opt_in')
           AS multi_line;

-- Invalid rules: line and column, what was found, what was expected.
SELECT pg_temp.error_of($$SELECT personalize.check_rule('customer.orders = 0 and')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('customer.ordrs = 0')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('cart.total >= 30')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('30 GBP < 40 EUR')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule(E'customer.orders = 0\n  and days_sinse(customer.last_order_at) > 90')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('customer.orders + 1')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('customer.segment = 5')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('(customer.orders = 0')$$);
SELECT pg_temp.error_of($$SELECT personalize.check_rule('')$$);
-- Limits: 4,000 bytes and 32 levels of nesting.
SELECT pg_temp.error_of(format('SELECT personalize.check_rule(%L)', 'customer.orders = 0' || repeat(' ', 4000)));
SELECT pg_temp.error_of(format('SELECT personalize.check_rule(%L)', repeat('(', 40) || 'true' || repeat(')', 40)));
SELECT personalize.check_rule(repeat('(', 10) || 'true' || repeat(')', 10)) AS nesting_10_is_fine;
SELECT personalize.check_rule(NULL) IS NULL AS null_rule_is_null;

-- The field catalogue.
SELECT count(*) > 30 AS many_fields,
       count(*) FILTER (WHERE path LIKE 'customer.%') > 10 AS customer_fields,
       count(*) FILTER (WHERE path LIKE '%attributes%') AS open_namespaces
FROM personalize.rule_fields();
SELECT path, type FROM personalize.rule_fields()
WHERE path IN ('customer.orders', 'cart.total', 'cart.items', 'session.exit_intent', 'customer.last_order_at', 'now')
ORDER BY path;

-- Evaluation: true / false / NULL (unknown).
CREATE TEMP TABLE ctx (name text PRIMARY KEY, context jsonb);
INSERT INTO ctx VALUES
    ('new shopper',  '{"customer": {"orders": 0}, "cart": {"total": 42.50, "items": [1, 2]}, "currency": "GBP"}'),
    ('small cart',   '{"customer": {"orders": 0}, "cart": {"total": "12.00 GBP", "items": [1]}}'),
    ('regular',      '{"customer": {"orders": 7, "last_order_at": "2025-06-01T10:00:00+00:00", "p_alive": 0.31},
                       "now": "2025-12-01T00:00:00Z"}'),
    ('lapsing',      '{"customer": {"orders": 3, "last_order_at": "2025-08-01", "p_alive": 0.6},
                       "now": "2025-12-01T00:00:00Z"}'),
    ('no p_alive',   '{"customer": {"orders": 3, "last_order_at": "2025-06-01"}, "now": "2025-12-01T00:00:00Z"}'),
    ('euro cart',    '{"customer": {"orders": 0}, "cart": {"total": {"amount": 50, "currency": "EUR"}}}'),
    ('empty',        '{}');
SELECT name,
       personalize.rule_holds('customer.orders = 0 and cart.total >= 30 GBP', context) AS first_order,
       personalize.rule_holds('days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5', context) AS win_back,
       personalize.rule_holds('cart.items > 0', context) AS has_items,
       personalize.rule_holds('coalesce(customer.p_alive, 1) < 0.5', context) AS low_p_alive,
       personalize.rule_holds('customer.p_alive is null', context) AS p_alive_missing
FROM ctx WHERE name <> 'euro cart' ORDER BY name;
-- Kleene logic: unknown and false = false, unknown or true = true.
SELECT personalize.rule_holds('customer.p_alive < 0.5 and false', '{}') AS unknown_and_false,
       personalize.rule_holds('customer.p_alive < 0.5 or true', '{}') AS unknown_or_true,
       personalize.rule_holds('not (customer.p_alive < 0.5)', '{}') AS not_unknown;
-- A 10,000-item cart.
SELECT personalize.rule_holds('contains(cart.items, 9999) and not contains(cart.items, 10001) and count(cart.items) = 10000',
                              jsonb_build_object('cart', jsonb_build_object('items', (SELECT jsonb_agg(i) FROM generate_series(0, 9999) i))))
    AS big_cart;
-- Many strings (the tree of a context grows while it is built): every one is read right.
SELECT personalize.rule_holds('all_in(cart.categories, [''Books'']) and customer.segment = ''Champions''',
                              jsonb_build_object('cart', jsonb_build_object('categories', (SELECT jsonb_agg('Books'::text) FROM generate_series(1, 300) i)),
                                                 'customer', jsonb_build_object('segment', 'Champions'))) AS many_strings;
-- Money in another currency is an error, not a guess.
SELECT pg_temp.error_of($$SELECT personalize.rule_holds('cart.total >= 30 GBP', context) FROM ctx WHERE name = 'euro cart'$$);
-- Money without a currency, a value of the wrong type, a bad timestamp.
SELECT pg_temp.error_of($$SELECT personalize.rule_holds('cart.total >= 30 GBP', '{"cart": {"total": 42}}')$$);
SELECT pg_temp.error_of($$SELECT personalize.rule_holds('customer.orders = 0', '{"customer": {"orders": "none"}}')$$);
SELECT pg_temp.error_of($$SELECT personalize.rule_holds('days_since(customer.last_order_at) > 1', '{"customer": {"last_order_at": "yesterday"}}')$$);
-- A rule error from rule_holds is the compile error.
SELECT pg_temp.error_of($$SELECT personalize.rule_holds('customer.orders = ', '{}')$$);
SELECT personalize.rule_holds(NULL, '{}') IS NULL AS null_rule, personalize.rule_holds('true', NULL) IS NULL AS null_context;

-- The open namespaces: types follow from use.
SELECT personalize.rule_holds('customer.attributes.loyalty_points >= 100 and customer.attributes.tier = ''gold''',
                              '{"customer": {"attributes": {"loyalty_points": 120, "tier": "gold"}}}') AS attributes;
SELECT pg_temp.error_of($$SELECT personalize.check_rule('customer.attributes.a = customer.attributes.b')$$);

-- Same rule, many rows: compiled once per call site.
SELECT count(*) FILTER (WHERE personalize.rule_holds('customer.orders >= 5', jsonb_build_object('customer', jsonb_build_object('orders', i)))) AS holds,
       count(*) AS rows
FROM generate_series(1, 1000) i;

-- Holdout draws: fixed, and about the share asked for.
SELECT round(personalize.holdout_draw(42, 'first_order')::numeric, 6) AS draw_42,
       round(personalize.holdout_draw(1, 'x')::numeric, 6) AS draw_1;
SELECT count(*) FILTER (WHERE personalize.holdout_draw(i, 'win_back') < 0.1) BETWEEN 900 AND 1100 AS about_ten_percent
FROM generate_series(1, 10000) i;
SELECT round(personalize.normal_two_sided_p(1.959964)::numeric, 4) AS p_at_1_96, personalize.normal_two_sided_p(0) AS p_at_0;
-- Symmetric in z; infinite z: p = 0; NaN in, NaN out; NULL in, NULL out (strict).
SELECT personalize.normal_two_sided_p(-1.959964) = personalize.normal_two_sided_p(1.959964) AS symmetric,
       personalize.normal_two_sided_p('Infinity') AS p_at_infinity, personalize.normal_two_sided_p('-Infinity') AS p_at_minus_infinity,
       personalize.normal_two_sided_p('NaN') AS p_at_nan, personalize.normal_two_sided_p(NULL) IS NULL AS null_gives_null;
-- Any customer id and key draw a value in [0, 1); NULLs give NULL.
SELECT personalize.holdout_draw(-9223372036854775808, '') BETWEEN 0 AND 1 AS extreme_id_and_empty_key,
       personalize.holdout_draw(NULL, 'x') IS NULL AS null_customer, personalize.holdout_draw(1, NULL) IS NULL AS null_key;

SELECT personalize.live_cpp_objects() AS live_cpp_objects;

-- Numbers in contexts are read from jsonb's numeric digits directly: they
-- must equal numeric::float8 exactly (integers, decimals, tiny and huge
-- values, negatives, long mantissas that take PostgreSQL's own conversion).
CREATE TEMP TABLE numbers AS
SELECT v FROM (VALUES (0::numeric), (-0.0), (1), (-1), (42.50), (12.99), (0.1), (0.3), (1e-22), (123456789012345),
                      (1234567890123456789), (9007199254740993), (-0.000123456789), (1e22), (1e23), (3.14159265358979323846),
                      (99999999.9999), (0.00001), (-77777.7777)) t(v)
UNION ALL
SELECT ((i * 7919) % 100003 - 50000)::numeric * 10::numeric ^ (i % 12) / 10::numeric ^ (i % 19)
FROM generate_series(1, 2000) i;
SET extra_float_digits = 1;  -- shortest exact text of each double, as the rule literal
SELECT count(*) AS numbers,
       count(*) FILTER (WHERE personalize.rule_holds(format('customer.attributes.x = %s', v::float8),
                                                    jsonb_build_object('customer', jsonb_build_object('attributes', jsonb_build_object('x', v)))))
           AS equal_to_float8
FROM numbers;
SET extra_float_digits = 0;
