#include "pg/common/boundary.hpp"

#include <cstring>

namespace personalize::pg {

namespace {

// Truncating copy into a fixed buffer (no allocation: runs inside catch).
void copy_text(char *dst, std::size_t capacity, const char *src) noexcept {
    std::size_t n = 0;
    if (src != nullptr)
        for (; n + 1 < capacity && src[n] != '\0'; ++n) dst[n] = src[n];
    dst[n] = '\0';
}

int sqlstate_of(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
        case ErrorCode::NullValue: return ERRCODE_NULL_VALUE_NOT_ALLOWED;
        case ErrorCode::InvalidText: return ERRCODE_INVALID_TEXT_REPRESENTATION;
        case ErrorCode::Syntax: return ERRCODE_SYNTAX_ERROR;
        case ErrorCode::OutOfMemory: return ERRCODE_OUT_OF_MEMORY;
        case ErrorCode::ProgramLimit: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case ErrorCode::Canceled: return ERRCODE_QUERY_CANCELED;
        case ErrorCode::DataCorrupted: return ERRCODE_DATA_CORRUPTED;
        case ErrorCode::Internal: return ERRCODE_INTERNAL_ERROR;
    }
    return ERRCODE_INTERNAL_ERROR;
}

// Only interrupts that end the statement count: InterruptPending is also
// set for harmless work (a parallel worker's message, a barrier), which
// CHECK_FOR_INTERRUPTS would process without an error.
bool interrupt_pending() {
    return InterruptPending && (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

}  // namespace

void describe_current_exception(Failure &out) noexcept {
    out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    out.canceled = false;
    out.detail[0] = out.hint[0] = '\0';
    try {
        throw;
    } catch (const Error &e) {
        out.sqlerrcode = sqlstate_of(e.code());
        out.canceled = e.code() == ErrorCode::Canceled;
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.detail, sizeof out.detail, e.detail().c_str());
        copy_text(out.hint, sizeof out.hint, e.hint().c_str());
    } catch (const PgError &e) {
        out.sqlerrcode = e.sqlerrcode();
        out.canceled = e.sqlerrcode() == ERRCODE_QUERY_CANCELED;
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.detail, sizeof out.detail, e.detail().c_str());
        copy_text(out.hint, sizeof out.hint, e.hint().c_str());
    } catch (const std::bad_alloc &) {
        out.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
        copy_text(out.message, sizeof out.message, "out of memory in pg_personalize");
    } catch (const std::exception &e) {
        copy_text(out.message, sizeof out.message, e.what());
    } catch (...) {
        copy_text(out.message, sizeof out.message, "unknown C++ exception in pg_personalize");
    }
}

void raise_failure(const Failure &failure) {
    if (failure.canceled) {
        // Let PostgreSQL report its own reason (statement timeout, user
        // request, ...). If the flag was already consumed, say it plainly.
        CHECK_FOR_INTERRUPTS();
    }
    ereport(ERROR, (errcode(failure.sqlerrcode), errmsg_internal("%s", failure.message),
                    failure.detail[0] ? errdetail_internal("%s", failure.detail) : 0,
                    failure.hint[0] ? errhint("%s", failure.hint) : 0));
    pg_unreachable();
}

void pg_guarded_call(void (*fn)(void *), void *arg) {
    MemoryContext caller_context = CurrentMemoryContext;
    // Copied out of PostgreSQL's error data before it is flushed.
    volatile bool failed = false;
    volatile int sqlerrcode = 0;
    char message[1024], detail[1024], hint[512];
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        sqlerrcode = edata->sqlerrcode;
        copy_text(message, sizeof message, edata->message);
        copy_text(detail, sizeof detail, edata->detail);
        copy_text(hint, sizeof hint, edata->hint);
        FreeErrorData(edata);
        failed = true;
    }
    PG_END_TRY();
    // Thrown only now: PG_END_TRY has restored PostgreSQL's exception stack.
    if (failed) throw PgError(sqlerrcode, message, detail, hint);
}

void end_set_without_result(FunctionCallInfo fcinfo) noexcept {
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    if (rsinfo == nullptr || !IsA(rsinfo, ReturnSetInfo)) return;
    // InitMaterializedSRF sets SFRM_Materialize; still value-per-call means
    // no row was produced at all: say "no more rows" instead of one NULL row.
    if (rsinfo->returnMode == SFRM_ValuePerCall) {
        rsinfo->isDone = ExprEndResult;
        fcinfo->isnull = true;
    }
}

long live_owned_objects = 0;

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *function_name) {
    MemoryContext context = nullptr;
    if (!AggCheckCallContext(fcinfo, &context)) {
        if (aggregate_state_io_context != nullptr) return aggregate_state_io_context;
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s called in non-aggregate context", function_name)));
    }
    return context;
}

Interrupt interrupt() { return Interrupt(&interrupt_pending); }

// The same probe for core code without an Interrupt argument (ambient_interrupt()).
namespace {
const bool ambient_probe_installed = (ambient_probe() = &interrupt_pending, true);
}  // namespace

}  // namespace personalize::pg
