// Opening personalize.als_model arguments. A bench-sized model is ~90 MB:
// detoasting and checking it for every call would dominate a one-customer
// top-N, so each backend keeps the last model it opened. A stored model is
// recognised by its TOAST pointer (with the fingerprint and size of its
// header: one TOAST chunk, the type is stored uncompressed, STORAGE
// external), without reading the rest; a model in memory (a literal, a
// function's result) by comparing its bytes with the cached copy. The
// fingerprint alone is no identity: bytes with any fingerprint can be made. The cached copy is charged against personalize.memory_limit
// when it is loaded (a model larger than the limit is refused with 53200)
// and stays until a different model is opened in the same backend.
#pragma once

#include "core/als/model.hpp"
#include "pg/common/postgres.hpp"

namespace personalize::pg {

struct OpenedAlsModel {
    const als::AlsModelView *view;
    const double *gram;  // Y^T Y, factors x factors; nullptr unless asked for
};

// The model in argument `argno`, opened (from the cache when it is the
// cached model). `with_gram` also computes (once) the item Gram matrix for fold-in.
// PostgreSQL code: call outside cpp(...).
OpenedAlsModel open_als_model(FunctionCallInfo fcinfo, int argno, bool with_gram);

// Only the header of the model in argument `argno` (als_model_info).
als::AlsHeader als_model_header(FunctionCallInfo fcinfo, int argno, std::size_t *total_size);

}  // namespace personalize::pg
