-- One offer row can stop every decision (issue 17, item 6): the catalogue's
-- CHECKs reject what cannot work, and an offer that cannot be evaluated for
-- a context is not eligible (with the reason in explain_offer and a WARNING
-- once per session) instead of failing every call.
SET client_min_messages = warning;
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET personalize.memory_limit = '64MB';

\i test/sql/include/error_of.sql

CREATE SCHEMA hshop;
CREATE TABLE hshop.orders (customer_id bigint, ordered_at timestamptz, status text, total numeric);
INSERT INTO hshop.orders VALUES (1, '2025-11-01', 'completed', 40), (2, '2025-12-01', 'completed', 80);
SELECT personalize.configure_offer_context('hshop.orders', currency => 'GBP');

-- CHECKs: a cap that makes now - cap_interval overflow, an absurd count,
-- a currency that is no ISO 4217 code, a reward in another currency than the rule's.
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval)
                          VALUES ('h11', 'true', 5, 2147483647, '1000000 years')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval)
                          VALUES ('h12', 'true', 5, 1, '1000000 years')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval)
                          VALUES ('h13', 'true', 5, 2147483647, '1 day')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, amount_off, currency)
                          VALUES ('h14', 'true', 5, 'ZZZ')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, amount_off, currency)
                          VALUES ('h15', 'true', 5, 'gbp')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, amount_off, currency)
                          VALUES ('h16', 'cart.total >= 30 GBP', 5, 'USD')$$);
SELECT pg_temp.error_of($$INSERT INTO personalize.offers (offer_key, rule, amount_off, currency)
                          VALUES ('h17', 'cart.total >= 30 GBP or cart.total >= 40 EUR', 5, 'GBP')$$);
SELECT pg_temp.error_of($$SELECT personalize.configure_offer_context('hshop.orders', currency => 'ZZZ')$$);
-- What can work is accepted: the longest cap, a reward in the rule's currency, a cap of a million.
INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval, priority)
    VALUES ('ever_once', 'true', 5, 1, '100 years', 50);
INSERT INTO personalize.offers (offer_key, rule, amount_off, currency, priority)
    VALUES ('five_off_gbp', 'cart.total >= 30 GBP', 5, 'GBP', 20);
INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval, priority, stacking)
    VALUES ('many', 'true', 1, 1000000, '1 day', 60, 'stackable');
SELECT personalize.rule_currencies('cart.total >= 30 GBP and cart.total - 5 GBP < 100 GBP or cart.total in [1 EUR, 2 EUR]'),
       personalize.rule_currencies('true'), personalize.is_currency('GBP'), personalize.is_currency('ZZZ'),
       personalize.is_currency('gbp'), personalize.is_currency('XAU');

-- One active offer in EUR: GBP decisions go on without it.
INSERT INTO personalize.offers (offer_key, rule, percent_off, priority, stacking)
    VALUES ('eur_only', 'cart.total >= 30 EUR', 10, 10, 'stackable');
SELECT offer_key, reason FROM personalize.eligible_offers('{"cart": {"total": 45}, "currency": "GBP"}', 'web')
ORDER BY offer_key;
SELECT offer_key, reason FROM personalize.eligible_offers('{"cart": {"total": 45}, "currency": "EUR"}', 'web')
ORDER BY offer_key;
SELECT offer_key, reason FROM personalize.decide_offer(1, '{"total": 45}', '{}', 'web') ORDER BY offer_key;
SELECT offer_key, reason FROM personalize.decide_offer(1, '{"total": 45}', '{}', 'web') ORDER BY offer_key;
SELECT step, "check", condition, value, result
FROM personalize.explain_offer('eur_only', '{"cart": {"total": 45}, "currency": "GBP"}', 'web')
WHERE "check" <> 'validity';
-- An amount off in USD on a rule without money literals passes the CHECK,
-- but is given only to carts in USD.
INSERT INTO personalize.offers (offer_key, rule, amount_off, currency, priority, stacking)
    VALUES ('usd_off', 'cart.items > 0', 5, 'USD', 30, 'stackable');
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": 45, "items": [1]}, "currency": "GBP"}', 'web')
ORDER BY offer_key;
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": "45 usd", "items": [1]}}', 'web') ORDER BY offer_key;
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": {"amount": 45, "currency": "USD"}, "items": [1]}, "currency": "GBP"}', 'web')
ORDER BY offer_key;
SELECT offer_key FROM personalize.decide_offer(1, '{"total": 45, "items": [1]}', '{}', 'web') ORDER BY offer_key;
SELECT step, "check", condition, value, result
FROM personalize.explain_offer('usd_off', '{"cart": {"total": 45, "items": [1]}, "currency": "GBP"}', 'web')
WHERE "check" IN ('currency', 'eligible');
SELECT step, "check", condition, value, result
FROM personalize.explain_offer('usd_off', '{"cart": {"items": [1], "currency": "usd"}}', 'web')
WHERE "check" IN ('currency', 'eligible');
DELETE FROM personalize.offers WHERE offer_key = 'usd_off';

-- A malformed context is still the caller's error.
SELECT pg_temp.error_of($$SELECT * FROM personalize.eligible_offers('{"cart": {"total": "lots"}, "currency": "GBP"}')$$);

-- The WARNING came once per session and offer: not again.
DO $$
BEGIN
    PERFORM * FROM personalize.eligible_offers('{"cart": {"total": 45}, "currency": "GBP"}', 'web');
END $$;

-- A row stored before these CHECKs (as an upgrade from 0.1.0 keeps it, the
-- constraint NOT VALID): decisions go on, the huge cap counts every decision.
ALTER TABLE personalize.offers DROP CONSTRAINT offers_cap;
INSERT INTO personalize.offers (offer_key, rule, percent_off, cap_count, cap_interval, priority, stacking)
    VALUES ('h11', 'true', 5, 2147483647, '1000000 years', 70, 'stackable');
SELECT offer_key FROM personalize.decide_offer(2, '{"total": 45}', '{}', 'web') ORDER BY offer_key;
SELECT step, "check", condition, value, result
FROM personalize.explain_offer('h11', '{"customer": {"id": 2}, "cart": {"total": 45}, "currency": "GBP"}', 'web')
WHERE "check" = 'frequency cap';
DELETE FROM personalize.offers WHERE offer_key = 'h11';
ALTER TABLE personalize.offers ADD CONSTRAINT offers_cap
    CHECK ((cap_count IS NULL) = (cap_interval IS NULL) AND cap_count BETWEEN 1 AND 1000000
           AND cap_interval > interval '0' AND cap_interval <= interval '100 years');

-- A stored rule that does not compile (as a rule kept from another version
-- would): that offer is left out, the others still decided.
ALTER TABLE personalize.offers DROP CONSTRAINT offers_rule_valid;
INSERT INTO personalize.offers (offer_key, rule, percent_off, priority, stacking)
    VALUES ('broken', 'cart.total >=', 5, 5, 'stackable');
SELECT offer_key FROM personalize.eligible_offers('{"cart": {"total": 45}, "currency": "GBP"}', 'web') ORDER BY offer_key;
SELECT offer_key FROM personalize.decide_offer(2, '{"total": 45}', '{}', 'web') ORDER BY offer_key;
SELECT step, "check", value, result FROM personalize.explain_offer('broken', '{}', 'web') WHERE "check" IN ('rule', 'eligible');
DELETE FROM personalize.offers WHERE offer_key = 'broken';
ALTER TABLE personalize.offers ADD CONSTRAINT offers_rule_valid CHECK (personalize.check_rule(rule));

-- A customers view that holds a customer twice (a join without a key):
-- decide_offer refuses to decide on an arbitrary one of the rows.
CREATE VIEW hshop.customers_twice AS
SELECT c.customer_id, c.country FROM (VALUES (1::bigint, 'GB'), (2, 'GB'), (2, 'FR')) c (customer_id, country);
SELECT personalize.configure_offer_context('hshop.orders', 'hshop.customers_twice', currency => 'GBP');
SELECT count(*) AS decided_once FROM personalize.decide_offer(1, '{"total": 45}', '{}', 'web');
SELECT pg_temp.error_of($$SELECT * FROM personalize.decide_offer(2, '{"total": 45}', '{}', 'web')$$);

SELECT personalize.live_cpp_objects() AS live_at_end;
DELETE FROM personalize.offers;
DELETE FROM personalize.offer_log;
DELETE FROM personalize.offer_customer_lock;
DELETE FROM personalize.offer_context_source;
DROP SCHEMA hshop CASCADE;
