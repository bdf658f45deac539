// The boundary between C++ and PostgreSQL.
//
// PostgreSQL reports errors with longjmp; C++ with exceptions. Neither may
// cross the other:
//   * every SQL-callable function is defined with PERSONALIZE_FUNCTION, whose
//     wrapper catches any C++ exception, copies it into plain memory, lets the
//     C++ frames unwind, and only then raises the PostgreSQL ERROR;
//   * C++ work runs inside cpp(...) (same mechanism, usable mid-function);
//   * PostgreSQL calls made while C++ objects are alive go through pg(...),
//     which turns a PostgreSQL error into a PgError exception that keeps the
//     SQLSTATE, message, detail and hint.
// Rule for glue code: no object with a non-trivial destructor may be alive
// on the stack when a PostgreSQL function that can ereport is called, except
// inside pg(...).
#pragma once

#include <cstddef>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "core/common/error.hpp"
#include "core/common/interrupt.hpp"
#include "pg/common/postgres.hpp"

namespace personalize::pg {

// A PostgreSQL error caught by pg(...), travelling as a C++ exception.
class PgError : public std::exception {
public:
    PgError(int sqlerrcode, std::string message, std::string detail, std::string hint)
        : sqlerrcode_(sqlerrcode), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {}
    const char *what() const noexcept override { return message_.c_str(); }
    int sqlerrcode() const noexcept { return sqlerrcode_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

private:
    int sqlerrcode_;
    std::string message_, detail_, hint_;
};

// An error described in fixed-size plain memory: it can be raised with
// ereport after every C++ object of the failing frame has been destroyed.
struct Failure {
    int sqlerrcode;
    bool canceled;
    char message[1024];
    char detail[1024];
    char hint[512];
};

// Fills `out` from the exception currently being handled. noexcept.
void describe_current_exception(Failure &out) noexcept;

// Raises `failure` as a PostgreSQL ERROR (for a cancellation: processes the
// pending interrupt, so the message is PostgreSQL's own).
[[noreturn]] void raise_failure(const Failure &failure);

// Runs C++ code; a thrown exception becomes a PostgreSQL ERROR once the
// code's frames are gone. The result must be trivially destructible, because
// it lives in this frame while ereport may longjmp over it.
template <typename F>
auto cpp(F &&body) -> std::invoke_result_t<F &> {
    using Result = std::invoke_result_t<F &>;
    static_assert(std::is_void_v<Result> || std::is_trivially_destructible_v<Result>,
                  "cpp(...) may only return trivially destructible values");
    Failure failure;
    try {
        return body();
    } catch (...) {
        describe_current_exception(failure);
    }
    raise_failure(failure);
}

// Runs PostgreSQL code from inside C++ code: a PostgreSQL ERROR becomes a
// PgError exception (message and SQLSTATE kept) instead of a longjmp
// through C++ frames.
void pg_guarded_call(void (*fn)(void *), void *arg);

template <typename F>
void pg(F &&body) {
    pg_guarded_call([](void *arg) { (*static_cast<std::remove_reference_t<F> *>(arg))(); },
                    static_cast<void *>(&body));
}

// The cancellation probe handed to core code: reads the pending-interrupt
// flags (a cancel, a statement timeout, a termination), never longjmps.
Interrupt interrupt();

// A set-returning function that returned without a result set (an early
// return before InitMaterializedSRF) would hand the executor a NULL tuple to
// dereference: finish_call makes such a return an empty set. Called by
// PERSONALIZE_FUNCTION after every body, so no SRF path can forget it.
void end_set_without_result(FunctionCallInfo fcinfo) noexcept;
inline Datum finish_call(FunctionCallInfo fcinfo, Datum result) noexcept {
    if (fcinfo->flinfo != nullptr && fcinfo->flinfo->fn_retset) end_set_without_result(fcinfo);
    return result;
}

// How many objects made by make_owned are alive in this backend (exposed as
// personalize.live_cpp_objects(), so tests can prove nothing leaks).
extern long live_owned_objects;

// Hands a C++ object, made by `factory` (a callable returning T*), to a
// memory context: it is deleted when the context is reset or deleted
// (including on error), so aggregate states never leak. Call with no C++
// objects alive on the stack.
template <typename Factory>
auto make_owned(MemoryContext context, Factory &&factory) -> std::invoke_result_t<Factory &> {
    using Pointer = std::invoke_result_t<Factory &>;
    using T = std::remove_pointer_t<Pointer>;
    // The callback slot first: if palloc fails, nothing has been created yet.
    auto *callback = static_cast<MemoryContextCallback *>(MemoryContextAlloc(context, sizeof(MemoryContextCallback)));
    Pointer object = cpp(factory);
    callback->func = [](void *arg) {
        delete static_cast<T *>(arg);
        --live_owned_objects;
    };
    callback->arg = object;
    MemoryContextRegisterResetCallback(context, callback);
    ++live_owned_objects;
    return object;
}

// The memory context of the aggregate calling this transition, combine,
// serial or deserial function; an ERROR when called outside an aggregate.
MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *function_name);

// Set while personalize.aggregate_state's I/O runs a serialise or deserialise
// function outside an aggregate (aggregate_state_type.cpp): the context
// aggregate_context() then answers. nullptr otherwise.
extern MemoryContext aggregate_state_io_context;

}  // namespace personalize::pg

// Defines a SQL-callable function NAME whose body runs behind the boundary:
// a C++ exception escaping the body becomes a PostgreSQL ERROR.
#define PERSONALIZE_FUNCTION(NAME)                                                \
    static Datum NAME##_body(FunctionCallInfo fcinfo);                            \
    extern "C" {                                                                  \
    PG_FUNCTION_INFO_V1(NAME);                                                    \
    }                                                                             \
    extern "C" Datum NAME(PG_FUNCTION_ARGS) {                                     \
        return ::personalize::pg::finish_call(                                    \
            fcinfo, ::personalize::pg::cpp([fcinfo] { return NAME##_body(fcinfo); })); \
    }                                                                             \
    static Datum NAME##_body(FunctionCallInfo fcinfo)
