#include "core/rules/format.hpp"

#include <charconv>
#include <cmath>

#include "core/rules/text.hpp"

namespace personalize::rules::detail {

std::string format_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    if (v == 0) return "0";  // also -0
    // Plain digits for everyday magnitudes (1700000000, 0.25), exponents
    // only for the very large and very small; shortest round-trip either way.
    char buf[400];
    const double a = std::fabs(v);
    const std::chars_format format = a >= 1e-5 && a < 1e16 ? std::chars_format::fixed : std::chars_format::general;
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
    if (ec != std::errc()) return "?";
    return std::string(buf, ptr);
}

std::string format_shown_number(double v) {
    if (!std::isfinite(v) || v == 0 || (std::fabs(v) < 1e15 && v == std::trunc(v))) return format_number(v);
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
    if (ec != std::errc()) return format_number(v);
    return std::string(buf, ptr);
}

std::string format_count(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string describe_json(const ContextNode &node) {
    switch (node.kind) {
        case ContextNode::Null: return "null";
        case ContextNode::False: return "false";
        case ContextNode::True: return "true";
        case ContextNode::Number: return format_number(node.number);
        case ContextNode::String: {
            const std::string_view s = node.str ? std::string_view(node.str, node.str_len) : std::string_view();
            std::string cut = truncate_utf8(s, 40), out = "\"";
            for (const char c : cut) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
            return out + "\"";
        }
        case ContextNode::Array: return "an array";
        case ContextNode::Object: return "an object";
    }
    return "a malformed value";
}

}  // namespace personalize::rules::detail
