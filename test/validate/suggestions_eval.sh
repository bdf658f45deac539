#!/usr/bin/env bash
# Offline evaluation of the suggestion scorers (docs/suggestions.md): split
# by time (or, for FIMI retail, by basket order and a hidden half of each
# test basket), recommend 10 items per test customer, and report
# precision@10, recall@10, nDCG@10, catalogue coverage, the Gini index of the
# recommendation counts and the average recommendation popularity (ARP) of
# each scorer: popularity (the baseline), item-item with each similarity
# measure, EASE, RP3beta and ALS. The hyper-parameters of cosine, EASE and
# RP3beta are chosen on a validation split (the same protocol applied to the
# training part only: one period earlier), never on the test split.
# Datasets and scorers: test/validate/suggestions_eval/README.md.
#
# Usage (inside scripts/with-temp-cluster.sh):
#   test/validate/suggestions_eval.sh SHARED_DATA_DIR [--bench] [--variants]
# Without --bench: FIMI retail and the Complete Journey sample (about 25 s;
# test/validate/run-all.sh runs this part).
# --bench adds the demo shop's bench data (loads schema bench_shop unless it
# is there: about a minute, then a few minutes of evaluation).
# Prints a Markdown table per dataset and PASS/FAIL/SKIP lines: on every
# dataset the chosen scorer must beat popularity on nDCG@10 where the data
# allows (see the lines for what was not possible and why).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)/suggestions_eval
data=${1:?usage: suggestions_eval.sh SHARED_DATA_DIR [--bench]}
with_bench=0 with_variants=0
for arg in "${@:2}"; do
    case $arg in
        --bench) with_bench=1 ;;
        --variants) with_variants=1 ;;
        *) echo "unknown option $arg" >&2; exit 2 ;;
    esac
done
name=suggestions_eval
export PGTZ=UTC
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }
q -c "CREATE EXTENSION IF NOT EXISTS pg_personalize"

# Runs one scorer file and prints its Markdown row; keeps nDCG in $last_ndcg.
last_ndcg=0
run_scorer() {
    local label=$1 file=$2
    shift 2
    local start ms row
    start=$(date +%s.%N)
    q -v ON_ERROR_STOP=1 "$@" -c "SET personalize.memory_limit = '2GB'" -f "$here/$file" >/dev/null
    ms=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    row=$(q -F '|' -c "SELECT round(precision_at_k::numeric, 4), round(recall_at_k::numeric, 4), round(ndcg_at_k::numeric, 4),
                              round(coverage::numeric, 4), round(gini::numeric, 4), round(arp::numeric, 4), customers
                       FROM eval.info, personalize.evaluate_recommendations('eval.recs', 'eval.relevant', 10, eval.info.catalogue,
                                                                            'eval.popularity')")
    IFS='|' read -r p r n c g a customers <<<"$row"
    echo "| $label | $p | $r | $n | $c | $g | $a | $customers | $ms |"
    last_ndcg=$n
}
# The item-item scorer with options (defaults: cosine, 50 neighbours,
# min_count 2, customer baskets, 90-day half-life, min_history 1).
item_item() {
    local label=$1 measure=${2:-cosine} neighbours=${3:-50} min_count=${4:-2} basket=${5:-customer_id}
    local half_life=${6:-"'90 days'"} min_history=${7:-1}
    run_scorer "$label" item_item.sql -v measure="$measure" -v neighbours="$neighbours" -v min_count="$min_count" \
        -v basket="$basket" -v half_life="$half_life" -v min_history="$min_history"
}

header() {
    echo
    echo "$1"
    echo
    echo "| scorer | precision@10 | recall@10 | nDCG@10 | coverage | Gini | ARP | customers | seconds |"
    echo "|---|---|---|---|---|---|---|---|---|"
}

# The models with options: EASE (lambda, neighbours, min_count) and RP3beta
# (alpha, beta, neighbours, min_count), customer baskets, served by
# batch_suggestions with its defaults.
ease() { run_scorer "$1" ease.sql -v lambda="$2" -v neighbours="${3:-50}" -v min_count="${4:-2}"; }
rp3beta() { run_scorer "$1" rp3beta.sql -v alpha="$2" -v beta="$3" -v neighbours="${4:-50}" -v min_count="${5:-2}"; }
als() {
    run_scorer "ALS (64 factors, 15 iterations, regularization 0.5, alpha 5)" als.sql \
        -v factors=64 -v iterations=15 -v regularization=0.5 -v alpha=5
    run_scorer "ALS, BM25 weights (same options)" als_bm25.sql \
        -v factors=64 -v iterations=15 -v regularization=0.5 -v alpha=5
}

# Picks the best of a grid on the validation split (the dataset prepared
# now): runs "$scorer ARGS" per line of the grid and keeps the ARGS with the
# highest nDCG@10 in $best.
best=""
tune() {
    local scorer=$1 label=$2
    shift 2
    local top=-1 args
    best=""
    for args in "$@"; do
        # shellcheck disable=SC2086
        $scorer "$label $args" $args
        if awk -v a="$last_ndcg" -v b="$top" 'BEGIN { exit !(a > b) }'; then
            top=$last_ndcg
            best=$args
        fi
    done
}

# One dataset: $1 = name, $2 = a function that prepares it (argument
# "validation" or "test"), $3 = the lambda grid, $4 = whether popularity can
# be beaten at all, $5 = EASE's min_count (default 2; bench: fewer items keep
# the dense matrix affordable). Hyper-parameters on the validation split, then every
# scorer on the test split; PASS/FAIL/SKIP lines compare the default recipe
# (EASE, docs/suggestions.md) with popularity and cosine.
evaluate_dataset() {
    local dataset=$1 prepare=$2 lambdas=$3 possible=${4:-yes} ease_mc=${5:-2}
    local cos_n ease_l rp_ab baseline cosine chosen ease_note=""
    [ "$ease_mc" != 2 ] && ease_note=", min_count $ease_mc"
    ease_at() { ease "$1" "$2" 50 "$ease_mc"; }
    $prepare validation
    header "validation split: $(dataset_title)"
    tune item_item_n "cosine, neighbours" 20 50 200
    cos_n=$best
    # shellcheck disable=SC2086
    tune ease_at "EASE$ease_note, lambda" $lambdas
    ease_l=$best
    tune rp3beta "RP3beta, alpha beta" "0.5 0" "0.5 0.25" "0.5 0.5" "1 0" "1 0.25" "1 0.5"
    rp_ab=$best
    $prepare test
    header "test split: $(dataset_title)"
    run_scorer "popularity" popularity.sql
    baseline=$last_ndcg
    item_item "item-item, cosine (50 neighbours)" cosine
    cosine=$last_ndcg
    [ "$cos_n" != 50 ] && item_item "item-item, cosine ($cos_n neighbours, tuned)" cosine "$cos_n"
    for measure in jaccard lift confidence; do
        item_item "item-item, $measure" "$measure"
    done
    ease_at "EASE (lambda $ease_l$ease_note, tuned; the default recipe)" "$ease_l"
    chosen=$last_ndcg
    # shellcheck disable=SC2086
    rp3beta "RP3beta (alpha beta $rp_ab, tuned)" $rp_ab
    als
    report_default "$dataset" "$chosen" "$baseline" "$cosine" "$possible"
    if [ $with_variants = 1 ]; then
        echo "| *cosine variants* | | | | | | | | |"
        item_item "cosine, 10 neighbours" cosine 10
        item_item "cosine, 200 neighbours" cosine 200
        item_item "cosine, no recency decay" cosine 50 2 customer_id NULL
    fi
}
item_item_n() { item_item "$1" cosine "$2"; }
dataset_title() { q -c "SELECT dataset || ': ' || (SELECT count(*) FROM eval.customers) || ' test customers, catalogue ' || catalogue FROM eval.info"; }

# The issue's targets: beat cosine by >= 10 % and popularity by >= 15 % on
# nDCG@10 (reported either way; FAIL only where the default loses to
# popularity although the data allow beating it).
report_default() {
    local dataset=$1 chosen=$2 baseline=$3 cosine=$4 possible=$5 vs_pop vs_cos
    vs_pop=$(awk -v a="$chosen" -v b="$baseline" 'BEGIN { printf "%+.1f", (a / b - 1) * 100 }')
    vs_cos=$(awk -v a="$chosen" -v b="$cosine" 'BEGIN { printf "%+.1f", (a / b - 1) * 100 }')
    if awk -v a="$chosen" -v b="$baseline" 'BEGIN { exit !(a > b) }'; then
        echo "PASS $name: $dataset: EASE nDCG@10 $chosen > popularity $baseline ($vs_pop %; vs cosine $cosine: $vs_cos %)" >&2
    elif [ "$possible" = no ]; then
        echo "SKIP $name: $dataset: popularity wins (nDCG@10 $baseline, EASE $chosen, cosine $cosine); see docs/suggestions.md" >&2
    else
        echo "FAIL $name: $dataset: EASE nDCG@10 $chosen <= popularity $baseline" >&2
    fi
    for target in "popularity $baseline 15 $vs_pop" "cosine $cosine 10 $vs_cos"; do
        set -- $target
        if awk -v a="$chosen" -v b="$2" -v t="$3" 'BEGIN { exit !(a >= b * (1 + t / 100)) }'; then
            echo "PASS $name: $dataset: EASE beats $1 by >= $3 % ($4 %)" >&2
        else
            echo "MISS $name: $dataset: EASE does not beat $1 by $3 % ($4 %)" >&2
        fi
    done
}

# ONLY="fimi cj bench" limits the run to those datasets (default: all).
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

reset_eval() { q -c "DROP SCHEMA IF EXISTS eval CASCADE" -c "CREATE SCHEMA eval"; }

# --- FIMI retail --------------------------------------------------------------
fimi=$data/fimi_retail/retail.dat
prepare_fimi() {
    reset_eval
    q -c "CREATE TABLE eval.raw_baskets (basket bigint, item bigint)"
    awk '{ for (i = 1; i <= NF; i++) print NR "\t" $i }' "$fimi" | q -c "\copy eval.raw_baskets FROM STDIN"
    # Validation: the same protocol on the training baskets (the first 80 %) alone.
    [ "$1" = validation ] && q -c "DELETE FROM eval.raw_baskets WHERE basket > (SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY basket) FROM eval.raw_baskets)"
    q -f "$here/fimi.sql" >/dev/null
    q -v dataset="fimi_retail ($1)" -f "$here/finish_dataset.sql" >/dev/null
}
if ! want fimi; then
    :
elif [ -f "$fimi" ]; then
    evaluate_dataset fimi_retail prepare_fimi "50 200 500 2000"
else
    echo "SKIP $name: $fimi not found" >&2
fi

# --- Complete Journey sample ---------------------------------------------------
cj=$data/completejourney
# Test: train 2017-01..09, test 2017-10..12; validation: train 2017-01..06, test 2017-07..09.
cj_split() { if [ "$1" = validation ]; then echo "-v train_end=2017-07-01 -v test_end=2017-10-01"; else echo "-v train_end=2017-10-01 -v test_end=2018-01-01"; fi; }
prepare_cj() {
    reset_eval
    # Some basket ids are written like 4.0128e+10: read the ids as numeric.
    q -c "CREATE TABLE eval.raw_lines (household_id numeric, store_id numeric, basket_id numeric, product_id numeric, quantity numeric,
                                       sales_value numeric, retail_disc numeric, coupon_disc numeric, coupon_match_disc numeric,
                                       week integer, bought_at timestamptz)" \
      -c "\copy eval.raw_lines FROM '$cj/transactions_sample.csv' WITH (FORMAT csv, HEADER true)" \
      -c "CREATE TABLE eval.raw_products (product_id numeric, manufacturer_id numeric, department text, brand text,
                                          category text, product_type text, package_size text)" \
      -c "\copy eval.raw_products FROM '$cj/products.csv' WITH (FORMAT csv, HEADER true)"
    # shellcheck disable=SC2046
    q $(cj_split "$1") -f "$here/completejourney.sql" >/dev/null
    q -v dataset="completejourney ($1)" -f "$here/finish_dataset.sql" >/dev/null
}
prepare_cj_categories() {
    prepare_cj "$1"
    # What the sample does support: product categories as the items.
    # shellcheck disable=SC2046
    q $(cj_split "$1") -f "$here/completejourney_categories.sql" >/dev/null
    q -v dataset="completejourney_categories ($1)" -f "$here/finish_dataset.sql" >/dev/null
}
if ! want cj; then
    :
elif [ -f "$cj/transactions_sample.csv" ] && [ -f "$cj/products.csv" ]; then
    evaluate_dataset completejourney prepare_cj "50 200 1000 5000" no
    evaluate_dataset completejourney_categories prepare_cj_categories "50 200 1000 5000"
else
    echo "SKIP $name: $cj/transactions_sample.csv not found" >&2
fi

# --- bench ---------------------------------------------------------------------
prepare_bench() {
    reset_eval
    if [ "$1" = validation ]; then
        q -v train_end=2025-07-01 -v test_end=2025-10-01 -f "$here/bench.sql" >/dev/null
    else
        q -v train_end=2025-10-01 -v test_end=2026-01-01 -f "$here/bench.sql" >/dev/null
    fi
    q -v dataset="bench ($1)" -f "$here/finish_dataset.sql" >/dev/null
}
if [ $with_bench = 1 ] && want bench; then
    if [ "$(q -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'bench_shop' AND tablename = 'order_lines'")" = 0 ]; then
        q -c "SELECT personalize.load_demo_shop('bench_shop', 'bench', 42)" >/dev/null
    fi
    evaluate_dataset bench prepare_bench "${BENCH_LAMBDAS:-200 1000 5000}" yes "${BENCH_EASE_MIN_COUNT:-100}"
    if [ $with_variants = 1 ]; then
        item_item "cosine, 20 neighbours" cosine 20
        item_item "cosine, 100 neighbours" cosine 100
        item_item "cosine, 30-day half-life" cosine 50 2 customer_id "'30 days'"
        item_item "cosine, 365-day half-life" cosine 50 2 customer_id "'365 days'"
        item_item "cosine, order baskets" cosine 50 2 basket_id
        item_item "cosine, popular below 3 items" cosine 50 2 customer_id "'90 days'" 3
    fi
fi
q -c "DROP SCHEMA IF EXISTS eval CASCADE"
