// RFM scoring in SQL: the rfm_breakpoints(recency, frequency, monetary [, bins])
// aggregate (values collected by the transition and combine functions, the
// quantiles in the final function) and rfm_score(breakpoints, ...), which
// parses its jsonb once per call site (fn_extra).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/customers/rfm.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_argument_cache.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

namespace pg = personalize::pg;
using personalize::customers::RfmBreakpoints;
using personalize::customers::RfmCollector;

namespace {

RfmCollector *collector(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<RfmCollector *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new RfmCollector(pg::memory_budget()); });
}

// The breakpoints of a jsonb argument, parsed once per call site.
struct BreakpointsCache : pg::ParsedJsonb<RfmBreakpoints> {
    TupleDesc result = nullptr;  // the blessed result row type, in fn_mcxt
};

BreakpointsCache &call_site_cache(FunctionCallInfo fcinfo) {
    auto &cache = pg::parsed_jsonb_argument<BreakpointsCache>(fcinfo, 0, [](const char *text) {
        return RfmBreakpoints::from_json(text);
    });
    if (cache.result == nullptr) {
        TupleDesc found;
        if (get_call_result_type(fcinfo, nullptr, &found) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("rfm_score: result must be a row type")));
        MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
        cache.result = BlessTupleDesc(CreateTupleDescCopy(found));
        MemoryContextSwitchTo(old);
    }
    return cache;
}

}  // namespace

// Rows with a NULL recency, frequency or monetary are skipped.
PERSONALIZE_FUNCTION(personalize_rfm_breakpoints_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "rfm_breakpoints");
    const pg::Arguments args(fcinfo, "rfm_breakpoints");
    const std::int64_t bins = args.int4(4, "bins", personalize::customers::kRfmDefaultBins);  // NULL: an error on skipped rows too
    if (args.is_null(1) || args.is_null(2) || args.is_null(3)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const double r = args.float8(1, "recency"), f = args.float8(2, "frequency"), m = args.float8(3, "monetary");
    RfmCollector *state = collector(fcinfo, context);
    pg::cpp([&] {
        state->set_bins(bins);
        state->add(r, f, m);
    });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_rfm_breakpoints_combine) {
    return pg::combine_states<RfmCollector>(fcinfo, "rfm_breakpoints", collector);
}

PERSONALIZE_FUNCTION(personalize_rfm_breakpoints_serialize) {
    return pg::serialize_state<RfmCollector>(fcinfo, "rfm_breakpoints", "partial rfm_breakpoints state");
}

PERSONALIZE_FUNCTION(personalize_rfm_breakpoints_deserialize) {
    return pg::deserialize_state(fcinfo, "rfm_breakpoints", [](const unsigned char *data, std::size_t size) {
        return new RfmCollector(RfmCollector::deserialize(data, size, pg::memory_budget()));
    });
}

// The breakpoints as jsonb; no (non-NULL) rows: NULL.
PERSONALIZE_FUNCTION(personalize_rfm_breakpoints_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const auto *state = reinterpret_cast<const RfmCollector *>(PG_GETARG_POINTER(0));
    if (state->empty()) PG_RETURN_NULL();
    char *json = pg::cpp([&] {
        const std::string text = state->breakpoints(pg::interrupt()).to_json();
        char *copy = nullptr;
        pg::pg([&] { copy = pnstrdup(text.data(), text.size()); });
        return copy;
    });
    PG_RETURN_DATUM(pg::cstring_to_jsonb(json));
}

// rfm_score(breakpoints, recency, frequency, monetary) -> (r, f, m), each 1..bins.
PERSONALIZE_FUNCTION(personalize_rfm_score) {
    BreakpointsCache &cache = call_site_cache(fcinfo);
    const pg::Arguments args(fcinfo, "rfm_score");
    const double r = args.float8(1, "recency"), f = args.float8(2, "frequency"), m = args.float8(3, "monetary");
    const personalize::customers::RfmScore s = pg::cpp([&] { return cache.model->score(r, f, m); });
    Datum values[3] = {Int32GetDatum(s.r), Int32GetDatum(s.f), Int32GetDatum(s.m)};
    bool nulls[3] = {false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache.result, values, nulls)));
}
