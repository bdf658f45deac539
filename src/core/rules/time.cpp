#include "core/rules/time.hpp"

#include <cstdio>

namespace personalize::rules::detail {

// Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t &y, unsigned &m, unsigned &d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

namespace {

class TimeReader {
public:
    explicit TimeReader(std::string_view s) : s_(s) {}

    bool at_end() const { return i_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[i_]; }
    bool take(char c) {
        if (peek() != c) return false;
        ++i_;
        return true;
    }
    // Exactly n digits (bounds checked once).
    bool digits(int n, int &value) {
        if (s_.size() - i_ < static_cast<std::size_t>(n)) return false;
        int v = 0;
        for (int k = 0; k < n; ++k) {
            const unsigned d = static_cast<unsigned>(s_[i_ + static_cast<std::size_t>(k)] - '0');
            if (d > 9) return false;
            v = v * 10 + static_cast<int>(d);
        }
        i_ += static_cast<std::size_t>(n);
        value = v;
        return true;
    }
    std::size_t pos() const { return i_; }
    void skip(std::size_t n) { i_ += n; }
    std::string_view rest() const { return s_.substr(i_); }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

bool fail(std::string &why, std::string text) {
    why = std::move(text);
    return false;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

}  // namespace

bool parse_timestamp(std::string_view text, std::int64_t &micros, std::string &why) {
    if (text == "infinity" || text == "+infinity") {
        micros = kInfinityTime;
        return true;
    }
    if (text == "-infinity") {
        micros = kMinusInfinityTime;
        return true;
    }
    TimeReader r(text);
    int year, month, day;
    if (!r.digits(4, year)) return fail(why, "expected a four-digit year");
    if (!r.take('-') || !r.digits(2, month)) return fail(why, "expected -MM after the year");
    if (!r.take('-') || !r.digits(2, day)) return fail(why, "expected -DD after the month");
    if (year < 1) return fail(why, "year 0000 (the first year is 0001)");
    if (month < 1 || month > 12) return fail(why, "month " + std::to_string(month));
    if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
        return fail(why, "day " + std::to_string(day) + " of month " + std::to_string(month));
    std::int64_t t = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * kMicrosPerDay;
    if (r.at_end()) {
        micros = t;
        return true;
    }
    if (!r.take('T') && !r.take('t') && !r.take(' ')) return fail(why, "expected \"T\" or a space before the time");
    int hour, minute, second = 0;
    if (!r.digits(2, hour)) return fail(why, "expected HH after the date");
    if (!r.take(':') || !r.digits(2, minute)) return fail(why, "expected :MM after the hour");
    if (hour > 23) return fail(why, "hour " + std::to_string(hour));
    if (minute > 59) return fail(why, "minute " + std::to_string(minute));
    std::int64_t fraction = 0;
    if (r.take(':')) {
        if (!r.digits(2, second)) return fail(why, "expected two digits of seconds");
        if (second > 59) return fail(why, "second " + std::to_string(second));
        if (r.take('.') || r.take(',')) {
            // Up to 9 digits, rounded to microseconds.
            std::int64_t scaled = 0;
            int n = 0;
            while (!r.at_end() && r.peek() >= '0' && r.peek() <= '9') {
                if (n == 9) return fail(why, "more than 9 digits of fractional seconds");
                scaled = scaled * 10 + (r.peek() - '0');
                r.skip(1);
                ++n;
            }
            if (n == 0) return fail(why, "expected digits after the decimal point of the seconds");
            for (int k = n; k < 9; ++k) scaled *= 10;  // nanoseconds
            fraction = (scaled + 500) / 1000;
        }
    }
    t += hour * kMicrosPerHour + minute * 60000000LL + second * 1000000LL + fraction;
    if (r.at_end()) {
        micros = t;
        return true;
    }
    if (r.take('Z') || r.take('z')) {
        if (!r.at_end()) return fail(why, "unexpected text after \"Z\"");
        micros = t;
        return true;
    }
    const char sign = r.peek();
    if (sign != '+' && sign != '-') return fail(why, "expected an offset such as Z or +01:00 after the time");
    r.skip(1);
    int oh, om = 0, os = 0;
    if (!r.digits(2, oh)) return fail(why, "expected two digits of offset hours");
    if (r.take(':')) {
        if (!r.digits(2, om)) return fail(why, "expected two digits of offset minutes");
        if (r.take(':') && !r.digits(2, os)) return fail(why, "expected two digits of offset seconds");
    } else if (!r.at_end()) {
        if (!r.digits(2, om)) return fail(why, "expected two digits of offset minutes");
    }
    if (!r.at_end()) return fail(why, "unexpected text after the offset");
    if (oh > 15 || om > 59 || os > 59) return fail(why, "offset out of range (at most +-15:59)");
    const std::int64_t offset = oh * kMicrosPerHour + om * 60000000LL + os * 1000000LL;
    micros = sign == '+' ? t - offset : t + offset;
    return true;
}

std::string format_timestamp(std::int64_t micros) {
    if (micros == kInfinityTime) return "infinity";
    if (micros == kMinusInfinityTime) return "-infinity";
    std::int64_t days = micros / kMicrosPerDay, rest = micros % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    const std::int64_t seconds = rest / 1000000, us = rest % 1000000;
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                          static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
                          static_cast<long long>(seconds % 60));
    std::string out(buf, static_cast<std::size_t>(n));
    if (us != 0) {
        std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
        std::string f = buf;
        while (f.back() == '0') f.pop_back();
        out += f;
    }
    out += 'Z';
    return out;
}

}  // namespace personalize::rules::detail
