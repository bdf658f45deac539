#include "pg/common/spi_plan.hpp"

namespace personalize::pg {

SPIPlanPtr prepare_kept_plan(const char *what, const char *query, int nargs, Oid *types) {
    SPIPlanPtr plan = SPI_prepare(query, nargs, types);
    if (plan == nullptr)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("could not prepare %s: %s", what, SPI_result_code_string(SPI_result))));
    SPI_keepplan(plan);
    return plan;
}

}  // namespace personalize::pg
