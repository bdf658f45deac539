#include "core/rules/lexer.hpp"

#include <charconv>
#include <cmath>

#include "core/rules/text.hpp"

namespace personalize::rules::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Tok keyword(std::string_view word) {
    std::string lower(word);
    for (char &c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (lower == "and") return Tok::And;
    if (lower == "or") return Tok::Or;
    if (lower == "not") return Tok::Not;
    if (lower == "in") return Tok::In;
    if (lower == "is") return Tok::Is;
    if (lower == "null") return Tok::Null;
    if (lower == "true") return Tok::True;
    if (lower == "false") return Tok::False;
    return Tok::Name;
}

class Lexer {
public:
    explicit Lexer(std::string_view rule) : s_(rule) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        bool space = false;
        for (;;) {
            space = skip_blanks_and_comments() || space;
            Token t;
            t.space_before = space && !tokens.empty();
            t.begin = static_cast<std::uint32_t>(i_);
            if (i_ >= s_.size()) {
                t.kind = Tok::End;
                t.end = t.begin;
                tokens.push_back(std::move(t));
                return tokens;
            }
            read(t);
            t.end = static_cast<std::uint32_t>(i_);
            tokens.push_back(std::move(t));
            space = false;
        }
    }

private:
    [[noreturn]] void fail(std::size_t at, const std::string &message) const {
        fail_at(ErrorCode::Syntax, s_, at, message);
    }

    char at(std::size_t k) const { return k < s_.size() ? s_[k] : '\0'; }

    bool skip_blanks_and_comments() {
        bool skipped = false;
        for (;;) {
            if (i_ < s_.size() && is_blank(s_[i_])) {
                ++i_;
                skipped = true;
            } else if (at(i_) == '-' && at(i_ + 1) == '-') {
                while (i_ < s_.size() && s_[i_] != '\n') ++i_;
                skipped = true;
            } else {
                return skipped;
            }
        }
    }

    void read(Token &t) {
        const char c = s_[i_];
        if (is_digit(c)) return number(t);
        if (is_name_start(c)) return name(t);
        if (c == '\'' || c == '"') return text(t);
        const char n = at(i_ + 1);
        auto one = [&](Tok k) { t.kind = k, i_ += 1; };
        auto two = [&](Tok k) { t.kind = k, i_ += 2; };
        switch (c) {
            case '(': return one(Tok::LParen);
            case ')': return one(Tok::RParen);
            case '[': return one(Tok::LBracket);
            case ']': return one(Tok::RBracket);
            case ',': return one(Tok::Comma);
            case '+': return one(Tok::Plus);
            case '-': return one(Tok::Minus);
            case '*': return one(Tok::Star);
            case '/': return one(Tok::Slash);
            case '.':
                if (is_digit(n)) fail(i_, "a number must start with a digit: write 0" + std::string(number_text(i_)));
                return one(Tok::Dot);
            case '=':
                if (n == '=') fail(i_, "\"==\" is not an operator; write = to compare");
                return one(Tok::Eq);
            case '!':
                if (n == '=') return two(Tok::Ne);
                fail(i_, "\"!\" is not an operator; write \"not\" to negate or != to compare");
            case '<':
                if (n == '=') return two(Tok::Le);
                if (n == '>') return two(Tok::Ne);
                return one(Tok::Lt);
            case '>':
                if (n == '=') return two(Tok::Ge);
                return one(Tok::Gt);
            case '&': fail(i_, "\"&\" is not an operator; write \"and\"");
            case '|': fail(i_, "\"|\" is not an operator; write \"or\"");
            case ';': fail(i_, "unexpected \";\": a rule is one condition; join conditions with \"and\" or \"or\"");
            default: break;
        }
        std::size_t len = 0;
        const std::uint32_t cp = code_point_at(s_, i_, len);
        if (cp == 0x2018 || cp == 0x2019 || cp == 0x201C || cp == 0x201D)
            fail(i_, "unexpected curly quote " + code_point_name(cp) + "; write text in straight quotes, 'like this'");
        if (cp == 0x00A0 || cp == 0x2007 || cp == 0x202F || cp == 0x200B || cp == 0xFEFF || cp == 0x3000 ||
            (cp >= 0x2000 && cp <= 0x200A))
            fail(i_, "unexpected invisible or non-breaking space " + code_point_name(cp) + "; use an ordinary space");
        if (cp < 0x20 || cp == 0x7F) fail(i_, "unexpected control character " + code_point_name(cp));
        fail(i_, "unexpected character \"" + std::string(s_.substr(i_, len)) + "\" (" + code_point_name(cp) + ")" +
                     (cp >= 0x80 ? "; outside quotes a rule is plain ASCII (names are letters, digits and _)" : ""));
    }

    // The digits, point and exponent starting at k, for messages.
    std::string_view number_text(std::size_t k) const {
        std::size_t e = k;
        while (e < s_.size() && (is_digit(s_[e]) || s_[e] == '.' || s_[e] == 'e' || s_[e] == 'E')) ++e;
        return s_.substr(k, std::min<std::size_t>(e - k, 40));
    }

    void number(Token &t) {
        const std::size_t start = i_;
        while (is_digit(at(i_))) ++i_;
        if (at(i_) == '.') {
            ++i_;
            if (!is_digit(at(i_)))
                fail(i_, "expected digits after the decimal point of " + std::string(s_.substr(start, std::min<std::size_t>(i_ - start, 40))));
            while (is_digit(at(i_))) ++i_;
        }
        if (at(i_) == 'e' || at(i_) == 'E') {
            const std::size_t e = i_;
            ++i_;
            if (at(i_) == '+' || at(i_) == '-') ++i_;
            if (!is_digit(at(i_))) {
                if (is_name_start(at(e + 1))) i_ = e;  // "30EUR": reported below
                else fail(i_, "expected digits in the exponent of " + std::string(s_.substr(start, std::min<std::size_t>(i_ - start, 40))));
            }
            while (is_digit(at(i_))) ++i_;
        }
        const std::string_view digits = s_.substr(start, i_ - start);
        if (is_name_char(at(i_))) {
            std::size_t e = i_;
            while (is_name_char(at(e))) ++e;
            const std::string_view word = s_.substr(i_, e - i_);
            if (is_iso_currency(letters_code(word)))
                fail(i_, "write a space between the amount and the currency: " + std::string(digits.substr(0, 40)) + " " +
                             currency_text(letters_code(word)));
            fail(i_, "unexpected \"" + truncate_utf8(word, 40) + "\" directly after the number " +
                         std::string(digits.substr(0, 40)));
        }
        double v = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec != std::errc() || ptr != digits.data() + digits.size() || !std::isfinite(v))
            fail(start, "the number " + truncate_utf8(digits, 40) + " is out of range");
        t.kind = Tok::Number;
        t.number = v;
        currency(t);
    }

    // "30 GBP": a number, blanks, then three upper-case letters as a word.
    void currency(Token &t) {
        std::size_t k = i_;
        while (k < s_.size() && is_blank(s_[k])) ++k;
        if (k == i_ || !is_name_start(at(k))) return;
        std::size_t e = k;
        while (is_name_char(at(e))) ++e;
        const std::string_view word = s_.substr(k, e - k);
        if (keyword(word) != Tok::Name || letters_code(word) == 0) return;
        const bool upper = word[0] <= 'Z' && word[1] <= 'Z' && word[2] <= 'Z';
        const Currency code = iso_currency(word);
        if (!upper) {
            if (is_iso_currency(letters_code(word)))
                fail(k, "currency codes are written in upper case: " + currency_text(letters_code(word)));
            return;  // an ordinary name; the parser reports it
        }
        if (code == 0) {
            const std::string guess = closest_currency(word);
            fail(k, "unknown currency \"" + std::string(word) + "\" (not an ISO 4217 code)" +
                        (guess.empty() ? std::string() : "; did you mean " + guess + "?"));
        }
        t.kind = Tok::Money;
        t.currency = code;
        i_ = e;
    }

    void name(Token &t) {
        const std::size_t start = i_;
        while (is_name_char(at(i_))) ++i_;
        t.text = std::string(s_.substr(start, i_ - start));
        t.kind = keyword(t.text);
    }

    void text(Token &t) {
        const char quote = s_[i_];
        const std::size_t start = i_;
        ++i_;
        for (;;) {
            if (i_ >= s_.size())
                fail(start, std::string("this text is never closed; end it with ") + quote);
            if (s_[i_] == quote) {
                if (at(i_ + 1) == quote) {
                    t.text += quote;
                    i_ += 2;
                    continue;
                }
                ++i_;
                break;
            }
            t.text += s_[i_++];
        }
        t.kind = Tok::String;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view rule) { return Lexer(rule).run(); }

bool is_keyword(Tok kind) { return kind >= Tok::And && kind <= Tok::False; }

std::string describe(const Token &token, std::string_view rule) {
    const std::string_view src = rule.substr(token.begin, token.end - token.begin);
    switch (token.kind) {
        case Tok::End: return "the end of the rule";
        case Tok::Number: return "the number " + truncate_utf8(src, 40);
        case Tok::Money: return "the amount " + truncate_utf8(src, 40);
        case Tok::String: return "the text " + truncate_utf8(src, 40);
        case Tok::Name: return "\"" + truncate_utf8(src, 60) + "\"";
        default: return "\"" + std::string(src) + "\"";
    }
}

}  // namespace personalize::rules::detail
