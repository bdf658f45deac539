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
    als::AlsModelView view;
    double *gram = nullptr;
};
Cache cache;

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
    if (!(cache.valid && cache.fingerprint == header.fingerprint && cache.size == total)) {
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
        varlena *full = PG_DETOAST_DATUM(value);
        std::memcpy(bytes, VARDATA(full), total);
        if (reinterpret_cast<Pointer>(full) != DatumGetPointer(value)) pfree(full);
        cache.view = cpp([&] { return als::AlsModelView::open(bytes, total); });
        cache.fingerprint = header.fingerprint;
        cache.size = total;
        cache.valid = true;
    }
    if (with_gram && cache.gram == nullptr) {
        auto *gram = static_cast<double *>(
            MemoryContextAllocHuge(cache.context, sizeof(double) * cache.view.factors() * cache.view.factors()));
        cpp([&] { als::als_item_gram(cache.view, gram); });
        cache.gram = gram;
    }
    return OpenedAlsModel{&cache.view, cache.gram};
}

}  // namespace personalize::pg
