// personalize.association_rules(baskets, ...): mining in C++, one row per rule.
#include <cmath>
#include <vector>

#include "core/mining/association_rules.hpp"
#include "core/mining/baskets.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/tuplestore.h"
}

using personalize::mining::BasketCollection;
using personalize::mining::MiningStats;
using personalize::mining::Rule;
using personalize::mining::RuleOptions;
namespace pg = personalize::pg;

namespace {

enum Argument {
    kBaskets, kMinSupport, kMinConfidence, kMaxLen, kMinLen, kMinCount, kConsequents, kAntecedents, kMaxBasketSize
};
constexpr int kColumns = 14;

// Options as plain values, read by PostgreSQL code before any C++ runs.
struct PlainOptions {
    double min_support = 0.01;
    double min_confidence = 0.0;
    int32 max_len = 2;
    int32 min_len = 2;
    int64 min_count = 0;
    int64 max_basket_size = 0;
    pg::Int8Array consequents, antecedents;
    bool has_consequents = false, has_antecedents = false;
};

// NULL options take their defaults.
PlainOptions read_options(const pg::Arguments &args) {
    PlainOptions o;
    if (args.given(kMinSupport)) o.min_support = args.float8(kMinSupport, "min_support");
    if (args.given(kMinConfidence)) o.min_confidence = args.float8(kMinConfidence, "min_confidence");
    if (args.given(kMaxLen)) o.max_len = args.int4(kMaxLen, "max_len");
    if (args.given(kMinLen)) o.min_len = args.int4(kMinLen, "min_len");
    if (args.given(kMinCount)) o.min_count = args.int8(kMinCount, "min_count").at_least(1);
    if (args.given(kMaxBasketSize)) o.max_basket_size = args.int4(kMaxBasketSize, "max_basket_size").at_least(1);
    if (args.given(kConsequents)) {
        o.consequents = args.int8_array(kConsequents, "consequents");
        if (o.consequents.count == 0) args.invalid("consequents", nullptr, "is empty");
        o.has_consequents = true;
    }
    if (args.given(kAntecedents)) {
        o.antecedents = args.int8_array(kAntecedents, "antecedents");
        if (o.antecedents.count == 0) args.invalid("antecedents", nullptr, "is empty");
        o.has_antecedents = true;
    }
    return o;
}

void store_rule(ReturnSetInfo *rsinfo, const Rule &rule) {
    Datum values[kColumns];
    bool nulls[kColumns] = {};
    Datum *items = static_cast<Datum *>(palloc(sizeof(Datum) * rule.antecedent_len));
    for (std::size_t i = 0; i < rule.antecedent_len; ++i) items[i] = Int64GetDatum(rule.antecedent[i]);
    values[0] = PointerGetDatum(
        construct_array(items, static_cast<int>(rule.antecedent_len), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
    values[1] = Int64GetDatum(rule.consequent);
    values[2] = Int64GetDatum(rule.count);
    const double metrics[] = {rule.antecedent_support, rule.consequent_support, rule.support,   rule.confidence,
                              rule.lift,               rule.leverage,           rule.conviction, rule.jaccard,
                              rule.certainty,          rule.kulczynski,         rule.zhangs_metric};
    for (int i = 0; i < 11; ++i) values[3 + i] = Float8GetDatum(metrics[i]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    pfree(DatumGetPointer(values[0]));
    pfree(items);
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_association_rules) {
    InitMaterializedSRF(fcinfo, 0);
    const pg::Arguments args(fcinfo, "association_rules");
    if (args.is_null(kBaskets)) return static_cast<Datum>(0);  // no baskets: no rules
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    const varlena *value = args.packed(kBaskets, "baskets");
    const PlainOptions plain = read_options(args);

    const MiningStats stats = pg::cpp([&] {
        RuleOptions options;
        options.min_support = plain.min_support;
        options.min_confidence = plain.min_confidence;
        options.max_len = plain.max_len;
        options.min_len = plain.min_len;
        options.min_count = plain.min_count;
        options.max_basket_size = plain.max_basket_size;
        if (plain.has_consequents)
            options.consequents.assign(plain.consequents.items, plain.consequents.items + plain.consequents.count);
        if (plain.has_antecedents)
            options.antecedents.assign(plain.antecedents.items, plain.antecedents.items + plain.antecedents.count);
        personalize::mining::validate(options);
        auto budget = pg::memory_budget();
        const BasketCollection baskets =
            BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget);
        return personalize::mining::mine_rules(baskets, options, budget, pg::interrupt(),
                                       [&](const Rule &rule) { pg::pg([&] { store_rule(rsinfo, rule); }); });
    });
    if (stats.skipped_baskets > 0)
        ereport(NOTICE, (errmsg_plural("association_rules: skipped %lld basket with more than %lld items",
                                       "association_rules: skipped %lld baskets with more than %lld items",
                                       static_cast<unsigned long>(stats.skipped_baskets),
                                       static_cast<long long>(stats.skipped_baskets),
                                       static_cast<long long>(plain.max_basket_size))));
    ereport(DEBUG1, (errmsg("association_rules: %lld baskets, min count %lld, %lld frequent items, %lld frequent "
                            "itemsets, %lld rules, peak memory %.1f MB",
                            static_cast<long long>(stats.baskets), static_cast<long long>(stats.min_count),
                            static_cast<long long>(stats.frequent_items),
                            static_cast<long long>(stats.frequent_itemsets), static_cast<long long>(stats.rules),
                            stats.peak_bytes / 1048576.0)));
    return static_cast<Datum>(0);
}
