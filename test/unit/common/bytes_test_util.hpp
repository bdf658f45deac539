// Helpers for the tests of byte forms (core/common/bytes.hpp): hex fixtures
// and the check that every truncation and every extension of a valid value
// is rejected.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/error.hpp"

namespace personalize::testing {

inline std::vector<unsigned char> from_hex(const std::string &hex) {
    std::vector<unsigned char> bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return bytes;
}

// One whole value read with the static T::read(ByteReader &, args...).
template <typename T, typename... Args>
T read_as(const unsigned char *data, std::size_t size, Args &&...args) {
    return read_whole(data, size, "test", [&](ByteReader &in) { return T::read(in, args...); });
}

// The code of the Error `f` throws (ADD_FAILURE when it throws none).
template <typename F>
ErrorCode error_code(F &&f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    ADD_FAILURE() << "no error";
    return ErrorCode::Internal;
}

// read(data, size) of every proper prefix of `bytes`, and of `bytes` with
// one more byte, must throw DataCorrupted.
template <typename Read>
void expect_truncations_rejected(const std::vector<unsigned char> &bytes, Read &&read) {
    for (std::size_t n = 0; n < bytes.size(); ++n)
        EXPECT_EQ(error_code([&] { read(bytes.data(), n); }), ErrorCode::DataCorrupted) << "truncated to " << n;
    std::vector<unsigned char> longer = bytes;
    longer.push_back(0);
    EXPECT_EQ(error_code([&] { read(longer.data(), longer.size()); }), ErrorCode::DataCorrupted) << "one byte more";
}

}  // namespace personalize::testing
