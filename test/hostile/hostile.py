#!/usr/bin/python3
"""Catalogue-driven hostile-input test of pg_personalize (issue 17, build item 2).

Reads every function and aggregate of schema personalize from pg_proc and calls
each with hostile values per argument type (NULL, empty, NaN, +-Infinity,
extremes, nested and oversized arrays, malformed jsonb models, mutated text and
binary forms of the extension's own types and of real models), one argument at
a time with plausible values in the others, then random combinations while
the time budget lasts. Every call runs in a transaction that is rolled back,
under statement_timeout 2 s. A call FAILs when the backend crashes (the
connection is lost), when it ends with SQLSTATE XX000, or when it outlives the
timeout. A new function is covered without anyone writing a case for it.

Prints one "PASS hostile NAME(ARGS)" / "FAIL hostile NAME(ARGS): ..." line per
function and aggregate. Run inside scripts/with-temp-cluster.sh (PG* set):
    test/hostile/run.sh [SECONDS]        (default 100: the whole run stays near 2 minutes)
HOSTILE_SELFTEST=1 adds three functions that must FAIL (a crash, an XX000, a hang).
"""
import json
import os
import random
import sys
import threading
import time

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

TIMEOUT_MS = 2000
OUTLIVED_S = 4.0  # a call that has not returned by then ignored the timeout (2 s of slack for a loaded machine)
PER_FUNCTION_S = 6.0  # the one-argument-at-a-time pass of one function stops here
BUDGET_S = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
STARTED = time.monotonic()
DEBUG = bool(os.environ.get("HOSTILE_DEBUG"))
rng = random.Random(17)


def connect():
    for _ in range(60):
        try:
            return psycopg.connect("", autocommit=True)
        except psycopg.OperationalError:
            time.sleep(0.5)  # the server restarts after a crash
    raise SystemExit("FAIL hostile: cannot connect to the server")


# ---------------------------------------------------------------- fixtures

FIXTURES = r"""
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_personalize;
DROP SCHEMA IF EXISTS hostile CASCADE;
DROP SCHEMA IF EXISTS hostile_shop CASCADE;
CREATE SCHEMA hostile;
SELECT count(*) FROM personalize.load_demo_shop('hostile_shop', 'tiny', 1);
CREATE VIEW hostile.history AS
    SELECT o.customer_id, l.product_id AS item_id, o.ordered_at AS bought_at
    FROM hostile_shop.orders o JOIN hostile_shop.order_lines l USING (order_id) WHERE o.status = 'completed';
CREATE TABLE hostile.bk AS SELECT personalize.baskets(order_id, product_id) AS b FROM hostile_shop.order_lines;
CREATE TABLE hostile.rules AS
    SELECT r.* FROM personalize.association_rules((SELECT b FROM hostile.bk), min_support => 0.005, min_len => 1) r;
CREATE TABLE hostile.sims AS
    SELECT * FROM personalize.item_similarities(
        (SELECT personalize.baskets(customer_id, item_id) FROM hostile.history), 'cosine', 5, 2);
CREATE TABLE hostile.popular AS SELECT 'all'::text AS segment, item AS item_id, 1.0::float8 AS score
    FROM hostile.sims WHERE item = neighbour LIMIT 50;
CREATE VIEW hostile.items AS SELECT product_id AS item_id, category, false AS rebuyable FROM hostile_shop.products;
CREATE TABLE hostile.customer_ids AS SELECT customer_id, 'all'::text AS segment FROM hostile_shop.customers LIMIT 50;
CREATE TABLE hostile.cbs AS
    SELECT customer_id, (personalize.customer_summary(ordered_at, total::float8, '2026-01-01', '1 week')).*
    FROM hostile_shop.orders WHERE status = 'completed' GROUP BY customer_id;
CREATE TABLE hostile.als AS
    SELECT personalize.als_fit(customer_id, item_id, 1.0, 4, 2, 0.5, 5, 1) AS m FROM hostile.history;
CREATE TABLE hostile.models (kind text PRIMARY KEY, m jsonb);
INSERT INTO hostile.models
    SELECT 'bgnbd', personalize.bgnbd_fit(frequency, recency, age) FROM hostile.cbs
    UNION ALL SELECT 'pareto_nbd', personalize.pareto_nbd_fit(frequency, recency, age) FROM hostile.cbs
    UNION ALL SELECT 'gamma_gamma', personalize.gamma_gamma_fit(frequency, monetary) FROM hostile.cbs WHERE frequency > 0
    UNION ALL SELECT 'kmeans', personalize.kmeans(ARRAY[frequency, recency], 3, 1) FROM hostile.cbs
    UNION ALL SELECT 'logistic', personalize.logistic_fit(frequency > 1, ARRAY[recency, age]) FROM hostile.cbs
    UNION ALL SELECT 'rfm', personalize.rfm_breakpoints(recency, frequency, monetary) FROM hostile.cbs;
CREATE TABLE hostile.recs AS SELECT customer_id, ARRAY[1, 2, 3]::bigint[] AS recommended FROM hostile.customer_ids;
CREATE TABLE hostile.relevant AS SELECT customer_id, ARRAY[2, 5]::bigint[] AS relevant FROM hostile.customer_ids;
CREATE TABLE hostile.scores AS SELECT customer_id, 3 AS r, 3 AS f, 3 AS m FROM hostile.customer_ids;
-- Right column names, wrong types; no rows; no columns at all.
CREATE TABLE hostile.wrong (antecedent text, consequent text, certainty text, consequent_support text,
    customer_id text, item_id text, bought_at text, item text, neighbour text, score text, together text,
    segment int, category int, rebuyable text, recommended text, relevant text, r text, f text, m text,
    ordered_at text, total text, status int, order_id text);
INSERT INTO hostile.wrong SELECT 'x', 'y', 'z', 'w', 'c', 'i', 'b', 'i', 'n', 's', 't', 1, 2, 'r', 'a', 'b',
    'r', 'f', 'm', 'o', 't', 3, 'o';
CREATE TABLE hostile.empty (LIKE hostile.rules);
CREATE TABLE hostile.g AS SELECT g FROM generate_series(1, 2000) g;
-- Values as stored in tables: out of line (TOAST pointers) and compressed.
CREATE TABLE hostile.stored_ext (i bigint[], f float8[], j jsonb, t text, a text[]);
ALTER TABLE hostile.stored_ext ALTER i SET STORAGE EXTERNAL, ALTER f SET STORAGE EXTERNAL,
    ALTER j SET STORAGE EXTERNAL, ALTER t SET STORAGE EXTERNAL, ALTER a SET STORAGE EXTERNAL;
INSERT INTO hostile.stored_ext SELECT ARRAY(SELECT generate_series(1, 100000)::bigint),
    ARRAY(SELECT g / 7.0 FROM generate_series(1, 100000) g), (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g),
    repeat('x', 100000), array_fill('x'::text, ARRAY[5000]);
CREATE TABLE hostile.stored_zip AS SELECT array_fill(7::bigint, ARRAY[100000]) AS i, array_fill(1::float8, ARRAY[100000]) AS f,
    (SELECT jsonb_object_agg('k' || (g % 3), g) FROM generate_series(1, 20000) g) AS j, repeat('x', 100000) AS t,
    array_fill('x'::text, ARRAY[5000]) AS a;
INSERT INTO hostile.stored_ext (j) SELECT m FROM hostile.models WHERE kind = 'kmeans';
ANALYZE hostile.g;
SELECT personalize.configure_offer_context('hostile_shop.orders', 'hostile_shop.customers');
DELETE FROM personalize.offers WHERE offer_key LIKE 'hostile%';
INSERT INTO personalize.offers (offer_key, rule, percent_off) VALUES
    ('hostile_a', 'cart.total >= 1 GBP', 5), ('hostile_b', 'true', 10);
CREATE TABLE hostile.nocolumns ();
"""


# HOSTILE_SELFTEST=1: three functions that must FAIL, to show the checks work.
SELFTEST = r"""
CREATE FUNCTION personalize.zz_selftest_crash(x integer) RETURNS integer LANGUAGE sql
    AS 'SELECT pg_terminate_backend(pg_backend_pid())::integer';
CREATE FUNCTION personalize.zz_selftest_internal(x integer) RETURNS integer LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'internal' USING ERRCODE = 'XX000'; END$$;
CREATE FUNCTION personalize.zz_selftest_hang(x integer) RETURNS integer LANGUAGE plpgsql
    AS $$BEGIN PERFORM pg_sleep(3); RETURN 1; EXCEPTION WHEN query_canceled THEN PERFORM pg_sleep(3); RETURN 1; END$$;
"""


def setup(conn):
    with conn.cursor() as cur:
        cur.execute(FIXTURES)
        cur.execute("DROP FUNCTION IF EXISTS personalize.zz_selftest_crash(integer), "
                    "personalize.zz_selftest_internal(integer), personalize.zz_selftest_hang(integer)")
        if os.environ.get("HOSTILE_SELFTEST"):
            cur.execute(SELFTEST)
        cur.execute("SELECT oid, typname FROM pg_type WHERE typnamespace = 'personalize'::regnamespace")
        own_types = {name: oid for oid, name in cur.fetchall()}
        cur.execute("SELECT kind, m::text FROM hostile.models")
        models = dict(cur.fetchall())
        cur.execute("SELECT personalize.baskets_send(b), b::text FROM hostile.bk")
        baskets_bytes, baskets_text = cur.fetchone()
        cur.execute("SELECT personalize.als_model_send(m), m::text FROM hostile.als")
        als_bytes, als_text = cur.fetchone()
    return own_types, models, (bytes(baskets_bytes), baskets_text), (bytes(als_bytes), als_text)


def lit(text):
    return "'" + text.replace("'", "''") + "'"


B = "\x01b"  # where a binary parameter goes (%b once the statement's own % are escaped)


class Value:
    """One argument: a SQL expression, and the binary parameters it uses (B)."""

    def __init__(self, sql, params=()):
        self.sql, self.params = sql, tuple(params)


# ------------------------------------------------------- mutations of real values

def mutate_bytes(data, count):
    out = []
    for i in range(count):
        b = bytearray(data)
        kind = i % 6
        if kind == 0 and len(b) > 1:
            b = b[: rng.randrange(len(b))]  # truncated
        elif kind == 1:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)  # flipped bytes
        elif kind == 2 and len(b) > 16:
            at = rng.randrange(8, len(b) - 8)
            b[at:at + 8] = b"\xff" * 8  # a huge count or offset
        elif kind == 3:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))  # trailing bytes
        elif kind == 4 and len(b) > 16:
            at = rng.randrange(8, len(b) - 8)
            b[at:at + 8] = b"\x00" * 8  # a zero count
        else:
            b[rng.randrange(min(len(b), 8))] ^= 0x01  # the header
        out.append(bytes(b))
    return out


def mutate_text(text, count):
    out = []
    digits = "0123456789"
    for i in range(count):
        t = text
        kind = i % 6
        if kind == 0 and len(t) > 1:
            t = t[: rng.randrange(len(t))]
        elif kind == 1 and t:
            at = rng.randrange(len(t))
            t = t[:at] + rng.choice("{}[]:,;-x \\\"9") + t[at + 1:]
        elif kind == 2:
            at = rng.randrange(len(t) + 1)
            t = t[:at] + "99999999999999999999" + t[at:]
        elif kind == 3 and t:
            at = rng.randrange(len(t))
            if t[at] in digits:
                t = t[:at] + "-" + t[at:]
        elif kind == 4:
            t = t + t
        else:
            t = t[: len(t) // 2] + "\\x" + t[len(t) // 2:]
        out.append(t)
    return out


def json_leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from json_leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from json_leaves(v, path + (i,))
    yield path


def json_replace(node, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(node))
    target = copy
    for p in path[:-1]:
        target = target[p]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def mutate_json(text, count):
    model = json.loads(text)
    paths = [p for p in json_leaves(model) if p]
    replacements = [-1, 0, -0.0, 1e308, -1e308, 1e-308, 5e-324, 1e300, "x", None, [], {}, [1e308] * 3,
                    True, 2 ** 63, KeyError]
    out = []
    for _ in range(count):
        path = rng.choice(paths)
        value = rng.choice(replacements)
        if value is KeyError and isinstance(path[-1], int):
            value = None
        out.append(json.dumps(json_replace(model, path, value)))
    return out


# ------------------------------------------------------------ values per type

INT4 = ["NULL", "0", "-1", "1", "2147483647", "-2147483648"]
INT8 = ["NULL", "0", "-1", "9223372036854775807", "-9223372036854775808"]
FLOAT8 = ["NULL", "0", "-1", "'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "1e308", "-1e308", "1e-308",
          "4.9e-324", "1e9"]
BIG_BIGINT = "ARRAY(SELECT generate_series(1, 1000000)::bigint)"
BIG_FLOAT = "array_fill(1::float8, ARRAY[1000000])"


def type_values(t, own, samples):
    """Hostile SQL values for a type (format_type spelling)."""
    if t in ("integer", "smallint"):
        return [Value(v + "::" + t) for v in INT4]
    if t == "bigint":
        return [Value(v + "::bigint") for v in INT8]
    if t in ("double precision", "real", "numeric"):
        return [Value(v + "::" + t) for v in FLOAT8]
    if t == "boolean":
        return [Value(v + "::boolean") for v in ("NULL", "true", "false")]
    if t in ("text", "name", "cstring"):
        words = ["", " ", "x", "bgnbd", "pareto_nbd", "gamma_gamma", "cosine", "jaccard", "tiny", "bench", "huge",
                 "rf_grid", "cholesky", "cg", "zscore", "web", "ZZZ", "GBP", "cart.total >= 30 EUR", "true",
                 "(" * 3000 + "true" + ")" * 3000, "not " * 5000 + "true", "é\u2028\U0001F600", "hostile_x",
                 "personalize", "pg_catalog", "hostile.rules"]
        vals = [Value("NULL::" + t)] + [Value(lit(w) + "::" + t) for w in words]
        vals.append(Value("repeat('x', 100000)::" + t))
        if t == "text":
            vals += [Value("(SELECT t FROM hostile.stored_ext WHERE i IS NOT NULL)"), Value("(SELECT t FROM hostile.stored_zip)")]
        if t == "cstring":  # input functions: the text forms of the extension's values, mutated
            for text in samples["cstrings"]:
                vals.append(Value(lit(text) + "::cstring"))
        return vals
    if t == "jsonb":
        vals = [Value(v + "::jsonb") for v in
                ("NULL", "'{}'", "'[]'", "'null'", "'1'", "'\"s\"'", "'{\"model\": \"bgnbd\"}'",
                 "'{\"model\": \"bgnbd\", \"params\": {}}'", "'{\"cart\": {\"total\": \"30 EUR\"}}'",
                 "(repeat('[', 2000) || repeat(']', 2000))", "(SELECT jsonb_agg(g) FROM generate_series(1, 100000) g)")]
        vals += [Value(lit(m) + "::jsonb") for m in samples["models"]]
        vals += [Value(lit(m) + "::jsonb") for m in samples["mutated_models"]]
        vals += [Value("(SELECT j FROM hostile.stored_ext WHERE i IS NOT NULL)"), Value("(SELECT j FROM hostile.stored_zip)"),
                 Value("(SELECT j FROM hostile.stored_ext WHERE i IS NULL)")]
        return vals
    if t == "double precision[]":
        return [Value(v + "::float8[]") for v in
                ("NULL", "'{}'", "'{NULL}'", "'{NaN}'", "'{Infinity,-Infinity}'", "'{{1,2},{3,4}}'",
                 "'[0:1]={1,2}'", "'{1e308,1e308}'", "'{1,1,1,1}'", "'{-1,1,1,1}'", "'{1e-300,1e300,1e-300,1e300}'",
                 "'{1,NULL,1,1}'", BIG_FLOAT, "(SELECT f FROM hostile.stored_ext WHERE i IS NOT NULL)",
                 "(SELECT f FROM hostile.stored_zip)")]
    if t == "bigint[]":
        return [Value(v + "::bigint[]") for v in
                ("NULL", "'{}'", "'{NULL}'", "'{NULL,1}'", "'{{1,2},{3,4}}'", "'[5:6]={1,2}'",
                 "'{-9223372036854775808,9223372036854775807}'", "'{1,1,1,1}'", BIG_BIGINT,
                 "array_fill(7::bigint, ARRAY[1000000])", "(SELECT i FROM hostile.stored_ext WHERE i IS NOT NULL)",
                 "(SELECT i FROM hostile.stored_zip)")]
    if t == "text[]":
        return [Value(v + "::text[]") for v in
                ("NULL", "'{}'", "'{NULL}'", "'{\"\"}'", "'{{a,b},{c,d}}'", "array_fill('x'::text, ARRAY[100000])",
                 "(SELECT a FROM hostile.stored_ext WHERE i IS NOT NULL)", "(SELECT a FROM hostile.stored_zip)")]
    if t == "timestamp with time zone":
        return [Value(v + "::timestamptz") for v in
                ("NULL", "'infinity'", "'-infinity'", "'4713-01-01 00:00:00+00 BC'", "'294276-12-31 23:59:59+00'",
                 "'2026-01-01'")]
    if t == "date":
        return [Value(v + "::date") for v in ("NULL", "'infinity'", "'-infinity'", "'4713-01-01 BC'", "'5874897-12-31'")]
    if t == "interval":
        return [Value(v + "::interval") for v in
                ("NULL", "'0'", "'-1 day'", "'1 microsecond'", "'178000000 years'", "'-178000000 years'", "'1 mon'")]
    if t == "regclass":
        return [Value(v + "::regclass") for v in
                ("NULL", "'pg_class'", "'hostile.rules'", "'hostile.sims'", "'hostile.history'", "'hostile.wrong'",
                 "'hostile.empty'", "'hostile.nocolumns'", "'hostile_shop.orders'", "'hostile.cbs'",
                 "0::oid", "4294967295::oid")]
    if t == "bytea":
        vals = [Value(v + "::bytea") for v in ("NULL", "'\\x'", "'\\x00'", "('\\x' || repeat('ff', 1000))")]
        vals += [Value(B + "::bytea", [b]) for b in samples["bytes"]]
        return vals
    if t in ("personalize.baskets", "personalize.als_model"):
        kind = "baskets" if t.endswith("baskets") else "als"
        data, text = samples[kind]
        cls = own[t]
        vals = [Value("NULL::" + t), Value(B + "::" + t, [cls(data)]), Value(lit(text) + "::" + t)]
        vals += [Value(B + "::" + t, [cls(b)]) for b in mutate_bytes(data, 12)]
        vals += [Value(lit(x) + "::" + t) for x in mutate_text(text, 8)]
        if kind == "baskets":
            vals += [Value("'{}'::" + t), Value("personalize.merge_baskets(" + lit(text) + "::" + t + ", '{}')")]
        return vals
    if t == "internal":
        return [Value("NULL")]  # no SQL value has type internal; NULL reaches the function
    return [Value("NULL::" + t)]  # any other type: only NULL can be written


# Plausible values (by argument name, then type) for the arguments not under test.
GOOD_BY_NAME = {
    "model": None, "spend_model": "(SELECT m FROM hostile.models WHERE kind = 'gamma_gamma')",
    "breakpoints": "(SELECT m FROM hostile.models WHERE kind = 'rfm')",
    "context": "'{}'::jsonb", "cart": None, "session": "'{}'::jsonb",
    "rules": "'hostile.rules'::regclass", "similarities": "'hostile.sims'::regclass",
    "history": "'hostile.history'::regclass", "items": None, "popular": "NULL::regclass",
    "customers": None, "orders": "'hostile_shop.orders'::regclass", "recommendations": "'hostile.recs'::regclass",
    "relevant": None, "scores": None, "segments": "NULL::regclass", "features": None,
    "measure": "'cosine'", "size": "'tiny'", "map": "'rf_grid'", "rule": "'cart.total >= 1 GBP'",
    "channel": "'web'", "solver": "'cg'", "scaling": "NULL::text", "segment": "NULL::text", "offer_key": "'hostile_a'",
    "experiment_key": "'e'", "currency": "'GBP'", "fn": "'f'", "arg": "'a'", "alias": "'o'",
    "k": "3", "n": "3", "factors": "2", "iterations": "2", "bins": "5", "draws": "20", "periods": "3",
    "max_len": "2", "min_len": "1", "neighbours": "5", "sample_size": "10", "max_iterations": "5", "days": "30",
    "r": "3", "f": "3", "m": "3", "max_offers": "1", "category_cap": "NULL::integer", "min_history": "1",
    "pages_viewed": "3", "items_in_cart": "1", "prior_orders": "1",
    "params": "ARRAY[0.25, 4, 0.8, 2.5]", "t": "10", "frequency": "2", "recency": "30", "age": "38",
    "monetary": "20", "level": "0.9", "probability": "0.5", "min_support": "0.01", "min_confidence": "0",
    "age_min": "30", "age_max": "40", "period_length": "1", "discount_rate": "0", "top_fraction": "0.1",
    "regularization": "0.5", "alpha": "5", "l2": "1", "tolerance": "1e-4", "strength": "1", "z": "1.5",
    "cart_value": "10", "seconds_on_site": "60", "days_since_last_order": "5",
    "seed": "1", "customer_id": "(SELECT min(customer_id) FROM hostile.cbs)", "item_id": "1", "item": "1",
    "min_count": "NULL::bigint", "catalogue": "NULL::bigint", "max_basket_size": "NULL::integer",
    "consequents": "NULL::bigint[]", "antecedents": "NULL::bigint[]", "strengths": "NULL::float8[]",
    "cols": "'{customer_id}'::text[]", "feature_names": "NULL::text[]", "recommended": "'{1,2,3}'::bigint[]",
    "as_of": "'2026-01-01'::timestamptz", "since": "'-infinity'::timestamptz", "until": "'infinity'::timestamptz",
    "from_date": "'2025-01-01'::date", "to_date": "'2026-01-01'::date", "unit": "'1 week'::interval",
    "half_life": "'90 days'::interval", "attribution": "'7 days'::interval", "target_schema": "'hostile_ls'",
}
GOOD_BY_TYPE = {
    "integer": "1", "bigint": "1", "double precision": "1", "boolean": "true", "text": "'x'", "jsonb": "'{}'",
    "double precision[]": "'{1,2}'::float8[]", "bigint[]": "'{1,2,3}'::bigint[]", "text[]": "'{a}'::text[]",
    "timestamp with time zone": "'2026-01-01'::timestamptz", "date": "'2026-01-01'::date",
    "interval": "'1 day'::interval", "regclass": "'hostile.rules'::regclass", "name": "'hostile_ls'",
    "bytea": "'\\x00'::bytea", "cstring": "'x'::cstring", "personalize.baskets": "(SELECT b FROM hostile.bk)",
    "personalize.als_model": "(SELECT m FROM hostile.als)",
}
# Aggregates: a plausible column per row g of generate_series(1, 200).
AGG_GOOD = {
    "customer_id": "(g % 40)::bigint", "item_id": "(g % 17)::bigint", "strength": "1::float8",
    "basket_id": "(g / 3)::bigint", "items": "ARRAY[g % 10, g % 7]::bigint[]",
    "frequency": "(g % 5)::float8", "recency": "((g % 5) * 3)::float8", "age": "20::float8",
    "monetary": "(10 + g % 7)::float8", "weight": "1::float8", "penalty": "0::float8",
    "features": "ARRAY[g % 5, g % 3]::float8[]", "label": "(g % 2 = 0)", "score": "(g % 10)::float8",
    "ordered_at": "('2025-01-01'::timestamptz + g * interval '1 day')", "amount": "(g % 10)::float8",
    "as_of": "'2026-01-01'::timestamptz", "unit": "'1 week'::interval", "k": "2", "seed": "1::bigint",
    "factors": "2", "iterations": "2", "regularization": "0.5::float8", "alpha": "5::float8", "solver": "'cg'",
    "scaling": "'zscore'", "max_iterations": "5", "tolerance": "1e-4::float8", "l2": "1::float8",
    "feature_names": "ARRAY['a', 'b']", "bins": "5",
}


def good_value(fn, name, t, agg):
    if agg and name in AGG_GOOD:
        return AGG_GOOD[name]
    if t == "jsonb" and name == "model":
        kind = "kmeans" if fn.startswith("kmeans") else "logistic" if fn.startswith("logistic") else "bgnbd"
        return "(SELECT m FROM hostile.models WHERE kind = '%s')" % kind
    if t == "internal":
        return "NULL"
    by_type = {  # names that mean different things in different functions
        ("model", "text"): "'bgnbd'", ("cart", "jsonb"): "'{}'::jsonb", ("cart", "bigint[]"): "'{1,2}'::bigint[]",
        ("items", "regclass"): "'hostile.items'::regclass", ("items", "bigint[]"): "'{1,2,3}'::bigint[]",
        ("customers", "regclass"): "'hostile.cbs'::regclass" if fn == "rfm_scores" else "'hostile.customer_ids'::regclass",
        ("customers", "bigint[]"): "ARRAY(SELECT customer_id FROM hostile.customer_ids LIMIT 5)",
        ("customers", "integer"): "10", ("relevant", "regclass"): "'hostile.relevant'::regclass",
        ("relevant", "bigint[]"): "'{2,5}'::bigint[]", ("scores", "regclass"): "'hostile.scores'::regclass",
        ("scores", "integer"): "5", ("features", "regclass"): "NULL::regclass",
        ("features", "double precision[]"): "'{1,2}'::float8[]", ("min_count", "bigint"): "2",
    }
    if (name, t) in by_type:
        return by_type[(name, t)]
    if name in GOOD_BY_NAME and GOOD_BY_NAME[name] is not None:
        return "(%s)::%s" % (GOOD_BY_NAME[name], t)
    return GOOD_BY_TYPE.get(t, "NULL::" + t)


# ------------------------------------------------------------------- calls

class Runner:
    def __init__(self):
        self.conn = connect()
        self.admin = connect()
        self.stats = {}

    def reconnect(self):
        for c in (self.conn, self.admin):
            try:
                c.close()
            except Exception:
                pass
        time.sleep(1)
        self.conn = connect()
        self.admin = connect()

    def _watch(self, pid, stop):
        # The statement timeout did not stop the call: cancel, then terminate.
        if stop.wait(OUTLIVED_S + 2):
            return
        with self.admin.cursor() as cur:
            cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
        if stop.wait(5):
            return
        with self.admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def call(self, sql, params, parallel=False):
        """None when fine, else the reason for a FAIL."""
        pid = self.conn.info.backend_pid
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(pid, stop), daemon=True)
        started = time.monotonic()
        reason = None
        watcher.start()
        try:
            with self.conn.transaction(force_rollback=True):
                with self.conn.cursor() as cur:
                    cur.execute("SET LOCAL statement_timeout = %d" % TIMEOUT_MS)
                    if parallel:
                        cur.execute("SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;"
                                    "SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2")
                    cur.execute(sql, params or None)
                    if cur.description is not None:
                        cur.fetchall()
            state = "ok"
        except psycopg.Error as e:
            state = e.sqlstate or "none"
            if self.conn.closed or self.conn.broken:
                reason = "the backend crashed (connection lost)"
            elif e.sqlstate == "XX000":
                reason = "XX000 " + str(e).splitlines()[0]
        finally:
            stop.set()
            watcher.join()
        elapsed = time.monotonic() - started
        if reason is None and elapsed > OUTLIVED_S:
            reason = "outlived statement_timeout %d ms (state %s)" % (TIMEOUT_MS, state)
        self.stats[state] = self.stats.get(state, 0) + 1
        if DEBUG and elapsed > 0.3:
            print("slow %.1f %s: %s" % (elapsed, state, sql[:200]), file=sys.stderr)
        if DEBUG and self.stats[state] <= 3 and state not in ("ok",):
            print("debug %s: %s" % (state, sql[:400]), file=sys.stderr)
        if reason is not None and (self.conn.closed or self.conn.broken):
            self.reconnect()
        return reason


def statement(fn, kind, retset, names, types, args, agg_hostile_rows):
    if kind == "a":
        cols = ", ".join(a.sql for a in args)
        if agg_hostile_rows in ("one", "parallel"):
            # the hostile value in the first row only, plausible rows after it
            goods = [good_value(fn, n, t, True) for n, t in zip(names, types)]
            mixed = ", ".join("CASE WHEN g = 1 THEN %s ELSE %s END" % (a.sql, g) if a.hostile else a.sql
                              for a, g in zip(args, goods))
            cols = mixed
        if agg_hostile_rows == "parallel":  # partial states serialized, combined, deserialized
            return "SELECT personalize.%s(%s) IS NULL FROM hostile.g" % (fn, cols)
        return "SELECT personalize.%s(%s) IS NULL FROM generate_series(1, 200) g" % (fn, cols)
    call = "personalize.%s(%s)" % (fn, ", ".join(a.sql for a in args))
    if retset:
        return "SELECT * FROM %s LIMIT 100" % call
    return "SELECT %s" % call


def main():
    runner = Runner()
    conn = runner.conn
    own_types, models, baskets, als = setup(conn)
    own = {}
    for name, oid in own_types.items():
        cls = type(name + "_binary", (bytes,), {})
        dumper = type(name + "_dumper", (Dumper,), {"format": Format.BINARY, "oid": oid,
                                                     "dump": lambda self, obj: bytes(obj)})
        conn.adapters.register_dumper(cls, dumper)
        own["personalize." + name] = cls
    mutated = []
    for text in models.values():
        mutated += mutate_json(text, 6)
    samples = {
        "models": list(models.values()), "mutated_models": mutated, "baskets": baskets, "als": als,
        "bytes": [baskets[0], als[0]] + mutate_bytes(baskets[0], 3) + mutate_bytes(als[0], 3),
        "cstrings": [baskets[1], als[1]] + mutate_text(baskets[1], 4) + mutate_text(als[1], 4),
    }
    with conn.cursor() as cur:
        cur.execute("""
            SELECT p.proname, p.prokind, p.proretset,
                   pg_get_function_identity_arguments(p.oid),
                   coalesce(p.proargnames, '{}'::text[]), coalesce(p.proargmodes::text[], '{}'::text[]),
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i) ORDER BY i)
            FROM pg_proc p WHERE p.pronamespace = 'personalize'::regnamespace AND p.prokind IN ('f', 'a')
            ORDER BY p.proname, p.oid""")
        functions = cur.fetchall()

    def reconnect_hook():
        for name, cls in own.items():
            oid = own_types[name.split(".", 1)[1]]
            dumper = type("d", (Dumper,), {"format": Format.BINARY, "oid": oid, "dump": lambda self, obj: bytes(obj)})
            runner.conn.adapters.register_dumper(cls, dumper)

    plans, skipped = [], []
    for fn, kind, retset, identity, argnames, argmodes, types in functions:
        if "internal" in types:  # no SQL call can pass an internal value: reached through its aggregate
            skipped.append((fn, identity))
            continue
        # input argument names (OUT arguments have names too, after the inputs)
        names = [n for n, m in zip(argnames, argmodes or ["i"] * len(argnames)) if m in ("i", "b", "v")] \
            if argnames else []
        names = (names + ["arg%d" % i for i in range(len(types))])[: len(types)]
        names = [n if n else "arg%d" % i for i, n in enumerate(names)]
        plans.append((fn, kind, retset, identity, names, types))

    value_cache = {}

    def values_of(t):
        if t not in value_cache:
            value_cache[t] = type_values(t, own, samples)
        return value_cache[t]

    failures = {}
    calls = {}

    def run(plan, args, rows="all"):
        fn, kind, retset, identity, names, types = plan
        sql = statement(fn, kind, retset, names, types, args, rows)
        params = [p for a in args for p in a.params]
        if params:
            sql = sql.replace("%", "%%").replace(B, "%b")
        reason = runner.call(sql, params, parallel=rows == "parallel")
        if runner.conn is not conn_holder[0]:
            conn_holder[0] = runner.conn
            reconnect_hook()
        key = (fn, identity)
        calls[key] = calls.get(key, 0) + 1
        if reason is not None:
            failures.setdefault(key, []).append("%s: %s" % (reason, sql[:300]))

    conn_holder = [runner.conn]

    class Arg:
        def __init__(self, sql, params=(), hostile=False):
            self.sql, self.params, self.hostile = sql, params, hostile

    def goods(plan):
        fn, kind, retset, identity, names, types = plan
        return [Arg(good_value(fn, n, t, kind == "a")) for n, t in zip(names, types)]

    # Phase 1: every function with plausible arguments, then each argument
    # through its type's hostile values (the others plausible).
    deadline = STARTED + BUDGET_S
    for plan in plans:
        run(plan, goods(plan))
    # Round-robin over the functions (value j of every argument of every
    # function, then j + 1, ...), so a budget that runs out cuts every
    # function's pass short, not the functions late in the alphabet.
    capped = set()
    spent = {}
    work = []
    for plan in plans:
        fn, kind, retset, identity, names, types = plan
        work.append([(plan, i, v) for i, t in enumerate(types) for v in values_of(t)])
    position = 0
    while any(position < len(w) for w in work) and time.monotonic() < deadline:
        for w in work:
            if position >= len(w) or time.monotonic() > deadline:
                continue
            plan, i, v = w[position]
            fn, kind, retset, identity, names, types = plan
            key = (fn, identity)
            if spent.get(key, 0.0) > PER_FUNCTION_S:  # slow even when right (a demo shop per call)
                capped.add(key)
                continue
            started = time.monotonic()
            args = goods(plan)
            args[i] = Arg(v.sql, v.params, hostile=True)
            run(plan, args)
            if kind == "a":
                run(plan, args, rows="one")
                if position % 4 == 0:
                    run(plan, args, rows="parallel")
            spent[key] = spent.get(key, 0.0) + time.monotonic() - started
        position += 1
    if DEBUG:
        for key, t in sorted(spent.items(), key=lambda kv: -kv[1])[:25]:
            print("debug spent %.1f s on %s(%s)" % (t, key[0], key[1][:60]), file=sys.stderr)
    if DEBUG:
        print("debug phase 1 ended after %.0f s" % (time.monotonic() - STARTED), file=sys.stderr)
    # Phase 2: random combinations while the budget lasts.
    while time.monotonic() < deadline and plans:
        plan = rng.choice(plans)
        fn, kind, retset, identity, names, types = plan
        args = []
        for n, t in zip(names, types):
            if rng.random() < 0.5:
                v = rng.choice(values_of(t))
                args.append(Arg(v.sql, v.params, hostile=True))
            else:
                args.append(Arg(good_value(fn, n, t, kind == "a")))
        run(plan, args, rows=rng.choice(["all", "one", "parallel"]))

    for fn, kind, retset, identity, names, types in plans:
        key = (fn, identity)
        label = "%s %s(%s)" % ("aggregate" if kind == "a" else "function", fn, identity)
        if key in failures:
            print("FAIL hostile %s: %d of %d calls: %s" % (label, len(failures[key]), calls.get(key, 0),
                                                           failures[key][0]))
            for extra in failures[key][1:4]:
                print("    also: " + extra)
        else:
            print("PASS hostile %s: %d calls%s" % (label, calls.get(key, 0),
                                                    " (time cap)" if key in capped else ""))
    for fn, identity in skipped:
        print("SKIP hostile function %s(%s): internal arguments, called only by its aggregate" % (fn, identity))
    total = sum(calls.values())
    print("hostile: %d calls; outcomes by SQLSTATE: %s" % (
        total, ", ".join("%s %d" % (k, v) for k, v in sorted(runner.stats.items()))))
    with runner.conn.cursor() as cur:
        cur.execute("DELETE FROM personalize.offers WHERE offer_key LIKE 'hostile%'; DELETE FROM personalize.offer_log;"
                    "DROP SCHEMA IF EXISTS hostile CASCADE; DROP SCHEMA IF EXISTS hostile_shop CASCADE")


if __name__ == "__main__":
    main()
