// Reads the numeric's stored digits directly. The layout (src/backend/utils/
// adt/numeric.c) is PostgreSQL's on-disk format, which pg_upgrade keeps
// stable: a 16-bit header, for the long form a 16-bit weight, then base-10000
// digits; value = sum(digit[i] * 10000^(weight - i)). Special values and
// numbers that do not fit the exact path fall back to numeric_float8.
#include "pg/common/jsonb_numeric.hpp"

#include <cstdint>
#include <cstring>

namespace personalize::pg {

namespace {

constexpr std::uint16_t kSignMask = 0xC000, kNegative = 0x4000, kShort = 0x8000, kSpecial = 0xC000;
constexpr std::uint16_t kShortNegative = 0x2000, kShortWeightSign = 0x0040, kShortWeightMask = 0x003F;
constexpr std::int64_t kExactLimit = std::int64_t{1} << 53;  // integers a double holds exactly

// 10^0 .. 10^22: every one is exactly representable as a double.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool exact(const char *data, std::size_t size, double *out) {
    if (size < sizeof(std::uint16_t)) return false;
    std::uint16_t header;
    std::memcpy(&header, data, sizeof header);
    if ((header & kSignMask) == kSpecial) return false;
    bool negative;
    int weight;
    const char *digits;
    if (header & kShort) {
        negative = (header & kShortNegative) != 0;
        // A 7-bit two's complement weight: sign bit 0x0040, magnitude bits 0x003F.
        weight = (header & kShortWeightSign) ? (~static_cast<int>(kShortWeightMask) | (header & kShortWeightMask))
                                             : static_cast<int>(header & kShortWeightMask);
        digits = data + sizeof(std::uint16_t);
    } else {
        if (size < 2 * sizeof(std::uint16_t)) return false;
        negative = (header & kSignMask) == kNegative;
        std::int16_t w;
        std::memcpy(&w, data + sizeof(std::uint16_t), sizeof w);
        weight = w;
        digits = data + 2 * sizeof(std::uint16_t);
    }
    const std::size_t ndigits = static_cast<std::size_t>(data + size - digits) / sizeof(std::int16_t);
    if (ndigits == 0) {
        *out = 0.0;
        return true;
    }
    std::int64_t mantissa = 0;
    for (std::size_t i = 0; i < ndigits; ++i) {
        std::int16_t d;
        std::memcpy(&d, digits + i * sizeof d, sizeof d);
        if (d < 0 || d > 9999 || mantissa > (kExactLimit - d) / 10000) return false;
        mantissa = mantissa * 10000 + d;
    }
    // value = mantissa * 10^exponent, mantissa and 10^|exponent| exact: one rounding.
    const long exponent = 4L * (weight - static_cast<long>(ndigits - 1));
    if (exponent > 22 || exponent < -22) return false;
    const double m = static_cast<double>(mantissa);
    const double v = exponent >= 0 ? m * kPow10[exponent] : m / kPow10[-exponent];
    *out = negative ? -v : v;
    return true;
}

}  // namespace

double numeric_to_double(Numeric value) {
    double out;
    if (exact(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), &out)) return out;
    return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(value)));
}

}  // namespace personalize::pg
