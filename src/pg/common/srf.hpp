// Materialized set-returning functions called once per input row (an SRF in
// a LATERAL join over millions of rows): take the executor's expected row
// descriptor when it offers one, instead of rebuilding it from the catalog on
// every call (get_call_result_type), which costs microseconds per call.
#pragma once

#include "pg/common/postgres.hpp"

namespace personalize::pg {

inline ReturnSetInfo *init_materialized_srf(FunctionCallInfo fcinfo) {
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    const bool expected = rsinfo != nullptr && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc != nullptr;
    InitMaterializedSRF(fcinfo, expected ? MAT_SRF_USE_EXPECTED_DESC : 0);
    return rsinfo;
}

}  // namespace personalize::pg
