#!/usr/bin/python3
"""Exports the e-mail campaign of pg_personalize to JSON lines, one line per
opted-in customer: their suggestions (personalize.suggestions) and the offers
eligible on channel 'email' (personalize.eligible_offers over
personalize.offer_contexts). A second real client of the extension, with
psycopg 3 (Debian's python3-psycopg); connection from the PG* variables.

Usage: export.py [--out FILE] [--suggestions N] [--as-of TIMESTAMP] [--limit N]
"""
import argparse
import json
import sys

import psycopg

# One statement, streamed: the contexts of the opted-in customers, their
# eligible e-mail offers and their top-n suggestions, aggregated per customer.
CAMPAIGN_SQL = """
WITH audience AS (
    SELECT c.customer_id, c.context
    FROM personalize.offer_contexts(%(as_of)s) c
    WHERE (c.context #>> '{customer,email_opt_in}')::boolean
    ORDER BY c.customer_id
    LIMIT %(limit)s
)
SELECT a.customer_id,
       a.context #>> '{customer,segment}' AS segment,
       coalesce((SELECT jsonb_agg(jsonb_build_object('offer_key', e.offer_key, 'description', e.description,
                                                     'percent_off', e.percent_off, 'free_shipping', e.free_shipping,
                                                     'reason', e.reason) ORDER BY e.priority, e.offer_key)
                 FROM personalize.eligible_offers(a.context, 'email') e), '[]') AS offers,
       coalesce((SELECT jsonb_agg(jsonb_build_object('rank', s.rank, 'product_id', s.item_id, 'source', s.source)
                                  ORDER BY s.rank)
                 FROM personalize.suggestions(a.customer_id, %(n)s) s), '[]') AS suggestions
FROM audience a
ORDER BY a.customer_id
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    ap.add_argument("--suggestions", type=int, default=5, help="suggestions per customer (1..50)")
    ap.add_argument("--as-of", default=None, help="the campaign's time (default: now)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many customers")
    args = ap.parse_args()
    if not 1 <= args.suggestions <= 50:
        ap.error("--suggestions must be between 1 and 50")
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    rows = 0
    with psycopg.connect() as conn, conn.cursor(name="campaign") as cur:
        cur.execute(CAMPAIGN_SQL, {"as_of": args.as_of or "now", "n": args.suggestions, "limit": args.limit})
        for customer_id, segment, offers, suggestions in cur:
            out.write(json.dumps({"customer_id": customer_id, "segment": segment, "offers": offers,
                                  "suggestions": suggestions}, separators=(",", ":")) + "\n")
            rows += 1
    if out is not sys.stdout:
        out.close()
    print(f"exported {rows} customers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
