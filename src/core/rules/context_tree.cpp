// JSON text -> ContextTree (RFC 8259). Used by unit tests, the fuzzer and the
// benchmarks; the glue builds its trees from jsonb directly.
#include "core/rules/context_tree.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <system_error>

#include "core/common/error.hpp"

namespace personalize {

class ContextParser {
public:
    explicit ContextParser(std::string_view json) : json_(json) {}

    OwnedContextTree parse() {
        OwnedContextTree tree;
        nodes_ = &tree.nodes_;
        text_ = &tree.text_;
        // Decoded strings are never longer than their JSON form, so the buffer
        // never reallocates and the pointers taken into it stay valid.
        text_->reserve(json_.size() + 1);
        skip_space();
        value(1, nullptr, 0);
        skip_space();
        if (pos_ != json_.size()) fail("unexpected text after the JSON value");
        return tree;
    }

private:
    [[noreturn]] void fail(const std::string &what) const {
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < pos_ && i < json_.size(); ++i) {
            if (json_[i] == '\n') {
                ++line;
                column = 1;
            } else if ((static_cast<unsigned char>(json_[i]) & 0xC0) != 0x80) {
                ++column;
            }
        }
        throw Error(ErrorCode::InvalidText, "context: invalid JSON at line " + std::to_string(line) + ", column " +
                                                std::to_string(column) + ": " + what);
    }

    bool at_end() const { return pos_ >= json_.size(); }
    char peek() const { return at_end() ? '\0' : json_[pos_]; }

    void skip_space() {
        while (!at_end() && (json_[pos_] == ' ' || json_[pos_] == '\t' || json_[pos_] == '\n' || json_[pos_] == '\r'))
            ++pos_;
    }

    std::size_t add_node(ContextNode::Kind kind, const char *key, std::uint32_t key_len) {
        if (nodes_->size() >= std::numeric_limits<std::uint32_t>::max() - 1)
            throw Error(ErrorCode::ProgramLimit, "context: more than 4294967294 JSON values exceeds the limit");
        ContextNode node{};
        node.kind = kind;
        node.key = key;
        node.key_len = key_len;
        nodes_->push_back(node);
        return nodes_->size() - 1;
    }
    void close(std::size_t index) { (*nodes_)[index].end = static_cast<std::uint32_t>(nodes_->size()); }

    void value(int depth, const char *key, std::uint32_t key_len) {
        if (depth > kMaxContextDepth)
            throw Error(ErrorCode::ProgramLimit, "context: JSON nested more than " + std::to_string(kMaxContextDepth) +
                                                     " levels deep exceeds the limit");
        if (at_end()) fail("expected a value, found the end of the text");
        const char c = json_[pos_];
        if (c == '{') return object(depth, key, key_len);
        if (c == '[') return array(depth, key, key_len);
        if (c == '"') {
            const std::size_t index = add_node(ContextNode::String, key, key_len);
            std::uint32_t len = 0;
            const char *s = string(len);
            (*nodes_)[index].str = s;
            (*nodes_)[index].str_len = len;
            return close(index);
        }
        if (word("true")) return close(add_node(ContextNode::True, key, key_len));
        if (word("false")) return close(add_node(ContextNode::False, key, key_len));
        if (word("null")) return close(add_node(ContextNode::Null, key, key_len));
        if (c == '-' || (c >= '0' && c <= '9')) {
            const std::size_t index = add_node(ContextNode::Number, key, key_len);
            (*nodes_)[index].number = number();
            return close(index);
        }
        fail(std::string("expected a value, found ") + describe_char());
    }

    std::string describe_char() const {
        const unsigned char c = static_cast<unsigned char>(peek());
        if (c >= 0x21 && c < 0x7F) return std::string("\"") + static_cast<char>(c) + "\"";
        char buf[16];
        std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
        return buf;
    }

    bool word(std::string_view w) {
        if (json_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }

    void object(int depth, const char *key, std::uint32_t key_len) {
        const std::size_t index = add_node(ContextNode::Object, key, key_len);
        ++pos_;
        skip_space();
        std::vector<std::string_view> keys;
        if (peek() == '}') {
            ++pos_;
            return close(index);
        }
        for (;;) {
            skip_space();
            if (peek() != '"') fail(std::string("expected a key in quotes, found ") + (at_end() ? "the end of the text" : describe_char()));
            std::uint32_t len = 0;
            const char *k = string(len);
            keys.emplace_back(k, len);
            skip_space();
            if (peek() != ':') fail(std::string("expected \":\" after a key, found ") + (at_end() ? "the end of the text" : describe_char()));
            ++pos_;
            skip_space();
            value(depth + 1, k, len);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                break;
            }
            fail(std::string("expected \",\" or \"}\" in an object, found ") + (at_end() ? "the end of the text" : describe_char()));
        }
        check_duplicates(keys);
        close(index);
    }

    void check_duplicates(std::vector<std::string_view> &keys) const {
        if (keys.size() < 2) return;
        std::sort(keys.begin(), keys.end());
        for (std::size_t i = 1; i < keys.size(); ++i)
            if (keys[i] == keys[i - 1])
                throw Error(ErrorCode::InvalidText, "context: duplicate key \"" + std::string(keys[i].substr(0, 64)) +
                                                        "\" in a JSON object");
    }

    void array(int depth, const char *key, std::uint32_t key_len) {
        const std::size_t index = add_node(ContextNode::Array, key, key_len);
        ++pos_;
        skip_space();
        if (peek() == ']') {
            ++pos_;
            return close(index);
        }
        for (;;) {
            skip_space();
            value(depth + 1, nullptr, 0);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                break;
            }
            fail(std::string("expected \",\" or \"]\" in an array, found ") + (at_end() ? "the end of the text" : describe_char()));
        }
        close(index);
    }

    double number() {
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (!at_end() && json_[pos_] >= '0' && json_[pos_] <= '9') ++pos_;
            return pos_ - from;
        };
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (digits() == 0) {
            fail("expected digits after \"-\"");
        }
        if (peek() == '.') {
            ++pos_;
            if (digits() == 0) fail("expected digits after the decimal point");
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (digits() == 0) fail("expected digits in the exponent");
        }
        double v = 0.0;
        const char *first = json_.data() + start, *last = json_.data() + pos_;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc::result_out_of_range) {
            // Too large: +-infinity; too small: 0 (what a float8 conversion does).
            bool tiny = false;
            for (const char *p = first; p < last; ++p)
                if (*p == 'e' || *p == 'E') tiny = p + 1 < last && p[1] == '-';
            const bool negative = *first == '-';
            v = tiny ? (negative ? -0.0 : 0.0)
                     : (negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
        } else if (ec != std::errc() || ptr != last) {
            fail("invalid number");
        }
        return v;
    }

    static unsigned hex(char h) {
        if (h >= '0' && h <= '9') return static_cast<unsigned>(h - '0');
        if (h >= 'a' && h <= 'f') return static_cast<unsigned>(h - 'a' + 10);
        if (h >= 'A' && h <= 'F') return static_cast<unsigned>(h - 'A' + 10);
        return 16;
    }
    unsigned hex4() {
        if (json_.size() - pos_ < 4) fail("expected four hex digits after \\u");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const unsigned h = hex(json_[pos_ + i]);
            if (h > 15) fail("expected four hex digits after \\u");
            code = code << 4 | h;
        }
        pos_ += 4;
        return code;
    }
    void put_utf8(unsigned cp) {
        if (cp < 0x80) {
            text_->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            text_->push_back(static_cast<char>(0xC0 | cp >> 6));
            text_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            text_->push_back(static_cast<char>(0xE0 | cp >> 12));
            text_->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
            text_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            text_->push_back(static_cast<char>(0xF0 | cp >> 18));
            text_->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
            text_->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
            text_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    // Length of the valid UTF-8 sequence starting at pos_, or 0.
    std::size_t utf8_length() const {
        const auto b = [&](std::size_t i) { return static_cast<unsigned char>(json_[pos_ + i]); };
        const unsigned char c = b(0);
        std::size_t n;
        unsigned cp;
        if (c < 0x80) return 1;
        if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
        else return 0;
        if (json_.size() - pos_ < n) return 0;
        for (std::size_t i = 1; i < n; ++i) {
            if ((b(i) & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (b(i) & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        return n;
    }

    // Decodes the string at pos_ (opening quote) into text_.
    const char *string(std::uint32_t &len) {
        ++pos_;
        const std::size_t start = text_->size();
        for (;;) {
            if (at_end()) fail("unterminated string");
            const char c = json_[pos_];
            if (c == '"') {
                ++pos_;
                break;
            }
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string (write it as \\u00XX)");
            if (c != '\\') {
                const std::size_t n = utf8_length();
                if (n == 0) fail("invalid UTF-8 in a string");
                text_->insert(text_->end(), json_.data() + pos_, json_.data() + pos_ + n);
                pos_ += n;
                continue;
            }
            ++pos_;
            if (at_end()) fail("unterminated string");
            const char e = json_[pos_++];
            switch (e) {
                case '"': text_->push_back('"'); break;
                case '\\': text_->push_back('\\'); break;
                case '/': text_->push_back('/'); break;
                case 'b': text_->push_back('\b'); break;
                case 'f': text_->push_back('\f'); break;
                case 'n': text_->push_back('\n'); break;
                case 'r': text_->push_back('\r'); break;
                case 't': text_->push_back('\t'); break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in a \\u escape");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (json_.substr(pos_, 2) != "\\u") fail("high surrogate without a low surrogate in a \\u escape");
                        pos_ += 2;
                        const unsigned low = hex4();
                        if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate without a low surrogate in a \\u escape");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    if (cp == 0) fail("\\u0000 is not allowed in a string (PostgreSQL text cannot hold it)");
                    put_utf8(cp);
                    break;
                }
                default: --pos_; fail("invalid escape \\" + std::string(1, e));
            }
        }
        if (text_->size() - start > std::numeric_limits<std::uint32_t>::max())
            throw Error(ErrorCode::ProgramLimit, "context: a string longer than 4 GB exceeds the limit");
        len = static_cast<std::uint32_t>(text_->size() - start);
        return text_->data() + start;
    }

    std::string_view json_;
    std::size_t pos_ = 0;
    std::vector<ContextNode> *nodes_ = nullptr;
    std::vector<char> *text_ = nullptr;
};

OwnedContextTree OwnedContextTree::parse(std::string_view json) {
    return ContextParser(json).parse();
}

}  // namespace personalize
