// personalize.aggregate_state: the one SQL state type of every aggregate of
// the extension (instead of `internal`, which Citus never pushes down to the
// workers). Flat, it is exactly the byte form the aggregate's serialfunc
// already wrote for parallel aggregation (header tag, version, fields:
// core/common/bytes.hpp); between rows it is a PostgreSQL expanded object
// holding the live C++ state, so a transition costs what it did with
// `internal`. The SQL transition, combine and final functions are thin
// wrappers (state_transfn & co.) around the existing internal-state C
// functions: they swap the expanded datum for the C++ pointer and back.
#pragma once

#include <cstdint>

#include "pg/common/postgres.hpp"

namespace personalize::pg {

// One kind of state: the C functions that serialise (internal → bytea) and
// deserialise (bytea → internal) it, and the tag its byte form starts with.
struct StateKind {
    const char *name;
    std::uint32_t tag;
    PGFunction serialize;
    PGFunction deserialize;
};

// Registers a kind (called from static initialisers, one per kind), so the
// type's input function can validate a value of any kind by its tag.
const StateKind &register_state_kind(const char *name, std::uint32_t tag, PGFunction serialize,
                                     PGFunction deserialize);

// The SQL-callable wrappers: arguments 0 (and for combine 1) are
// aggregate_state datums, flat or expanded; `inner` is the internal-state
// C function of the same role.
Datum state_transfn(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner);
Datum state_combine(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner);
Datum state_final(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner);

}  // namespace personalize::pg

#define PERSONALIZE_STATE_WRAPPER(NAME, ROLE, KIND, INNER)                        \
    extern "C" {                                                                  \
    PG_FUNCTION_INFO_V1(NAME);                                                    \
    Datum INNER(PG_FUNCTION_ARGS);                                                \
    }                                                                             \
    extern "C" Datum NAME(PG_FUNCTION_ARGS) { return ::personalize::pg::state_##ROLE(fcinfo, KIND, INNER); }
