// Tokens of the offer rule language. The lexer checks the rule's bytes
// (valid UTF-8; no stray characters) and reads numbers, amounts ("30 GBP"),
// text literals, names and operators; its errors are Syntax errors with the
// position of the offending character and, for the usual slips (==, &&,
// curly quotes, 30GBP, .5), what to write instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/money.hpp"

namespace personalize::rules::detail {

enum class Tok : std::uint8_t {
    End, Number, Money, String, Name,
    And, Or, Not, In, Is, Null, True, False,
    LParen, RParen, LBracket, RBracket, Comma, Dot,
    Eq, Ne, Lt, Le, Gt, Ge, Plus, Minus, Star, Slash,
};

struct Token {
    Tok kind = Tok::End;
    std::uint32_t begin = 0, end = 0;  // byte offsets in the rule text
    bool space_before = false;         // blanks or a comment between it and the previous token
    double number = 0;                 // Number, Money: the amount
    Currency currency = 0;             // Money
    std::string text;                  // String: decoded; Name and keywords: as written
};

// The rule's tokens, always ending with one End token (at the rule's end).
std::vector<Token> tokenize(std::string_view rule);

// What a "found ..." message calls the token: "the end of the rule",
// "\"and\"", "the number 30", "the text 'gold'", ...
std::string describe(const Token &token, std::string_view rule);

bool is_keyword(Tok kind);

}  // namespace personalize::rules::detail
