// Models passed as a jsonb argument (k-means, logistic regression, RFM
// breakpoints) are parsed once per call site, not once per row: the parsed
// model stays in fn_extra with the jsonb bytes it came from.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/varlena.hpp"

namespace personalize::pg {

template <typename Model>
struct ParsedJsonb {
    std::vector<char> bytes;  // the jsonb value `model` was parsed from
    std::unique_ptr<Model> model;
};

// The call site's Cache (ParsedJsonb<Model> or a struct deriving from it),
// made in fn_mcxt on the first call, with `model` = parse(text of argument
// argno), parsed again only when the argument's bytes change. A failed parse
// leaves no model, so the next call parses again.
template <typename Cache, typename Parse>
Cache &parsed_jsonb_argument(FunctionCallInfo fcinfo, int argno, Parse parse) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = make_owned(fcinfo->flinfo->fn_mcxt, [] { return new Cache(); });
    auto &cache = *static_cast<Cache *>(fcinfo->flinfo->fn_extra);
    const varlena *value = PG_GETARG_VARLENA_PP(argno);
    const char *bytes = reinterpret_cast<const char *>(varlena_bytes(value));
    const std::size_t size = varlena_size(value);
    if (cache.model && cache.bytes.size() == size && std::memcmp(cache.bytes.data(), bytes, size) == 0)
        return cache;
    const char *text = jsonb_to_cstring(PointerGetDatum(value));
    cpp([&] {
        using Model = typename decltype(cache.model)::element_type;
        cache.model.reset();
        auto parsed = std::make_unique<Model>(parse(text));
        cache.bytes.assign(bytes, bytes + size);
        cache.model = std::move(parsed);
    });
    return cache;
}

}  // namespace personalize::pg
