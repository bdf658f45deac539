#include "core/rules/text.hpp"

#include <algorithm>
#include <cstdio>

namespace personalize::rules::detail {

Position locate(std::string_view text, std::size_t offset) {
    Position p;
    const std::size_t stop = std::min(offset, text.size());
    for (std::size_t i = 0; i < stop; ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++p.line;
            p.column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++p.column;
        }
    }
    return p;
}

std::string where(std::string_view text, std::size_t offset) {
    const Position p = locate(text, offset);
    return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

void fail_at(ErrorCode code, std::string_view text, std::size_t offset, const std::string &message) {
    throw Error(code, "rule: " + where(text, offset) + ": " + message);
}

namespace {

// Length of the valid UTF-8 sequence at offset, or 0.
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t *out) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
        if (out) *out = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if (s.size() - i < n) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (b(k) & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    if (out) *out = cp;
    return n;
}

}  // namespace

std::size_t invalid_utf8_offset(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = utf8_length(text, i, nullptr);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::uint32_t code_point_at(std::string_view text, std::size_t offset, std::size_t &length) {
    std::uint32_t cp = 0xFFFD;
    length = utf8_length(text, offset, &cp);
    if (length == 0) {
        length = 1;
        return static_cast<unsigned char>(text[offset]);
    }
    return cp;
}

std::string code_point_name(std::uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

std::string truncate_utf8(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return std::string(s);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return std::string(s.substr(0, cut)) + "...";
}

std::string quote_text(std::string_view s) {
    std::string out = "'";
    for (const char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return prev[m];
}

std::string_view closest_match(std::string_view word, const std::vector<std::string_view> &candidates) {
    if (word.size() > 200) return {};
    std::string_view best;
    std::size_t best_distance = static_cast<std::size_t>(-1);
    for (const std::string_view c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    // A typo: at most 2 edits, and fewer than a third of the word.
    const std::size_t allowed = std::min<std::size_t>(2, std::max<std::size_t>(1, word.size() / 3));
    return best_distance <= allowed ? best : std::string_view();
}

}  // namespace personalize::rules::detail
