// The combine, serial and deserial functions every parallel aggregate with a
// C++ state (`internal` in SQL) needs, written once. A state is made by
// make_owned, so a memory-context reset frees it.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

#include "pg/common/boundary.hpp"
#include "pg/common/varlena.hpp"

namespace personalize::pg {

// combinefunc(into, from): a NULL `from` keeps `into`; otherwise `merge`
// (a callable (State &into, const State &from)) folds `from` into the state
// `state_of(fcinfo, context)` returns: `into`, or a new state in the
// aggregate's context. `from` is never adopted: it may live in a
// shorter-lived context.
template <typename State, typename StateOf, typename Merge>
Datum combine_states(FunctionCallInfo fcinfo, const char *function, StateOf state_of, Merge merge) {
    MemoryContext context = aggregate_context(fcinfo, function);
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const auto *from = reinterpret_cast<const State *>(PG_GETARG_POINTER(1));
    State *into = state_of(fcinfo, context);
    cpp([&] { merge(*into, *from); });
    PG_RETURN_POINTER(into);
}

// The same for states whose merge is `into.merge(from)`.
template <typename State, typename StateOf>
Datum combine_states(FunctionCallInfo fcinfo, const char *function, StateOf state_of) {
    return combine_states<State>(fcinfo, function, state_of,
                                 [](State &into, const State &from) { into.merge(from); });
}

// serialfunc(state) → bytea: `Serialized` is the state itself or a view of it
// constructible from `const State &`, with write(ByteWriter &) (core/common/bytes.hpp).
// `what` names it in the error past PostgreSQL's 1 GB limit.
template <typename State, typename Serialized = State>
Datum serialize_state(FunctionCallInfo fcinfo, const char *function, const char *what) {
    aggregate_context(fcinfo, function);
    const auto *state = reinterpret_cast<const State *>(PG_GETARG_POINTER(0));
    varlena *out = cpp([&] {
        if constexpr (std::is_same_v<Serialized, State>)
            return to_varlena(*state, what);  // no copy
        else
            return to_varlena(Serialized{*state}, what);
    });
    PG_RETURN_BYTEA_P(out);
}

// deserialfunc(bytea, internal) → state: `read(bytes, size)` returns a new
// State* (and must not leak it when it throws). The state lives as long as
// the current, per-call context: the combine function copies from it.
template <typename Read>
Datum deserialize_state(FunctionCallInfo fcinfo, const char *function, Read read) {
    aggregate_context(fcinfo, function);
    const varlena *bytes = PG_GETARG_BYTEA_PP(0);
    const unsigned char *data = varlena_bytes(bytes);
    const std::size_t size = varlena_size(bytes);
    auto *state = make_owned(CurrentMemoryContext, [&] { return read(data, size); });
    PG_RETURN_POINTER(state);
}

// deserialfunc for states that cannot move (their vectors point at their
// budget): `make()` returns a new empty state, whose read(ByteReader &) then
// reads the whole value. `function` names the value in DataCorrupted errors.
template <typename Make>
Datum deserialize_state_in_place(FunctionCallInfo fcinfo, const char *function, Make make) {
    return deserialize_state(fcinfo, function, [&](const unsigned char *data, std::size_t size) {
        std::unique_ptr<std::remove_pointer_t<decltype(make())>> state(make());
        read_whole(data, size, function, [&](ByteReader &in) { state->read(in); });
        return state.release();
    });
}

}  // namespace personalize::pg
