// personalize.customer_summary(ordered_at, amount, as_of [, unit [, time_zone]]): the
// aggregate's transition, combine, serial, deserial and final functions.
// The state is a core CustomerSummary owned by the aggregate's memory context.
#include <cmath>

#include "core/customers/summary.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/date.h"
#include "utils/timestamp.h"
}

using personalize::customers::CustomerSummary;
using personalize::customers::SummaryParams;
using personalize::customers::SummaryResult;
namespace pg = personalize::pg;

namespace {

constexpr double kSecondsPerDay = 86400.0;

// The calendar day of a timestamp in the session's TimeZone, as ::date does.
int32 local_day(TimestampTz ts) {
    return DatumGetDateADT(DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(ts)));
}

// The same in an explicit time zone (a Datum of type text), as
// (ts AT TIME ZONE zone)::date does: the same answer on every node.
int32 zone_day(Datum zone, TimestampTz ts) {
    const Datum local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(ts));
    return DatumGetDateADT(DirectFunctionCall1(timestamp_date, local));
}

double unit_in_days(const Interval *unit) {
    // As extract(epoch from interval), a month counts 30 days.
    return unit->month * static_cast<double>(DAYS_PER_MONTH) + unit->day +
           unit->time / (kSecondsPerDay * USECS_PER_SEC);
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_customer_summary_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "customer_summary_transfn");
    const pg::Arguments args(fcinfo, "customer_summary");
    auto *state = args.is_null(0) ? nullptr : reinterpret_cast<CustomerSummary *>(PG_GETARG_POINTER(0));

    if (args.is_null(1)) {  // no order timestamp: the row is skipped
        if (state == nullptr) PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    const pg::ArgumentValue<TimestampTz> ordered_at = args.timestamptz(1, "ordered_at");
    const double amount = args.float8(2, "amount");
    const pg::ArgumentValue<TimestampTz> as_of = args.timestamptz(3, "as_of");
    const Interval *unit = args.has(4) ? args.interval(4, "unit") : nullptr;
    const bool zoned = args.has(5);
    if (zoned) (void)args.text(5, "time_zone");  // NULL: 22004 naming it
    const Datum zone = zoned ? PG_GETARG_DATUM(5) : Datum(0);
    ordered_at.finite_timestamp();
    as_of.finite_timestamp();

    if (state == nullptr) state = pg::make_owned(context, [] { return new CustomerSummary(); });
    SummaryParams params;
    params.as_of = as_of;
    // as_of is the same on every row: its day is computed once per group.
    const SummaryParams *previous = state->params();
    params.as_of_day = previous != nullptr && previous->as_of == as_of ? previous->as_of_day
                        : zoned                                             ? zone_day(zone, as_of)
                                                                            : local_day(as_of);
    params.unit_days = unit != nullptr ? unit_in_days(unit) : 1.0;
    const int32 day = zoned ? zone_day(zone, ordered_at) : local_day(ordered_at);

    pg::cpp([&] { state->add(params, ordered_at, day, amount); });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_customer_summary_combine) {
    return pg::combine_states<CustomerSummary>(fcinfo, "customer_summary_combine",
                                               [](FunctionCallInfo fcinfo, MemoryContext context) {
                                                   if (!PG_ARGISNULL(0))
                                                       return reinterpret_cast<CustomerSummary *>(PG_GETARG_POINTER(0));
                                                   return pg::make_owned(context, [] { return new CustomerSummary(); });
                                               });
}

PERSONALIZE_FUNCTION(personalize_customer_summary_serialize) {
    return pg::serialize_state<CustomerSummary>(fcinfo, "customer_summary_serialize", "partial customer_summary state");
}

PERSONALIZE_FUNCTION(personalize_customer_summary_deserialize) {
    return pg::deserialize_state(fcinfo, "customer_summary_deserialize", [](const unsigned char *data, std::size_t size) {
        return new CustomerSummary(CustomerSummary::deserialize(data, size));
    });
}

PERSONALIZE_FUNCTION(personalize_customer_summary_final) {
    const auto *state = reinterpret_cast<const CustomerSummary *>(PG_GETARG_POINTER(0));
    if (state->empty()) PG_RETURN_NULL();

    // The result row's descriptor, built once per query.
    auto *desc = static_cast<TupleDesc>(fcinfo->flinfo->fn_extra);
    if (desc == nullptr) {
        TupleDesc found;
        if (get_call_result_type(fcinfo, nullptr, &found) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("customer_summary: result type must be a row type")));
        MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
        desc = BlessTupleDesc(CreateTupleDescCopy(found));
        MemoryContextSwitchTo(old);
        fcinfo->flinfo->fn_extra = desc;
    }

    const SummaryResult r = pg::cpp([&] { return state->result(); });
    Datum values[8] = {
        Int64GetDatum(r.orders),       TimestampTzGetDatum(r.first_order_at), TimestampTzGetDatum(r.last_order_at),
        Int64GetDatum(r.frequency),    Float8GetDatum(r.recency),            Float8GetDatum(r.age),
        Float8GetDatum(r.monetary),    Float8GetDatum(r.total),
    };
    bool nulls[8] = {false, false, false, false, false, false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
