#!/usr/bin/env bash
# Usage (inside scripts/with-temp-cluster.sh): test/upgrade/run.sh
# Proves that releases upgrade in place (docs/releases.md). Database
# upgrade_a gets 0.1.0 and a shop's use of it (fill.sql, with the values the
# 0.1.0 library wrote: fixtures/), its answers are recorded (answers.sql),
# then ALTER EXTENSION pg_personalize UPDATE. After the update its catalog
# must equal a fresh CREATE EXTENSION (upgrade_b; catalog.sql), and the data
# must all be there with the same answers; the same again after pg_dump -Fc
# of upgrade_a and pg_restore into an empty upgrade_c. Prints one
# "PASS ..."/"FAIL ..." line per check, readable diffs after a FAIL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"  # fill.sql reads fixtures/ relative to here
pg_bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d -t pg_personalize_upgrade.XXXXXX)
trap 'rm -rf "$work"' EXIT

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { q -At "$@"; }
# A step that later checks depend on: its failure ends the run.
step() {
    local name=$1; shift
    if ! "$@" >"$work/step.log" 2>&1; then
        echo "FAIL $name: $(grep -m3 -E 'ERROR|FATAL|error' "$work/step.log" | tr '\n' ' ')"
        cat "$work/step.log"
        exit 1
    fi
}
# Prints the PASS/FAIL lines of upgrade_check.compare(...) in database $1.
compare() {
    local db=$1; shift
    value -d "$db" -c "SELECT upgrade_check.compare($*)" 2>"$work/compare.log" ||
        echo "FAIL compare($*): $(tr '\n' ' ' <"$work/compare.log")"
}
answers() {  # database, phase
    step "answers ($2)" q -d "$1" -c "SET upgrade_check.phase = '$2'" -f answers.sql
}
fixture_sources=("fixture: 0.1.0 stored bytes" "fixture: binary COPY of 0.1.0 values" "fixture: text COPY of 0.1.0 values")
# The answers over the 0.1.0 library's values against what 0.1.0 answered;
# format/ answers only for the values stored as they were (no I/O since).
fixture_checks() {  # database, phase, label, with_format for the stored bytes
    local source
    for source in "${fixture_sources[@]}"; do
        local with_format=false
        [ "$source" = "${fixture_sources[0]}" ] && with_format=$4
        compare "$1" "'$3', '0.1.0 library', '0.1.0 library', '$2', '$source', $with_format"
    done
}
# The objects a catalog diff ($1) shows, each with what is wrong with it,
# on one line; $2 and $3 are the catalogs of the fresh install and the other.
objects_differing() {
    awk 'function object_of(line) { sub(/: .*/, "", line); return line }
         FILENAME == ARGV[2] { fresh[object_of($0)] = 1; next }
         FILENAME == ARGV[3] { other[object_of($0)] = 1; next }
         /^[-+][^-+]/ { o = object_of(substr($0, 2))
                        if (o != "members" && !(o in listed)) { listed[o] = 1; order[++n] = o } }
         END { for (i = 1; i <= n; i++) {
                   o = order[i]
                   what = !(o in other) ? "only in a fresh install" : !(o in fresh) ? "not in a fresh install" : "differs"
                   printf "%s%s (%s)", (i > 1 ? "; " : ""), o, what } }' "$1" "$2" "$3"
}
# Catalog of database $1 against upgrade_b, a fresh install.
catalog_check() {  # database, label
    local name="catalog $2" changed
    q -d "$1" -f catalog.sql >"$work/$1.catalog" 2>&1
    if [ ! -s "$work/upgrade_b.catalog" ] || grep -q ERROR "$work/$1.catalog" "$work/upgrade_b.catalog"; then
        echo "FAIL $name: catalog.sql failed: $(grep -h ERROR "$work/$1.catalog" "$work/upgrade_b.catalog")"
    elif diff -u --label "fresh CREATE EXTENSION (upgrade_b)" --label "$2 ($1)" \
            "$work/upgrade_b.catalog" "$work/$1.catalog" >"$work/$1.diff"; then
        echo "PASS $name: equals a fresh CREATE EXTENSION ($(grep -c '^members: ' "$work/$1.catalog") objects, $(wc -l <"$work/$1.catalog") facts)"
    else
        echo "FAIL $name: differs from a fresh CREATE EXTENSION: $(objects_differing "$work/$1.diff" "$work/upgrade_b.catalog" "$work/$1.catalog")"
        cat "$work/$1.diff"
    fi
    if grep -q 'details not compared' "$work/$1.catalog"; then
        echo "FAIL $name: members of a kind catalog.sql does not describe: $(grep 'details not compared' "$work/$1.catalog" | head -3 | tr '\n' ' ')"
    fi
}

for db in upgrade_a upgrade_b upgrade_bare upgrade_c; do
    step "create database $db" q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE template0"
done

# 1. 0.1.0, used.
step "CREATE EXTENSION pg_personalize VERSION '0.1.0'" q -d upgrade_a -c "CREATE EXTENSION pg_personalize VERSION '0.1.0'"
echo "PASS install 0.1.0: the shipped 0.1.0 script runs with this library (library $(value -d upgrade_a -c "SELECT personalize.version()")); every C symbol it names exists"
step "fill the 0.1.0 shop" q -d upgrade_a -f fill.sql
answers upgrade_a "before update"
fixture_checks upgrade_a "before update" "0.1.0 catalog, against the 0.1.0 library" true

# 2. ALTER EXTENSION ... UPDATE, and a fresh install to compare with.
step "ALTER EXTENSION pg_personalize UPDATE" q -d upgrade_a -c "ALTER EXTENSION pg_personalize UPDATE"
step "fresh CREATE EXTENSION" q -d upgrade_b -c "CREATE EXTENSION pg_personalize"
extversion="SELECT extversion FROM pg_extension WHERE extname = 'pg_personalize'"
version=$(value -d upgrade_a -c "$extversion")
fresh_version=$(value -d upgrade_b -c "$extversion")
if [ "$version" = "$fresh_version" ] && [ "$version" != 0.1.0 ]; then
    echo "PASS update: ALTER EXTENSION pg_personalize UPDATE took 0.1.0 to $version, the version a fresh install gets"
else
    echo "FAIL update: the extension is at $version after ALTER EXTENSION ... UPDATE; a fresh install gets $fresh_version"
fi
step "bare 0.1.0 updated" q -d upgrade_bare -c "CREATE EXTENSION pg_personalize VERSION '0.1.0'" \
                                            -c "ALTER EXTENSION pg_personalize UPDATE"
q -d upgrade_b -f catalog.sql >"$work/upgrade_b.catalog" 2>&1
catalog_check upgrade_a "after update"
catalog_check upgrade_bare "of a bare 0.1.0 after update"
# What the extension ships in its tables (the segment maps): a bare update
# must end with the rows of a fresh install.
shipped_rows="SELECT c.oid::regclass || ': ' || x::text
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'r',
     LATERAL unnest(xpath('/table/row/r/text()', query_to_xml(format('SELECT t::text AS r FROM %s t', c.oid::regclass),
                                                              false, false, ''))) x
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_personalize')
ORDER BY 1"
value -d upgrade_b -c "$shipped_rows" >"$work/b.rows" 2>&1
value -d upgrade_bare -c "$shipped_rows" >"$work/bare.rows" 2>&1
if diff -u --label "fresh CREATE EXTENSION" --label "bare 0.1.0 after update" "$work/b.rows" "$work/bare.rows" >"$work/rows.diff"; then
    echo "PASS shipped rows after update: the extension's tables hold what a fresh install ships ($(wc -l <"$work/b.rows") rows)"
else
    echo "FAIL shipped rows after update: differ from a fresh install: $(grep -E '^[-+][^-+]' "$work/rows.diff" | head -4 | tr '\n' ' ')"
    cat "$work/rows.diff"
fi
answers upgrade_a "after update"
for source in shop "shop values" "${fixture_sources[@]}"; do
    compare upgrade_a "'after update', 'before update', '$source', 'after update', '$source', true"
done
fixture_checks upgrade_a "after update" "after update, against the 0.1.0 library" true

# 3. pg_dump -Fc of the updated database, pg_restore into an empty one.
step "pg_dump -Fc upgrade_a" "$pg_bin/pg_dump" -Fc -d upgrade_a -f "$work/upgrade_a.dump"
if "$pg_bin/pg_restore" -d upgrade_c "$work/upgrade_a.dump" >"$work/restore.log" 2>&1; then
    echo "PASS restore: pg_restore of the updated database into an empty one reported no error"
else
    echo "FAIL restore: pg_restore reported errors: $(grep -m3 -E 'error' "$work/restore.log" | tr '\n' ' ')"
    cat "$work/restore.log"
fi
catalog_check upgrade_c "after dump and restore"
answers upgrade_c "after restore"
# Text COPY of the dump re-reads every stored value: format/ answers may change.
for source in shop "shop values" "${fixture_sources[@]}"; do
    compare upgrade_c "'after restore', 'before update', '$source', 'after restore', '$source', false"
done
fixture_checks upgrade_c "after restore" "after restore, against the 0.1.0 library" false
# The restored decision log goes on where it stopped (its identity
# sequence is restored with it): a new decision gets a new id.
before=$(value -d upgrade_c -c "SELECT max(decision_id) FROM personalize.offer_log")
logged=$(value -d upgrade_c -c "SELECT count(*) FROM personalize.decide_offer(100001, '{\"total\": 45.00}', '{}', 'web')" \
               -c "SELECT count(*) FROM personalize.offer_log WHERE decision_id > $before" 2>&1 | tail -1)
if [ "$logged" = 1 ]; then
    echo "PASS restore: decide_offer after the restore logs its decision after the restored ones (id > $before)"
else
    echo "FAIL restore: decide_offer after the restore (last restored decision $before): $logged"
fi
