// Typed errors thrown by core code. The PostgreSQL glue maps each Code to a
// SQLSTATE (src/pg/common/boundary.cpp); core code never sees PostgreSQL itself.
#pragma once

#include <stdexcept>
#include <string>

namespace personalize {

enum class ErrorCode {
    InvalidParameter,    // 22023 invalid_parameter_value
    NullValue,           // 22004 null_value_not_allowed
    InvalidText,         // 22P02 invalid_text_representation
    Syntax,              // 42601 syntax_error (e.g. a malformed offer rule)
    OutOfMemory,         // 53200 out_of_memory (also: a documented memory limit was hit)
    ProgramLimit,        // 54000 program_limit_exceeded
    Canceled,            // 57014 query_canceled (the glue re-raises the pending interrupt)
    DataCorrupted,       // XX001 data_corrupted (a serialized state that does not parse)
    Internal,            // XX000 internal_error (a broken invariant, e.g. eigen_assert)
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string &message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), code_(code), detail_(std::move(detail)), hint_(std::move(hint)) {}

    ErrorCode code() const noexcept { return code_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

private:
    ErrorCode code_;
    std::string detail_;
    std::string hint_;
};

// Shorthand for the most common case: a bad argument, named in the message.
[[noreturn]] inline void throw_invalid(const std::string &message, std::string hint = {}) {
    throw Error(ErrorCode::InvalidParameter, message, {}, std::move(hint));
}

}  // namespace personalize
