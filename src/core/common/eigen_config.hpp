// Include this instead of <Eigen/...> directly: a failed Eigen assertion
// (dimension mismatch, out-of-range index) must throw, not abort() the
// PostgreSQL backend. Active in every build type, NDEBUG or not.
#pragma once

#include <string>

#include "core/common/error.hpp"

#ifdef eigen_assert
#error "core/common/eigen_config.hpp must be included before any Eigen header"
#endif

#define eigen_assert(condition)                                                                  \
    do {                                                                                         \
        if (!(condition))                                                                        \
            throw ::personalize::Error(::personalize::ErrorCode::Internal,                       \
                                       std::string("Eigen assertion failed: ") + #condition);    \
    } while (false)

#include <Eigen/Dense>
