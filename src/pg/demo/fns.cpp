// personalize.demo_*(size, seed): the deterministic demo shop as set-returning
// functions. Each call runs one core generator to the end inside C++; rows go
// into the result tuplestore through pg(...), so a PostgreSQL error while
// storing a row (disk full, cancel) becomes a C++ exception, and long
// generations are cancelable through the core's interrupt polling.
#include <cmath>
#include <string>
#include <string_view>

#include "core/demo/shop.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace demo = personalize::demo;
namespace pg = personalize::pg;

namespace {

constexpr int64 kUnixToPostgresEpochUsec =
    static_cast<int64>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

Datum timestamp_datum(std::int64_t unix_usec) { return TimestampTzGetDatum(unix_usec - kUnixToPostgresEpochUsec); }

// GBP amounts leave core rounded to pence; numeric(12,2) is what a shop stores.
Datum money_datum(double gbp) {
    return NumericGetDatum(int64_div_fast_to_numeric(static_cast<int64>(std::llround(gbp * 100.0)), 2));
}

// 0 means "none" in the core rows; NULL in SQL.
Datum optional_id(std::int64_t id, bool *isnull) {
    *isnull = id == 0;
    return Int64GetDatum(id);
}

template <typename Row>
using Generator = void (*)(const demo::ShopSpec &, const demo::Sink<Row> &, const personalize::Interrupt &);
template <typename Row>
using Fill = void (*)(const Row &, Datum *, bool *);

// Runs `generate` for (size, seed) and stores every row it emits.
template <typename Row, int Columns>
Datum materialize(FunctionCallInfo fcinfo, Generator<Row> generate, Fill<Row> fill) {
    const pg::Arguments args(fcinfo, "demo shop");
    const std::string_view size = args.text(0, "size");
    const std::int64_t seed = args.int8(1, "seed");
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "demo shop row", ALLOCSET_SMALL_SIZES);

    pg::cpp([&] {
        const demo::ShopSpec spec = demo::make_spec(std::string(size), seed);
        Datum values[Columns];
        bool nulls[Columns];
        generate(
            spec,
            [&](const Row &row) {
                pg::pg([&] {
                    MemoryContext caller = MemoryContextSwitchTo(row_context);
                    for (bool &n : nulls) n = false;
                    fill(row, values, nulls);
                    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
                    MemoryContextSwitchTo(caller);
                    MemoryContextReset(row_context);
                });
            },
            pg::interrupt());
    });
    MemoryContextDelete(row_context);
    return static_cast<Datum>(0);
}

void fill_customer(const demo::Customer &c, Datum *v, bool *) {
    v[0] = Int64GetDatum(c.customer_id);
    v[1] = timestamp_datum(c.signed_up_at);
    v[2] = CStringGetTextDatum(c.country);
    v[3] = BoolGetDatum(c.email_opt_in);
}

void fill_product(const demo::Product &p, Datum *v, bool *) {
    v[0] = Int64GetDatum(p.product_id);
    v[1] = CStringGetTextDatum(p.name);
    v[2] = CStringGetTextDatum(p.category);
    v[3] = money_datum(p.price);
}

void fill_order(const demo::Order &o, Datum *v, bool *) {
    v[0] = Int64GetDatum(o.order_id);
    v[1] = Int64GetDatum(o.customer_id);
    v[2] = timestamp_datum(o.ordered_at);
    v[3] = CStringGetTextDatum(o.status);
    v[4] = money_datum(o.total);
    v[5] = Int32GetDatum(o.lines);
}

void fill_order_line(const demo::OrderLine &l, Datum *v, bool *) {
    v[0] = Int64GetDatum(l.order_id);
    v[1] = Int32GetDatum(l.line_no);
    v[2] = Int64GetDatum(l.product_id);
    v[3] = Int32GetDatum(l.quantity);
    v[4] = money_datum(l.unit_price);
    v[5] = money_datum(l.amount);
}

void fill_session(const demo::Session &s, Datum *v, bool *nulls) {
    v[0] = Int64GetDatum(s.session_id);
    v[1] = optional_id(s.customer_id, &nulls[1]);
    v[2] = timestamp_datum(s.started_at);
    v[3] = timestamp_datum(s.ended_at);
    v[4] = Int32GetDatum(s.pages_viewed);
    v[5] = Int32GetDatum(s.items_in_cart);
    v[6] = money_datum(s.cart_value);
    v[7] = BoolGetDatum(s.exit_intent);
    v[8] = BoolGetDatum(s.converted);
    v[9] = optional_id(s.order_id, &nulls[9]);
}

void fill_session_event(const demo::SessionEvent &e, Datum *v, bool *nulls) {
    v[0] = Int64GetDatum(e.session_id);
    v[1] = Int32GetDatum(e.seq);
    v[2] = timestamp_datum(e.event_at);
    v[3] = CStringGetTextDatum(e.event_type);
    v[4] = optional_id(e.product_id, &nulls[4]);
}

void fill_planted_pair(const demo::PlantedPair &p, Datum *v, bool *) {
    v[0] = Int64GetDatum(p.antecedent);
    v[1] = Int64GetDatum(p.consequent);
    v[2] = Float8GetDatum(p.attach_rate);
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_demo_customers) {
    return materialize<demo::Customer, 4>(fcinfo, demo::generate_customers, fill_customer);
}
PERSONALIZE_FUNCTION(personalize_demo_products) {
    return materialize<demo::Product, 4>(fcinfo, demo::generate_products, fill_product);
}
PERSONALIZE_FUNCTION(personalize_demo_orders) {
    return materialize<demo::Order, 6>(fcinfo, demo::generate_orders, fill_order);
}
PERSONALIZE_FUNCTION(personalize_demo_order_lines) {
    return materialize<demo::OrderLine, 6>(fcinfo, demo::generate_order_lines, fill_order_line);
}
PERSONALIZE_FUNCTION(personalize_demo_sessions) {
    return materialize<demo::Session, 10>(fcinfo, demo::generate_sessions, fill_session);
}
PERSONALIZE_FUNCTION(personalize_demo_session_events) {
    return materialize<demo::SessionEvent, 5>(fcinfo, demo::generate_session_events, fill_session_event);
}
PERSONALIZE_FUNCTION(personalize_demo_planted_pairs) {
    return materialize<demo::PlantedPair, 3>(fcinfo, demo::generate_planted_pairs, fill_planted_pair);
}
