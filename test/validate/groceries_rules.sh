#!/usr/bin/env bash
# association_rules on the arules "Groceries" data (9,835 baskets) must give
# arules' published rule counts and top rule (maxlen 10, minimum count
# ceil(n x support), rules with at least one antecedent item).
# Usage: groceries_rules.sh SHARED_DATA_DIR   (needs a PostgreSQL connection via PG* variables)
set -euo pipefail
data=${1:?usage: groceries_rules.sh SHARED_DATA_DIR}
file=$data/groceries/groceries.csv
name=groceries_rules
if [ ! -f "$file" ]; then
    echo "SKIP $name: $file not found"
    exit 0
fi
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

q -c "DROP TABLE IF EXISTS groceries_lines" -c "CREATE TABLE groceries_lines (basket bigint, item text)"
# One basket per line, items separated by commas (kept exactly, including
# the trailing space of "cream cheese ").
awk -F',' '{ for (i = 1; i <= NF; i++) { gsub(/\t/, " ", $i); print NR "\t" $i } }' "$file" |
    q -c "\copy groceries_lines FROM STDIN WITH (FORMAT text)"
q <<'SQL'
DROP TABLE IF EXISTS groceries_items, groceries_baskets;
CREATE TABLE groceries_items AS SELECT item, row_number() OVER (ORDER BY item) AS item_id
FROM (SELECT DISTINCT item FROM groceries_lines) i;
CREATE TABLE groceries_baskets AS
SELECT personalize.baskets(l.basket, i.item_id) AS b FROM groceries_lines l JOIN groceries_items i USING (item);
SQL

check_count() {  # min_support min_confidence expected
    local got
    got=$(q -c "SELECT count(*) FROM groceries_baskets, personalize.association_rules(b, $1, $2, max_len => 10)")
    if [ "$got" = "$3" ]; then
        echo "PASS $name: support $1 / confidence $2 gives $got rules, as arules"
    else
        echo "FAIL $name: support $1 / confidence $2 gives $got rules, arules gives $3"
    fi
}
check_count 0.001 0.8 410
check_count 0.001 0.5 5668
check_count 0.01 0.5 15
check_count 0.006 0.25 463

top=$(q <<'SQL'
SELECT (SELECT string_agg(i.item, ', ' ORDER BY i.item) FROM unnest(r.antecedent) a JOIN groceries_items i ON i.item_id = a)
       || ' => ' || c.item || ' | ' || round(r.lift::numeric, 4) || ' | ' || round(r.confidence::numeric, 4) || ' | ' || r.count
FROM groceries_baskets, personalize.association_rules(b, 0.001, 0.8, max_len => 10) r
JOIN groceries_items c ON c.item_id = r.consequent
ORDER BY r.lift DESC LIMIT 1;
SQL
)
expected="liquor, red/blush wine => bottled beer | 11.2353 | 0.9048 | 19"
if [ "$top" = "$expected" ]; then
    echo "PASS $name: top rule by lift is $top"
else
    echo "FAIL $name: top rule by lift is '$top', arules: '$expected'"
fi
q -c "DROP TABLE groceries_lines, groceries_items, groceries_baskets"
