// A small strict JSON reader for the models the extension stores as jsonb
// (k-means, lifetime models): objects, arrays, strings, numbers (the token
// is kept, so whole numbers up to 2^64 stay exact), true/false/null; nesting
// is limited. Errors are InvalidText naming the document and the offset.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/error.hpp"

namespace personalize {

struct JsonValue {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    double number = 0.0;
    std::string text;  // String: the value; Number: the token as written
    std::vector<JsonValue> items;
    std::vector<std::pair<std::string, JsonValue>> fields;

    const JsonValue *find(std::string_view key) const {
        for (const auto &[k, v] : fields)
            if (k == key) return &v;
        return nullptr;
    }
};

class JsonParser {
public:
    // `what` names the document in errors, e.g. "kmeans: model".
    JsonParser(std::string_view text, std::string what) : text_(text), what_(std::move(what)) {}

    JsonValue parse_document() {
        JsonValue v = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the JSON value");
        return v;
    }

private:
    static constexpr int kMaxDepth = 32;

    [[noreturn]] void fail(const std::string &what) const {
        throw Error(ErrorCode::InvalidText, what_ + " is not valid JSON: " + what + " at offset " + std::to_string(pos_));
    }
    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    bool consume(std::string_view word) {
        if (text_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        return false;
    }
    bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

    JsonValue parse_value(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        JsonValue v;
        const char c = text_[pos_];
        if (c == '{') {
            v.kind = JsonValue::Kind::Object;
            ++pos_;
            skip_space();
            if (at('}')) {
                ++pos_;
                return v;
            }
            for (;;) {
                skip_space();
                if (!at('"')) fail("expected a key");
                std::string key = parse_string();
                skip_space();
                if (!at(':')) fail("expected ':'");
                ++pos_;
                for (const auto &field : v.fields)
                    if (field.first == key) fail("duplicate key \"" + key + "\"");
                v.fields.emplace_back(std::move(key), parse_value(depth + 1));
                skip_space();
                if (at(',')) {
                    ++pos_;
                    continue;
                }
                if (at('}')) {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = JsonValue::Kind::Array;
            ++pos_;
            skip_space();
            if (at(']')) {
                ++pos_;
                return v;
            }
            for (;;) {
                v.items.push_back(parse_value(depth + 1));
                skip_space();
                if (at(',')) {
                    ++pos_;
                    continue;
                }
                if (at(']')) {
                    ++pos_;
                    return v;
                }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = JsonValue::Kind::String;
            v.text = parse_string();
            return v;
        }
        if (consume("true")) {
            v.kind = JsonValue::Kind::Bool;
            v.boolean = true;
            return v;
        }
        if (consume("false")) {
            v.kind = JsonValue::Kind::Bool;
            return v;
        }
        if (consume("null")) return v;
        v.kind = JsonValue::Kind::Number;
        parse_number(v);
        return v;
    }

    void parse_number(JsonValue &v) {
        // JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            return pos_ - from;
        };
        if (at('-')) ++pos_;
        if (at('0'))
            ++pos_;
        else if (digits() == 0)
            fail("expected a value");
        if (at('.')) {
            ++pos_;
            if (digits() == 0) fail("expected digits after '.'");
        }
        if (at('e') || at('E')) {
            ++pos_;
            if (at('+') || at('-')) ++pos_;
            if (digits() == 0) fail("expected an exponent");
        }
        v.text = std::string(text_.substr(start, pos_ - start));
        v.number = std::strtod(v.text.c_str(), nullptr);
        if (!std::isfinite(v.number)) fail("number out of range");
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string out;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) break;
            const char e = text_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    // Keys and kinds are ASCII: anything else simply will not match.
                    if (text_.size() - pos_ < 4) fail("bad \\u escape");
                    unsigned code = 0;
                    for (int i = 0; i < 4; ++i) {
                        const char h = text_[pos_++];
                        code <<= 4;
                        if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
                        else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
                        else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
                        else fail("bad \\u escape");
                    }
                    out += code < 0x80 ? static_cast<char>(code) : '?';
                    break;
                }
                default: fail("bad escape");
            }
        }
        fail("unterminated string");
    }

    std::string_view text_;
    std::string what_;
    std::size_t pos_ = 0;
};

}  // namespace personalize
