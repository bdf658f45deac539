// cart_suggestions(cart, rules, k, min_score): cross-sell for a cart from a
// rules table. The lookups are prepared once per rules table and kept (SPI
// plan cache), so a call costs index probes, not planning; the evidence is
// combined in C++ (core/suggest/cart_scoring).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/suggest/cart_scoring.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/relation_columns.hpp"
#include "pg/common/spi_plan.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;

namespace {

constexpr std::size_t kMaxCartItems = 100000;

// Prepared statements of one rules table. Plain data: lives for the backend.
struct RulePlans {
    Oid relid;
    SPIPlanPtr lookup;   // $1 text[] of antecedents -> (antecedent, consequent, certainty)
    SPIPlanPtr popular;  // $1 limit -> consequents of {} => item rows by support
};
constexpr int kCachedTables = 8;
RulePlans plan_cache[kCachedTables];
int plan_cache_next = 0;

// The columns the lookups read, checked on every call (a table can change
// under a kept plan): a consequent read as bigint must be an integer column,
// else its Datum is a pointer or float bits.
const char *checked_rules_table(Oid relid) {
    static const char *const columns[] = {"antecedent", "consequent", "certainty", "consequent_support", nullptr};
    const pg::TableArgument table = pg::table_argument(relid, "cart_suggestions", "rules");
    pg::require_column(table, "antecedent", pg::ColumnKind::BigintArray, columns);
    pg::require_column(table, "consequent", pg::ColumnKind::Integer, columns);
    pg::require_column(table, "certainty", pg::ColumnKind::Number, columns);
    pg::require_column(table, "consequent_support", pg::ColumnKind::Number, columns);
    return table.name;
}

// Call between SPI_connect and SPI_finish; `table` from checked_rules_table.
const RulePlans &plans_for(Oid relid, const char *table) {
    for (const RulePlans &p : plan_cache)
        if (p.relid == relid && p.lookup != nullptr) return p;
    Oid text_array = TEXTARRAYOID, int8 = INT8OID;
    SPIPlanPtr lookup = pg::prepare_kept_plan("a cart_suggestions lookup", psprintf("SELECT r.antecedent, r.consequent::bigint, r.certainty::float8 "
                                         "FROM unnest($1) AS k(key) JOIN %s r ON r.antecedent = k.key::bigint[] "
                                         "WHERE r.certainty > 0 AND r.consequent IS NOT NULL",
                                         table),
                                1, &text_array);
    SPIPlanPtr popular = pg::prepare_kept_plan("a cart_suggestions lookup", psprintf("SELECT r.consequent::bigint FROM %s r WHERE r.antecedent = '{}'::bigint[] "
                                          "AND r.consequent IS NOT NULL ORDER BY r.consequent_support DESC, r.consequent LIMIT $1",
                                          table),
                                 1, &int8);
    RulePlans &slot = plan_cache[plan_cache_next];
    plan_cache_next = (plan_cache_next + 1) % kCachedTables;
    if (slot.lookup != nullptr) SPI_freeplan(slot.lookup);
    if (slot.popular != nullptr) SPI_freeplan(slot.popular);
    slot = {relid, lookup, popular};
    return slot;
}

// The antecedents to look up: each cart item, and each pair of cart items
// for carts of up to 64 distinct items (as sorted bigint[] text).
Datum lookup_keys(const std::int64_t *items, int n) {
    const int pairs = n <= 64 ? n * (n - 1) / 2 : 0;
    Datum *keys = static_cast<Datum *>(palloc(sizeof(Datum) * (n + pairs)));
    int count = 0;
    for (int i = 0; i < n; ++i) keys[count++] = CStringGetTextDatum(psprintf("{" INT64_FORMAT "}", items[i]));
    for (int i = 0; i < n && pairs > 0; ++i)
        for (int j = i + 1; j < n; ++j)
            keys[count++] = CStringGetTextDatum(psprintf("{" INT64_FORMAT "," INT64_FORMAT "}", items[i], items[j]));
    return PointerGetDatum(construct_array(keys, count, TEXTOID, -1, false, TYPALIGN_INT));
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_cart_suggestions) {
    const pg::Arguments args(fcinfo, "cart_suggestions");
    const Oid relid = args.oid(1, "rules");
    const int k = args.int4(2, "k").at_least(1);
    const double min_score = args.float8(3, "min_score").between(0.0, 1.0);

    // The cart: sorted, distinct, NULLs dropped. A NULL cart is an empty cart.
    pg::Int8Array raw;
    if (!args.is_null(0)) raw = args.int8_array(0, "cart");
    // Each item (and pair, for small carts) is looked up: a bound keeps the
    // lookup keys far below PostgreSQL's 1 GB allocation limit (and the sort short).
    if (raw.count > kMaxCartItems) args.invalid("cart", nullptr, "must have at most %d items", static_cast<int>(kMaxCartItems));
    auto *cart = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (raw.count + 1)));
    std::copy(raw.items, raw.items + raw.count, cart);
    std::sort(cart, cart + raw.count);
    const int cart_n = static_cast<int>(std::unique(cart, cart + raw.count) - cart);

    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext caller = CurrentMemoryContext;

    // Matched rules, copied out of SPI memory as plain arrays.
    int64 rule_n = 0;
    std::int64_t *consequents = nullptr, *antecedent_items = nullptr;
    double *certainties = nullptr;
    uint64 *antecedent_end = nullptr;
    int64 popular_n = 0;
    std::int64_t *popular = nullptr;

    const char *table = checked_rules_table(relid);
    SPI_connect();
    const RulePlans &plans = plans_for(relid, table);
    Datum key_arg = lookup_keys(cart, cart_n);
    if (cart_n > 0 && SPI_execute_plan(plans.lookup, &key_arg, nullptr, true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("cart_suggestions: rule lookup failed")));
    if (cart_n > 0) {
        rule_n = static_cast<int64>(SPI_processed);
        consequents = static_cast<std::int64_t *>(MemoryContextAlloc(caller, sizeof(std::int64_t) * (rule_n + 1)));
        certainties = static_cast<double *>(MemoryContextAlloc(caller, sizeof(double) * (rule_n + 1)));
        antecedent_end = static_cast<uint64 *>(MemoryContextAlloc(caller, sizeof(uint64) * (rule_n + 1)));
        std::size_t capacity = 2 * static_cast<std::size_t>(rule_n) + 1, used = 0;
        antecedent_items = static_cast<std::int64_t *>(MemoryContextAlloc(caller, sizeof(std::int64_t) * capacity));
        int64 kept = 0;
        for (int64 i = 0; i < rule_n; ++i) {
            HeapTuple tuple = SPI_tuptable->vals[i];
            bool null_a, null_c, null_s;
            Datum a = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &null_a);
            Datum c = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &null_c);
            Datum s = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &null_s);
            if (null_a || null_c || null_s) continue;  // not a usable rule
            const double certainty = DatumGetFloat8(s);
            // certainty > 0 passed the query; NaN sorts above every number there.
            if (!(certainty <= 1.0))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("cart_suggestions: \"rules\" (%s) holds a certainty of %g for consequent " INT64_FORMAT
                                       " (a certainty is at most 1)",
                                       table, certainty, DatumGetInt64(c))));
            consequents[kept] = DatumGetInt64(c);
            certainties[kept] = certainty;
            const pg::Int8Array items = pg::read_int8_array(DatumGetArrayTypeP(a), "antecedent");
            if (used + items.count > capacity) {
                capacity = 2 * (used + items.count);
                antecedent_items = static_cast<std::int64_t *>(repalloc(antecedent_items, sizeof(std::int64_t) * capacity));
            }
            std::copy(items.items, items.items + items.count, antecedent_items + used);
            used += items.count;
            antecedent_end[kept++] = used;
        }
        rule_n = kept;
    }
    // Enough popular items to fill k after leaving out cart items and the suggestions.
    Datum limit = Int64GetDatum(2 * static_cast<int64>(k) + cart_n);  // k <= 2^31 - 1: no overflow
    if (SPI_execute_plan(plans.popular, &limit, nullptr, true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("cart_suggestions: popular items lookup failed")));
    popular_n = static_cast<int64>(SPI_processed);
    popular = static_cast<std::int64_t *>(MemoryContextAlloc(caller, sizeof(std::int64_t) * (popular_n + 1)));
    int64 popular_kept = 0;
    for (int64 i = 0; i < popular_n; ++i) {
        bool isnull;
        Datum c = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) popular[popular_kept++] = DatumGetInt64(c);
    }
    popular_n = popular_kept;
    SPI_finish();

    // Combine the evidence in C++ into plain output arrays. At most one
    // suggestion per matched rule: the arrays are sized by the rules found,
    // never by k alone (k may be 2^31 - 1).
    const int64 out_n = std::min<int64>(k, rule_n) + 1;
    auto *out_item = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * out_n));
    auto *out_score = static_cast<double *>(palloc(sizeof(double) * out_n));
    auto *out_evidence_end = static_cast<int *>(palloc(sizeof(int) * out_n));
    // Each suggestion's evidence is a set of cart items found in the matched antecedents.
    const int64 evidence_bound = std::min<int64>(static_cast<int64>(k) * cart_n,
                                                 rule_n == 0 ? 0 : static_cast<int64>(antecedent_end[rule_n - 1]));
    auto *out_evidence = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (evidence_bound + 1)));
    const int chosen = pg::cpp([&] {
        std::vector<personalize::suggest::MatchedRule> rules;
        rules.reserve(static_cast<std::size_t>(rule_n));
        for (int64 i = 0; i < rule_n; ++i) {
            const uint64 begin = i == 0 ? 0 : antecedent_end[i - 1];
            rules.push_back({consequents[i], certainties[i], antecedent_items + begin, antecedent_end[i] - begin});
        }
        const std::vector<std::int64_t> cart_items(cart, cart + cart_n);
        const auto best = personalize::suggest::score_cart(cart_items, rules, static_cast<std::size_t>(k), min_score);
        int evidence_used = 0;
        for (std::size_t i = 0; i < best.size(); ++i) {
            out_item[i] = best[i].item;
            out_score[i] = best[i].score;
            for (std::int64_t e : best[i].evidence) out_evidence[evidence_used++] = e;
            out_evidence_end[i] = evidence_used;
        }
        return static_cast<int>(best.size());
    });

    // Rows: the suggestions by score, then popular items up to k.
    for (int i = 0; i < chosen; ++i) {
        const int begin = i == 0 ? 0 : out_evidence_end[i - 1];
        const int count = out_evidence_end[i] - begin;
        Datum *evidence = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
        for (int j = 0; j < count; ++j) evidence[j] = Int64GetDatum(out_evidence[begin + j]);
        Datum values[4] = {Int64GetDatum(out_item[i]), Float8GetDatum(out_score[i]),
                           PointerGetDatum(construct_array(evidence, count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE)),
                           CStringGetTextDatum("rules")};
        bool nulls[4] = {false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    int rows = chosen;
    for (int64 i = 0; i < popular_n && rows < k; ++i) {
        const std::int64_t item = popular[i];
        if (std::binary_search(cart, cart + cart_n, item) || std::find(out_item, out_item + chosen, item) != out_item + chosen)
            continue;
        Datum values[4] = {Int64GetDatum(item), Float8GetDatum(0.0),
                           PointerGetDatum(construct_empty_array(INT8OID)), CStringGetTextDatum("popular")};
        bool nulls[4] = {false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        ++rows;
    }
    return static_cast<Datum>(0);
}
