// What the suggestion functions share: reading and checking their
// arguments, the tables they read (quoted names, required and optional
// columns), and building result rows. PostgreSQL code: call outside cpp(...).
#pragma once

#include <cstdint>

#include "core/suggest/suggestions.hpp"
#include "pg/common/postgres.hpp"

namespace personalize::pg {

// The tables of a call. Fixed column names (make a view to rename):
//   history       customer_id, item_id, bought_at
//   similarities  item, neighbour, score, together (from item_similarities)
//   items         item_id [, category] [, rebuyable]      (optional table)
//   popular       segment, item_id, score                 (optional table)
//   customers     customer_id [, segment]                 (batch only)
struct SuggestionTables {
    const char *history = nullptr;  // quoted, schema-qualified names; nullptr: not given
    const char *similarities = nullptr;
    const char *items = nullptr;
    const char *popular = nullptr;
    const char *customers = nullptr;
    Oid history_id = InvalidOid, similarities_id = InvalidOid, items_id = InvalidOid, popular_id = InvalidOid;
    bool items_have_category = false, items_have_rebuyable = false, customers_have_segment = false;
};

// Options and tables from the arguments (numbers are argument positions, -1
// when the function has no such argument); errors name the argument.
struct SuggestionArguments {
    int history, similarities, n, items, popular, category_cap, half_life, min_history, customers;
};
void read_suggestion_arguments(FunctionCallInfo fcinfo, const char *function, const SuggestionArguments &at,
                               suggest::Options &options, SuggestionTables &tables);

// A bought_at value in microseconds; infinite: an error naming "history".
double purchase_time(Datum timestamptz, const char *function);

// The string under a text datum (not copied unless toasted).
struct TextView {
    const char *data;
    std::size_t size;
};
TextView text_view(Datum value);

// One result row's values from a suggestion (rank 1-based); `prefix`
// values (the batch's customer_id) come first.
void put_suggestion_row(ReturnSetInfo *rsinfo, const Datum *prefix, int prefix_count, int rank,
                        const suggest::Suggestion &s);

}  // namespace personalize::pg
