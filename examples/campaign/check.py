#!/usr/bin/python3
"""Checks an export.py output file against SQL on the same database: one line
per opted-in customer, and each customer's offers and suggestions as the
extension computes them (every customer for the offers, a sample of 200 for
the suggestions). One PASS/FAIL line per check."""
import json
import sys

import psycopg

path, as_of = sys.argv[1], sys.argv[2]
lines = [json.loads(line) for line in open(path, encoding="utf-8")]
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + detail))
    failed += 0 if ok else 1


with psycopg.connect() as conn:
    audience = [r[0] for r in conn.execute(
        "SELECT customer_id FROM shop.customers WHERE email_opt_in ORDER BY customer_id")]
    got = [x["customer_id"] for x in lines]
    check(f"campaign: one line per opted-in customer ({len(audience)})", got == audience,
          f"{len(got)} lines vs {len(audience)} customers")
    offers = {}
    for cid, key in conn.execute(
            """SELECT c.customer_id, e.offer_key FROM personalize.offer_contexts(%s) c
               CROSS JOIN LATERAL personalize.eligible_offers(c.context, 'email') e
               WHERE (c.context #>> '{customer,email_opt_in}')::boolean ORDER BY c.customer_id, e.priority, e.offer_key""",
            (as_of,)):
        offers.setdefault(cid, []).append(key)
    bad = [x["customer_id"] for x in lines if [o["offer_key"] for o in x["offers"]] != offers.get(x["customer_id"], [])]
    check(f"campaign: every customer's offers = eligible_offers(context, 'email') "
          f"({sum(len(v) for v in offers.values())} offers)", not bad, f"differ for {bad[:5]}")
    sample = lines[:: max(1, len(lines) // 200)]
    bad = []
    for x in sample:
        want = [r[0] for r in conn.execute(
            "SELECT item_id FROM personalize.suggestions(%s::bigint, 5) ORDER BY rank", (x["customer_id"],))]
        if [s["product_id"] for s in x["suggestions"]] != want:
            bad.append(x["customer_id"])
    check(f"campaign: suggestions = suggestions(customer, 5) for {len(sample)} customers", not bad, f"differ for {bad[:5]}")
    check("campaign: every customer has 5 suggestions", all(len(x["suggestions"]) == 5 for x in lines))
    keys = {o["offer_key"] for x in lines for o in x["offers"]}
    check(f"campaign: offers present ({', '.join(sorted(keys))})", len(keys) > 0)
sys.exit(1 if failed else 0)
