// The rule language in SQL: check_rule() (the CHECK constraint on
// offers.rule), rule_currencies() and is_currency() (the CHECKs on the
// reward currency), rule_fields(), rule_holds(rule, context), and the small
// helpers holdout_draw() and normal_two_sided_p() used by decisions and the
// uplift report.
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "core/rules/rules.hpp"
#include "core/offers/selection.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/rules/context_jsonb.hpp"
#include "pg/offers/catalogue.hpp"
#include "pg/rules/backend_cache.hpp"
#include "pg/common/srf.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
namespace rules = personalize::rules;

namespace {

// The compiled rule of the last rule text seen at a call site.
struct RuleSite {
    std::string text;
    rules::RulePtr rule;
};

const rules::Rule &site_rule(FunctionCallInfo fcinfo, std::string_view rule_text) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = pg::make_owned(fcinfo->flinfo->fn_mcxt, [] { return new RuleSite(); });
    auto &site = *static_cast<RuleSite *>(fcinfo->flinfo->fn_extra);
    if (site.rule && site.text == rule_text) return *site.rule;
    pg::cpp([&] {
        site.rule.reset();
        site.text.assign(rule_text);
        site.rule = pg::rule_cache().get(site.text);
    });
    return *site.rule;
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_check_rule) {
    const std::string_view rule = pg::Arguments(fcinfo, "check_rule").text(0, "rule");
    pg::cpp([&] { pg::rule_cache().get(rule); });
    PG_RETURN_BOOL(true);
}

// rule_currencies(rule) -> text[]: the currencies of the rule's money literals.
PERSONALIZE_FUNCTION(personalize_rule_currencies) {
    const std::string_view rule = pg::Arguments(fcinfo, "rule_currencies").text(0, "rule");
    // At most a handful of codes of three letters: a fixed buffer, no C++ object outlives cpp().
    constexpr int kMax = 64;
    char codes[kMax][4];
    const int n = pg::cpp([&] {
        const std::vector<std::string> found = pg::rule_cache().get(rule)->currencies();
        if (found.size() > static_cast<std::size_t>(kMax))
            throw personalize::Error(personalize::ErrorCode::ProgramLimit,
                                     "rule_currencies: the rule names more than 64 currencies");
        int count = 0;
        for (const std::string &c : found) std::memcpy(codes[count++], c.c_str(), 4);  // three letters and '\0'
        return count;
    });
    Datum items[kMax];
    for (int i = 0; i < n; ++i) items[i] = CStringGetTextDatum(codes[i]);
    PG_RETURN_ARRAYTYPE_P(construct_array(items, n, TEXTOID, -1, false, TYPALIGN_INT));
}

// is_currency(code) -> boolean: an ISO 4217 code as rule literals write it.
PERSONALIZE_FUNCTION(personalize_is_currency) {
    const std::string_view code = pg::Arguments(fcinfo, "is_currency").text(0, "code");
    PG_RETURN_BOOL(rules::is_currency_code(code));
}

PERSONALIZE_FUNCTION(personalize_rule_fields) {
    ReturnSetInfo *rsinfo = pg::init_materialized_srf(fcinfo);
    const std::vector<rules::FieldInfo> *fields = nullptr;
    pg::cpp([&] { fields = &rules::field_catalogue(); });
    for (const rules::FieldInfo &f : *fields) {
        Datum values[3] = {CStringGetTextDatum(f.path), CStringGetTextDatum(f.type), CStringGetTextDatum(f.description)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}

PERSONALIZE_FUNCTION(personalize_rule_holds) {
    const pg::Arguments args(fcinfo, "rule_holds");
    const rules::Rule &rule = site_rule(fcinfo, args.text(0, "rule"));
    const personalize::ContextTree tree = pg::jsonb_context_tree(args.jsonb(1, "context"));
    const std::int64_t now = pg::unix_micros(GetCurrentStatementStartTimestamp());
    const rules::Truth truth = pg::cpp([&] {
        rules::Evaluator evaluator(tree, now);
        return evaluator.evaluate(rule);
    });
    if (truth == rules::Truth::Unknown) PG_RETURN_NULL();
    PG_RETURN_BOOL(truth == rules::Truth::True);
}

PERSONALIZE_FUNCTION(personalize_holdout_draw) {
    const pg::Arguments args(fcinfo, "holdout_draw");
    const std::int64_t customer = args.int8(0, "customer_id");
    const std::string_view key = args.text(1, "experiment_key");
    const double draw = pg::cpp([&] { return personalize::offers::holdout_draw(customer, key); });
    PG_RETURN_FLOAT8(draw);
}

PERSONALIZE_FUNCTION(personalize_normal_two_sided_p) {
    const double z = pg::Arguments(fcinfo, "normal_two_sided_p").float8(0, "z");
    if (std::isnan(z)) PG_RETURN_FLOAT8(z);
    PG_RETURN_FLOAT8(std::erfc(std::fabs(z) / std::sqrt(2.0)));
}
