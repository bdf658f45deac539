#include "core/rules/money.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <vector>

#include "core/rules/text.hpp"

namespace personalize::rules::detail {

namespace {

// ISO 4217 (list one, 2024), sorted, plus HRK and ANG that shops still hold
// in historical data, and XCG (2025).
constexpr const char *kCodes[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST",
    "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS",
    "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
};

Currency pack(char a, char b, char c) {
    return static_cast<Currency>(static_cast<unsigned char>(a)) << 16 |
           static_cast<Currency>(static_cast<unsigned char>(b)) << 8 | static_cast<unsigned char>(c);
}

const std::vector<Currency> &iso_table() {
    static const std::vector<Currency> table = [] {
        std::vector<Currency> t;
        for (const char *code : kCodes) t.push_back(pack(code[0], code[1], code[2]));
        std::sort(t.begin(), t.end());
        return t;
    }();
    return table;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

bool is_iso_currency(Currency c) {
    const auto &t = iso_table();
    return std::binary_search(t.begin(), t.end(), c);
}

Currency iso_currency(std::string_view code) {
    if (code.size() != 3 || !is_upper(code[0]) || !is_upper(code[1]) || !is_upper(code[2])) return 0;
    const Currency c = pack(code[0], code[1], code[2]);
    return is_iso_currency(c) ? c : 0;
}

Currency letters_code(std::string_view code) {
    if (code.size() != 3) return 0;
    char up[3];
    for (int i = 0; i < 3; ++i) {
        char ch = code[i];
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        if (!is_upper(ch)) return 0;
        up[i] = ch;
    }
    return pack(up[0], up[1], up[2]);
}

std::string currency_text(Currency c) {
    if (c == 0) return "???";
    return std::string{static_cast<char>(c >> 16 & 0xFF), static_cast<char>(c >> 8 & 0xFF), static_cast<char>(c & 0xFF)};
}

std::string closest_currency(std::string_view code) {
    std::vector<std::string_view> candidates(std::begin(kCodes), std::end(kCodes));
    std::string best;
    // Only one edit for three letters, and only when it is unambiguous.
    int found = 0;
    for (const std::string_view c : candidates)
        if (edit_distance(code, c) <= 1) {
            ++found;
            best = std::string(c);
        }
    return found == 1 ? best : std::string();
}

std::string format_money(double amount, Currency c) {
    // to_chars, not snprintf: the same digits (%.2f of the exact value) at a
    // fraction of the cost, which reasons pay for every eligible offer.
    char buf[400];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, amount == 0 ? 0.0 : amount, std::chars_format::fixed, 2);
    std::string out = ec == std::errc() ? std::string(buf, end) : std::string("?");
    // -0.004 prints as -0.00: say 0.00.
    if (out == "-0.00") out.erase(0, 1);
    return out + ' ' + currency_text(c);
}

bool parse_money_text(std::string_view text, double &amount, Currency &currency, std::string &bad_code) {
    bad_code.clear();
    std::size_t i = 0;
    const auto digit = [&](std::size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
    std::string number;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        if (text[i] == '-') number += '-';
        ++i;
    }
    std::size_t digits = 0;
    while (digit(i)) number += text[i++], ++digits;
    if (i < text.size() && text[i] == '.') {
        number += text[i++];
        if (digits == 0) number.insert(number.size() - 1, "0");
        std::size_t frac = 0;
        while (digit(i)) number += text[i++], ++frac;
        if (frac == 0 && digits == 0) return false;
        digits += frac;
    }
    if (digits == 0) return false;
    // An exponent only when digits follow: "5eur" is 5 EUR.
    const bool sign = i + 1 < text.size() && (text[i + 1] == '-' || text[i + 1] == '+');
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E') && digit(i + (sign ? 2 : 1))) {
        number += text[i++];
        if (sign) number += text[i++];
        while (digit(i)) number += text[i++];
    }
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::string_view code = text.substr(i);
    if (letters_code(code) == 0) return false;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(v)) return false;
    const Currency c = letters_code(code);
    if (!is_iso_currency(c)) {
        bad_code = std::string(code);
        return false;
    }
    amount = v;
    currency = c;
    return true;
}

}  // namespace personalize::rules::detail
