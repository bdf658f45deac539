// Money in the offer rule language: an amount (double) and an ISO 4217
// currency code, packed into 24 bits ('G' << 16 | 'B' << 8 | 'P'); 0 means
// "no currency known".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace personalize::rules::detail {

using Currency = std::uint32_t;

// The packed code of three upper-case ASCII letters that are an ISO 4217
// code (active codes, the X.. funds/metals/test codes), else 0. Rule
// literals must be written like this.
Currency iso_currency(std::string_view code);
// Three ASCII letters of any case, upper-cased and packed, whether or not
// they are an ISO code (contexts may write "gbp"), else 0.
Currency letters_code(std::string_view code);
bool is_iso_currency(Currency c);
std::string currency_text(Currency c);
// The ISO code closest to an unknown one (GPB -> GBP), or "".
std::string closest_currency(std::string_view code);

// "42.50 GBP" (two decimals, as the language writes amounts).
std::string format_money(double amount, Currency c);

// Context text such as "42.50 GBP", "-3 EUR", "1e3 usd": a number (JSON
// syntax; a leading "+" and ".5" also accepted), optional blanks, a currency
// code of any case. Returns false when the text has another shape, and also
// sets `bad_code` when only the code is wrong (not ISO 4217).
bool parse_money_text(std::string_view text, double &amount, Currency &currency, std::string &bad_code);

}  // namespace personalize::rules::detail
