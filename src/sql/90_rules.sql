-- The offer rule language in SQL (docs/offer_rules.md): checking a rule,
-- the fields it can read, and evaluating one rule against a context.

-- The rule language -----------------------------------------------------------

-- Parses and type-checks a rule; raises the error (with line:column) when it
-- is not valid, returns true otherwise. Used by the CHECK constraint on
-- offers.rule. Immutable: the language is fixed for a library version.
CREATE FUNCTION check_rule(rule text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_check_rule'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION check_rule(text) IS
    'true when an offer rule parses and type-checks; otherwise raises the error with line and column';

-- The currencies of a rule's money literals, sorted and distinct
-- ('cart.total >= 30 GBP' -> {GBP}); a reward's currency must match them
-- (CHECK offers_reward_currency).
CREATE FUNCTION rule_currencies(rule text) RETURNS text[]
    AS 'MODULE_PATHNAME', 'personalize_rule_currencies'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rule_currencies(text) IS 'the currencies of an offer rule''s money literals, sorted and distinct';

-- Whether a code is an ISO 4217 currency as rules write it (GBP, EUR, XAU;
-- not gbp, not ZZZ). Immutable: the list is fixed for a library version.
CREATE FUNCTION is_currency(code text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_is_currency'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION is_currency(text) IS 'true for an ISO 4217 currency code in upper case (the codes offer rules accept)';

-- The fields a rule can read (the open namespaces customer.attributes.*,
-- cart.attributes.* and session.attributes.* are listed as such).
CREATE FUNCTION rule_fields()
    RETURNS TABLE (path text, type text, description text)
    AS 'MODULE_PATHNAME', 'personalize_rule_fields'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50;
COMMENT ON FUNCTION rule_fields() IS 'the context fields the offer rule language knows, with their types';

-- Evaluates one rule against a context: true, false, or NULL when the rule
-- is unknown (a field it needs is missing); NULL rule or context: NULL.
-- "now" is the context's "now", else statement_timestamp(). Compiled rules
-- are cached per backend.
CREATE FUNCTION rule_holds(rule text, context jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'personalize_rule_holds'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rule_holds(text, jsonb) IS
    'evaluates an offer rule against a context: true, false or NULL (unknown)';
