// The SQL type personalize.aggregate_state (text and binary I/O, the
// expanded in-memory form) and the wrappers that let the existing
// internal-state aggregate functions run on it (aggregate_state_type.hpp).
// No C++ object with a destructor lives in these frames: they call
// PostgreSQL freely and the C++ work stays inside the wrapped functions.
#include <cstring>

#include "core/common/bytes.hpp"
#include "pg/common/aggregate_state_type.hpp"

#include "pg/common/boundary.hpp"

extern "C" {
#include "libpq/pqformat.h"
#include "utils/expandeddatum.h"
}

namespace personalize::pg {

namespace {

constexpr int kMaxKinds = 16;
StateKind registered[kMaxKinds];
int registered_count = 0;

// The expanded form: the live C++ state of one group. `flat` caches the byte
// form between get_flat_size and flatten_into; every wrapper drops it before
// handing the state to a function that may change it.
struct StateObject {
    ExpandedObjectHeader header;
    const StateKind *kind;
    void *state;
    varlena *flat;
};

Size state_flat_size(ExpandedObjectHeader *eohptr);
void state_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);
const ExpandedObjectMethods state_methods = {state_flat_size, state_flatten_into};

// Runs a kind's serialise or deserialise C function. Inside an aggregate
// (`outer` given) the function sees the aggregate's call context; outside
// one (type I/O, flattening) its aggregate_context() answers `context`.
Datum call_io(PGFunction fn, Datum arg, FunctionCallInfo outer, MemoryContext context) {
    LOCAL_FCINFO(call, 2);
    InitFunctionCallInfoData(*call, nullptr, 2, InvalidOid, outer != nullptr ? outer->context : nullptr, nullptr);
    call->args[0].value = arg;
    call->args[0].isnull = false;
    call->args[1].value = 0;
    call->args[1].isnull = true;
    MemoryContext saved = aggregate_state_io_context;
    aggregate_state_io_context = context;
    Datum result = 0;
    PG_TRY();
    {
        result = fn(call);
    }
    PG_FINALLY();
    {
        aggregate_state_io_context = saved;
    }
    PG_END_TRY();
    return result;
}

Size state_flat_size(ExpandedObjectHeader *eohptr) {
    auto *object = reinterpret_cast<StateObject *>(eohptr);
    if (object->flat == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(object->header.eoh_context);
        object->flat = reinterpret_cast<varlena *>(DatumGetPointer(
            call_io(object->kind->serialize, PointerGetDatum(object->state), nullptr, object->header.eoh_context)));
        MemoryContextSwitchTo(old);
    }
    return VARSIZE(object->flat);
}

void state_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size) {
    auto *object = reinterpret_cast<StateObject *>(eohptr);
    const Size size = state_flat_size(eohptr);
    if (size != allocated_size) elog(ERROR, "aggregate_state: flat size changed (%zu, %zu)", size, allocated_size);
    std::memcpy(result, object->flat, size);
    pfree(object->flat);
    object->flat = nullptr;
}

// The object behind an expanded datum of this type, or nullptr for a flat
// value (or, with `writable`, for a read-only pointer).
StateObject *object_of(Datum value, bool writable) {
    auto *pointer = reinterpret_cast<varlena *>(DatumGetPointer(value));
    if (!VARATT_IS_EXTERNAL_EXPANDED(pointer)) return nullptr;
    if (writable && !VARATT_IS_EXTERNAL_EXPANDED_RW(pointer)) return nullptr;
    ExpandedObjectHeader *eoh = DatumGetEOHP(value);
    if (eoh->eoh_methods != &state_methods) return nullptr;
    auto *object = reinterpret_cast<StateObject *>(eoh);
    if (object->flat != nullptr) {
        pfree(object->flat);
        object->flat = nullptr;
    }
    return object;
}

StateObject *new_object(const StateKind &kind, void *state, MemoryContext context) {
    auto *object = static_cast<StateObject *>(MemoryContextAlloc(context, sizeof(StateObject)));
    EOH_init_header(&object->header, &state_methods, context);
    object->kind = &kind;
    object->state = state;
    object->flat = nullptr;
    return object;
}

// The context of new expanded objects: one child of the aggregate's context
// for all its groups (nodeAgg keeps an object between rows without a copy
// only when its context is a child of the aggregate's). One per group would
// make hash aggregation quadratic: it sums the memory of every child context
// at each new group. A reset (or deletion) of the aggregate's context frees
// the child and forgets it; the object of a group is never replaced
// (wrap_result), so nodeAgg never deletes one (which would free them all).
struct SharedContext {
    MemoryContext aggcontext;
    MemoryContext objects;
};
constexpr int kSharedContexts = 8;
SharedContext shared_contexts[kSharedContexts];
int next_shared_context = 0;

struct ForgetOnReset {
    MemoryContextCallback callback;
    int slot;
    MemoryContext aggcontext;
};

void forget_shared_context(void *arg) {
    const auto *forget = static_cast<const ForgetOnReset *>(arg);
    SharedContext &entry = shared_contexts[forget->slot];
    if (entry.aggcontext == forget->aggcontext) entry = SharedContext{nullptr, nullptr};
}

MemoryContext object_context(MemoryContext aggcontext) {
    for (const SharedContext &entry : shared_contexts)
        if (entry.aggcontext == aggcontext) return entry.objects;
    int slot = -1;
    for (int i = 0; i < kSharedContexts && slot < 0; ++i)
        if (shared_contexts[i].aggcontext == nullptr) slot = i;
    if (slot < 0) slot = next_shared_context++ % kSharedContexts;  // the evicted one lives on unshared
    MemoryContext objects = AllocSetContextCreate(aggcontext, "personalize aggregate_state objects", ALLOCSET_DEFAULT_SIZES);
    auto *forget = static_cast<ForgetOnReset *>(MemoryContextAlloc(aggcontext, sizeof(ForgetOnReset)));
    forget->callback.func = forget_shared_context;
    forget->callback.arg = forget;
    forget->slot = slot;
    forget->aggcontext = aggcontext;
    MemoryContextRegisterResetCallback(aggcontext, &forget->callback);
    shared_contexts[slot] = SharedContext{aggcontext, objects};
    return objects;
}

// A new C++ state read from a flat (or read-only expanded: it is flattened)
// value, owned by `context`.
void *read_state(const StateKind &kind, Datum value, FunctionCallInfo outer, MemoryContext context) {
    MemoryContext old = MemoryContextSwitchTo(context);
    varlena *flat = pg_detoast_datum_packed(reinterpret_cast<varlena *>(DatumGetPointer(value)));
    Datum state = call_io(kind.deserialize, PointerGetDatum(flat), outer, context);
    MemoryContextSwitchTo(old);
    return DatumGetPointer(state);
}

// Argument 0 of a transition or combine call as a C++ state the call may
// change: the object's own state when it is ours and writable, else a new
// object holding a copy (which the caller then returns).
StateObject *writable_state(FunctionCallInfo fcinfo, const StateKind &kind, MemoryContext aggcontext) {
    if (fcinfo->args[0].isnull) return nullptr;
    StateObject *object = object_of(fcinfo->args[0].value, true);
    if (object == nullptr) {
        MemoryContext context = object_context(aggcontext);
        object = new_object(kind, read_state(kind, fcinfo->args[0].value, fcinfo, aggcontext), context);
    } else if (object->kind != &kind) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: the state is a %s state", kind.name, object->kind->name)));
    }
    fcinfo->args[0].value = PointerGetDatum(object->state);
    return object;
}

Datum wrap_result(FunctionCallInfo fcinfo, const StateKind &kind, StateObject *object, Datum result,
                  MemoryContext aggcontext) {
    if (fcinfo->isnull) {
        // nodeAgg would delete the object, and with it the shared context.
        if (object != nullptr) elog(ERROR, "%s: a state became NULL", kind.name);
        return 0;
    }
    void *state = DatumGetPointer(result);
    if (object != nullptr) {
        object->state = state;  // the same object, even for another state: see object_context
        return EOHPGetRWDatum(&object->header);
    }
    return EOHPGetRWDatum(&new_object(kind, state, object_context(aggcontext))->header);
}

// Throws away an error of a value that does not parse (kept in `message`);
// any other error (a cancel, out of memory) goes on.
void absorb_parse_error(MemoryContext caller, char *message, std::size_t capacity) {
    MemoryContextSwitchTo(caller);
    ErrorData *error = CopyErrorData();
    const int code = error->sqlerrcode;
    if (code != ERRCODE_DATA_CORRUPTED && ERRCODE_TO_CATEGORY(code) != ERRCODE_DATA_EXCEPTION) {
        FreeErrorData(error);
        PG_RE_THROW();
    }
    strlcpy(message, error->message != nullptr ? error->message : "", capacity);
    FreeErrorData(error);
    FlushErrorState();
}

// Checks that `value` (a flat varlena) is a state some kind can read: its tag
// names a kind and that kind's reader accepts every byte. 22P02 otherwise.
void validate(varlena *value) {
    const std::size_t size = VARSIZE_ANY_EXHDR(value);
    if (size < kByteHeaderSize)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input for type aggregate_state: %zu bytes, shorter than the 8-byte header", size)));
    std::uint32_t tag = 0;
    std::memcpy(&tag, VARDATA_ANY(value), sizeof tag);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext scratch = AllocSetContextCreate(caller, "aggregate_state check", ALLOCSET_DEFAULT_SIZES);
    char message[512] = "";
    volatile bool known = false, valid = false;
    for (int i = 0; i < registered_count && !valid; ++i) {
        if (registered[i].tag != tag) continue;
        known = true;
        PG_TRY();
        {
            read_state(registered[i], PointerGetDatum(value), nullptr, scratch);
            valid = true;
        }
        PG_CATCH();
        {
            absorb_parse_error(caller, message, sizeof message);
        }
        PG_END_TRY();
        MemoryContextSwitchTo(caller);
        MemoryContextReset(scratch);  // deletes the C++ state read
    }
    MemoryContextDelete(scratch);
    if (!known)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input for type aggregate_state: not the state of a pg_personalize aggregate"),
                        errdetail("Its header names no known kind of state.")));
    if (!valid)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input for type aggregate_state"), errdetail("%s", message)));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

MemoryContext aggregate_state_io_context = nullptr;

const StateKind &register_state_kind(const char *name, std::uint32_t tag, PGFunction serialize,
                                     PGFunction deserialize) {
    if (registered_count == kMaxKinds) abort();  // a static initialiser: a build-time mistake
    registered[registered_count] = StateKind{name, tag, serialize, deserialize};
    return registered[registered_count++];
}

Datum state_transfn(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner) {
    MemoryContext aggcontext = aggregate_context(fcinfo, kind.name);
    StateObject *object = writable_state(fcinfo, kind, aggcontext);
    const Datum result = inner(fcinfo);
    return wrap_result(fcinfo, kind, object, result, aggcontext);
}

Datum state_combine(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner) {
    MemoryContext aggcontext = aggregate_context(fcinfo, kind.name);
    StateObject *object = writable_state(fcinfo, kind, aggcontext);
    if (!fcinfo->args[1].isnull) {
        // Read only: the combine function copies from it. A flat value (from
        // a parallel worker, or a Citus worker's text) lives for this call.
        StateObject *from = object_of(fcinfo->args[1].value, false);
        fcinfo->args[1].value = PointerGetDatum(
            from != nullptr ? from->state : read_state(kind, fcinfo->args[1].value, fcinfo, CurrentMemoryContext));
    }
    const Datum result = inner(fcinfo);
    return wrap_result(fcinfo, kind, object, result, aggcontext);
}

Datum state_final(FunctionCallInfo fcinfo, const StateKind &kind, PGFunction inner) {
    if (!fcinfo->args[0].isnull) {
        StateObject *object = object_of(fcinfo->args[0].value, false);
        fcinfo->args[0].value = PointerGetDatum(
            object != nullptr ? object->state : read_state(kind, fcinfo->args[0].value, fcinfo, CurrentMemoryContext));
    }
    return inner(fcinfo);
}

}  // namespace personalize::pg

namespace pg = personalize::pg;

extern "C" {
PG_FUNCTION_INFO_V1(personalize_aggregate_state_in);
PG_FUNCTION_INFO_V1(personalize_aggregate_state_out);
PG_FUNCTION_INFO_V1(personalize_aggregate_state_recv);
PG_FUNCTION_INFO_V1(personalize_aggregate_state_send);
}

// Text form: the bytes in hexadecimal (what Citus ships between nodes).
extern "C" Datum personalize_aggregate_state_in(PG_FUNCTION_ARGS) {
    const char *text = PG_GETARG_CSTRING(0);
    const std::size_t length = std::strlen(text);
    if (length % 2 != 0 || length / 2 > MaxAllocSize - VARHDRSZ)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type aggregate_state"),
                        errdetail("Expected an even number of hexadecimal digits.")));
    auto *value = static_cast<varlena *>(palloc(VARHDRSZ + length / 2));
    SET_VARSIZE(value, VARHDRSZ + length / 2);
    auto *out = reinterpret_cast<unsigned char *>(VARDATA(value));
    for (std::size_t i = 0; i < length; i += 2) {
        if ((i & 0xFFFF) == 0) CHECK_FOR_INTERRUPTS();
        const int high = pg::hex_value(text[i]), low = pg::hex_value(text[i + 1]);
        if (high < 0 || low < 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                            errmsg("invalid input syntax for type aggregate_state"),
                            errdetail("\"%c\" at position %zu is not a hexadecimal digit.", high < 0 ? text[i] : text[i + 1],
                                      (high < 0 ? i : i + 1) + 1)));
        out[i / 2] = static_cast<unsigned char>(high << 4 | low);
    }
    pg::validate(value);
    PG_RETURN_POINTER(value);
}

extern "C" Datum personalize_aggregate_state_out(PG_FUNCTION_ARGS) {
    varlena *value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));  // flattens an expanded state
    const std::size_t size = VARSIZE_ANY_EXHDR(value);
    const auto *bytes = reinterpret_cast<const unsigned char *>(VARDATA_ANY(value));
    if (size > (MaxAllocSize - 1) / 2)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("aggregate_state of %zu MB is too large for its text form", size >> 20)));
    char *text = static_cast<char *>(palloc(2 * size + 1));
    static const char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
        if ((i & 0xFFFF) == 0) CHECK_FOR_INTERRUPTS();
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    text[2 * size] = '\0';
    PG_RETURN_CSTRING(text);
}

// Binary form: the bytes themselves.
extern "C" Datum personalize_aggregate_state_recv(PG_FUNCTION_ARGS) {
    StringInfo buffer = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const int size = buffer->len - buffer->cursor;
    auto *value = static_cast<varlena *>(palloc(VARHDRSZ + size));
    SET_VARSIZE(value, VARHDRSZ + size);
    pq_copymsgbytes(buffer, VARDATA(value), size);
    pg::validate(value);
    PG_RETURN_POINTER(value);
}

extern "C" Datum personalize_aggregate_state_send(PG_FUNCTION_ARGS) {
    varlena *value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
    StringInfoData buffer;
    pq_begintypsend(&buffer);
    pq_sendbytes(&buffer, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}
