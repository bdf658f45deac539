#include "pg/als/model_cache.hpp"

#include <cstring>

#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"

extern "C" {
#include "access/detoast.h"
}

namespace personalize::pg {

namespace {

// One model per backend: plain palloc'd memory in its own context (no C++
// object with a destructor, so nothing for live_cpp_objects to count).
struct Cache {
    MemoryContext context = nullptr;
    bool valid = false;
    std::uint64_t fingerprint = 0;
    std::size_t size = 0;
    const unsigned char *bytes = nullptr;  // the cached copy
    Oid toast_relid = InvalidOid;          // where it was read from, when stored out of line
    Oid toast_valueid = InvalidOid;
    als::AlsModelView view;
    double *gram = nullptr;
};
Cache cache;

// A value stored out of line: its TOAST pointer. Only PostgreSQL writes these
// (a user's bytes arrive in memory, through als_model_in or _recv), and a
// stored value never changes while it exists, so the pointer names its bytes.
bool toast_pointer(Datum value, Oid *relid, Oid *valueid) {
    const auto *v = reinterpret_cast<const varlena *>(DatumGetPointer(value));
    if (!VARATT_IS_EXTERNAL_ONDISK(v)) return false;
    varatt_external pointer;
    VARATT_EXTERNAL_GET_POINTER(pointer, v);
    *relid = pointer.va_toastrelid;
    *valueid = pointer.va_valueid;
    return true;
}

std::size_t payload_size(Datum value) { return toast_raw_datum_size(value) - VARHDRSZ; }

als::AlsHeader read_header(Datum value, std::size_t total) {
    varlena *head = PG_DETOAST_DATUM_SLICE(value, 0, static_cast<int32>(als::kAlsHeaderSize));
    const auto *bytes = reinterpret_cast<const unsigned char *>(VARDATA_ANY(head));
    const std::size_t size = VARSIZE_ANY_EXHDR(head);
    const als::AlsHeader h = cpp([&] {
        als::AlsHeader read = als::AlsHeader::read(bytes, size);
        if (read.total_size() != total)
            throw Error(ErrorCode::DataCorrupted, "als_model: the value is corrupted: the size does not match the header");
        return read;
    });
    pfree(head);
    return h;
}

}  // namespace

als::AlsHeader als_model_header(FunctionCallInfo fcinfo, int argno, std::size_t *total_size) {
    const Datum value = PG_GETARG_DATUM(argno);
    *total_size = payload_size(value);
    return read_header(value, *total_size);
}

OpenedAlsModel open_als_model(FunctionCallInfo fcinfo, int argno, bool with_gram) {
    const Datum value = PG_GETARG_DATUM(argno);
    const std::size_t total = payload_size(value);
    const als::AlsHeader header = read_header(value, total);
    // The fingerprint is no identity (anyone can make bytes with a given
    // one): a hit needs the same stored value, or the same bytes.
    Oid relid = InvalidOid, valueid = InvalidOid;
    const bool stored = toast_pointer(value, &relid, &valueid);
    varlena *full = nullptr;
    bool hit = cache.valid && cache.fingerprint == header.fingerprint && cache.size == total;
    if (hit && stored) hit = cache.toast_relid == relid && cache.toast_valueid == valueid;
    if (hit && !stored) {
        full = PG_DETOAST_DATUM(value);
        hit = std::memcmp(cache.bytes, VARDATA(full), total) == 0;
    }
    if (!hit) {
        const std::size_t gram_bytes = sizeof(double) * header.factors * header.factors;
        cpp([&] {
            MemoryBudget budget = memory_budget();
            budget.charge(total + gram_bytes, "an als_model value of this size");
        });
        cache.valid = false;
        cache.gram = nullptr;
        if (cache.context == nullptr)
            cache.context = AllocSetContextCreate(TopMemoryContext, "pg_personalize als_model cache", ALLOCSET_DEFAULT_SIZES);
        else
            MemoryContextReset(cache.context);
        // palloc'd memory is MAXALIGNed: the copy's arrays are aligned.
        auto *bytes = static_cast<unsigned char *>(MemoryContextAllocHuge(cache.context, total));
        if (full == nullptr) full = PG_DETOAST_DATUM(value);
        std::memcpy(bytes, VARDATA(full), total);
        cache.view = cpp([&] { return als::AlsModelView::open(bytes, total); });
        cache.fingerprint = header.fingerprint;
        cache.size = total;
        cache.bytes = bytes;
        cache.toast_relid = stored ? relid : InvalidOid;
        cache.toast_valueid = stored ? valueid : InvalidOid;
        cache.valid = true;
    }
    if (full != nullptr && reinterpret_cast<Pointer>(full) != DatumGetPointer(value)) pfree(full);
    if (with_gram && cache.gram == nullptr) {
        auto *gram = static_cast<double *>(
            MemoryContextAllocHuge(cache.context, sizeof(double) * cache.view.factors() * cache.view.factors()));
        cpp([&] { als::als_item_gram(cache.view, gram); });
        cache.gram = gram;
    }
    return OpenedAlsModel{&cache.view, cache.gram};
}

}  // namespace personalize::pg
