// personalize.demo_*(size, seed): the deterministic demo shop as set-returning
// functions. Each call runs one core generator to the end inside C++; rows go
// into the result tuplestore through pg(...), so a PostgreSQL error while
// storing a row (disk full, cancel) becomes a C++ exception, and long
// generations are cancelable through the core's interrupt polling.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

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

// Column values whose C++ type alone does not say what they are in SQL.
struct Timestamp {
    std::int64_t unix_usec;
};
struct Money {  // GBP, leaving core rounded to pence; numeric(12,2) is what a shop stores
    double gbp;
};
struct OptionalId {  // 0 means "none" in the core rows: NULL in SQL
    std::int64_t id;
};

Datum datum(std::int64_t v, bool *) { return Int64GetDatum(v); }
Datum datum(std::int32_t v, bool *) { return Int32GetDatum(v); }
Datum datum(bool v, bool *) { return BoolGetDatum(v); }
Datum datum(double v, bool *) { return Float8GetDatum(v); }
Datum datum(const char *v, bool *) { return CStringGetTextDatum(v); }
Datum datum(Timestamp v, bool *) { return TimestampTzGetDatum(v.unix_usec - kUnixToPostgresEpochUsec); }
Datum datum(Money v, bool *) {
    return NumericGetDatum(int64_div_fast_to_numeric(static_cast<int64>(std::llround(v.gbp * 100.0)), 2));
}
Datum datum(OptionalId v, bool *isnull) {
    *isnull = v.id == 0;
    return Int64GetDatum(v.id);
}

// Each table's row as its SQL columns, in order (src/sql/20_demo.sql).
auto columns(const demo::Customer &c) {
    return std::make_tuple(c.customer_id, Timestamp{c.signed_up_at}, c.country, c.email_opt_in);
}
auto columns(const demo::Product &p) { return std::make_tuple(p.product_id, p.name, p.category, Money{p.price}); }
auto columns(const demo::Order &o) {
    return std::make_tuple(o.order_id, o.customer_id, Timestamp{o.ordered_at}, o.status, Money{o.total}, o.lines);
}
auto columns(const demo::OrderLine &l) {
    return std::make_tuple(l.order_id, l.line_no, l.product_id, l.quantity, Money{l.unit_price}, Money{l.amount});
}
auto columns(const demo::Session &s) {
    return std::make_tuple(s.session_id, OptionalId{s.customer_id}, Timestamp{s.started_at}, Timestamp{s.ended_at},
                           s.pages_viewed, s.items_in_cart, Money{s.cart_value}, s.exit_intent, s.converted,
                           OptionalId{s.order_id});
}
auto columns(const demo::SessionEvent &e) {
    return std::make_tuple(e.session_id, e.seq, Timestamp{e.event_at}, e.event_type, OptionalId{e.product_id});
}
auto columns(const demo::PlantedPair &p) { return std::make_tuple(p.antecedent, p.consequent, p.attach_rate); }

template <typename Columns, std::size_t... I>
void store(const Columns &row, Datum *values, bool *nulls, std::index_sequence<I...>) {
    ((values[I] = datum(std::get<I>(row), &nulls[I])), ...);
}

template <typename Row>
using Generator = void (*)(const demo::ShopSpec &, const demo::Sink<Row> &, const personalize::Interrupt &);

// Runs `generate` for (size, seed) and stores every row it emits.
template <typename Row>
Datum materialize(FunctionCallInfo fcinfo, Generator<Row> generate) {
    using Columns = decltype(columns(std::declval<const Row &>()));
    constexpr std::size_t kColumns = std::tuple_size_v<Columns>;
    const pg::Arguments args(fcinfo, "demo shop");
    const std::string_view size = args.text(0, "size");
    const std::int64_t seed = args.int8(1, "seed");
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "demo shop row", ALLOCSET_SMALL_SIZES);

    pg::cpp([&] {
        const demo::ShopSpec spec = demo::make_spec(std::string(size), seed);
        Datum values[kColumns];
        bool nulls[kColumns];
        generate(
            spec,
            [&](const Row &row) {
                pg::pg([&] {
                    MemoryContext caller = MemoryContextSwitchTo(row_context);
                    for (bool &n : nulls) n = false;
                    store(columns(row), values, nulls, std::make_index_sequence<kColumns>());
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

}  // namespace

PERSONALIZE_FUNCTION(personalize_demo_customers) { return materialize(fcinfo, demo::generate_customers); }
PERSONALIZE_FUNCTION(personalize_demo_products) { return materialize(fcinfo, demo::generate_products); }
PERSONALIZE_FUNCTION(personalize_demo_orders) { return materialize(fcinfo, demo::generate_orders); }
PERSONALIZE_FUNCTION(personalize_demo_order_lines) { return materialize(fcinfo, demo::generate_order_lines); }
PERSONALIZE_FUNCTION(personalize_demo_sessions) { return materialize(fcinfo, demo::generate_sessions); }
PERSONALIZE_FUNCTION(personalize_demo_session_events) { return materialize(fcinfo, demo::generate_session_events); }
PERSONALIZE_FUNCTION(personalize_demo_planted_pairs) { return materialize(fcinfo, demo::generate_planted_pairs); }
