// RFM breakpoints (quantiles by NTILE's bucket starts), scoring, the JSON
// form of the breakpoints and the rfm_breakpoints aggregate state.
#include "core/customers/rfm.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::customers {

namespace {

void require_finite(double v, const char *function, const char *name) {
    if (!std::isfinite(v))
        throw_invalid(std::string(function) + ": \"" + name + "\" must be a finite number, not " +
                      (std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"));
}

void put_array(std::string &out, const char *key, const std::vector<double> &values) {
    out += ",\"";
    out += key;
    out += "\":[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        put_json_number(out, values[i]);
    }
    out += ']';
}

// A reader for exactly the breakpoints object: {"key": number | [numbers], ...}.
class BreakpointsReader {
public:
    explicit BreakpointsReader(std::string_view text) : text_(text) {}

    RfmBreakpoints read() {
        RfmBreakpoints b;
        bool seen[5] = {false, false, false, false, false};
        expect('{');
        bool first = true;
        while (true) {
            skip_space();
            if (peek() == '}' && first) {
                ++pos_;
                break;
            }
            if (!first) {
                if (peek() == '}') {
                    ++pos_;
                    break;
                }
                expect(',');
            }
            first = false;
            const std::string key = read_key();
            expect(':');
            int slot;
            if (key == "bins") slot = 0;
            else if (key == "customers") slot = 1;
            else if (key == "recency") slot = 2;
            else if (key == "frequency") slot = 3;
            else if (key == "monetary") slot = 4;
            else fail("unknown key \"" + key + "\"");
            if (seen[slot]) fail("duplicate key \"" + key + "\"");
            seen[slot] = true;
            if (slot == 0) {
                const double v = read_number();
                if (v != std::floor(v)) fail("\"bins\" must be an integer");
                if (v < kRfmMinBins || v > kRfmMaxBins)
                    fail("\"bins\" must be between " + std::to_string(kRfmMinBins) + " and " +
                         std::to_string(kRfmMaxBins));
                b.bins = static_cast<int>(v);
            } else if (slot == 1) {
                const double v = read_number();
                if (v != std::floor(v) || v < 0 || v > 9.007199254740992e15) fail("\"customers\" must be a count");
                b.customers = static_cast<std::int64_t>(v);
            } else {
                std::vector<double> &out = slot == 2 ? b.recency : slot == 3 ? b.frequency : b.monetary;
                read_array(out);
                if (!std::is_sorted(out.begin(), out.end())) fail("\"" + key + "\" must be in ascending order");
            }
        }
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the object");
        for (int i = 0; i < 5; ++i)
            if (!seen[i]) {
                static const char *const keys[5] = {"bins", "customers", "recency", "frequency", "monetary"};
                fail(std::string("missing key \"") + keys[i] + "\"");
            }
        for (const auto *v : {&b.recency, &b.frequency, &b.monetary})
            if (v->size() > static_cast<std::size_t>(b.bins - 1))
                fail("more than bins - 1 breakpoints in one list");
        return b;
    }

private:
    [[noreturn]] void fail(const std::string &why) const {
        throw_invalid("rfm_score: \"breakpoints\" is not an rfm_breakpoints result: " + why,
                      "Pass the jsonb returned by personalize.rfm_breakpoints(...).");
    }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\r'))
            ++pos_;
    }
    char peek() {
        skip_space();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    std::string read_key() {
        expect('"');
        const std::size_t end = text_.find('"', pos_);
        if (end == std::string_view::npos) fail("unterminated key");
        std::string key(text_.substr(pos_, end - pos_));
        if (key.find('\\') != std::string::npos) fail("unknown key");
        pos_ = end + 1;
        return key;
    }
    double read_number() {
        skip_space();
        const std::size_t start = pos_;
        while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
                                       text_[pos_] == '+' || text_[pos_] == '.' || text_[pos_] == 'e' ||
                                       text_[pos_] == 'E'))
            ++pos_;
        if (pos_ == start) fail("expected a number");
        const std::string token(text_.substr(start, pos_ - start));
        char *end = nullptr;
        const double v = std::strtod(token.c_str(), &end);
        if (end != token.c_str() + token.size() || !std::isfinite(v)) fail("bad number \"" + token + "\"");
        return v;
    }
    void read_array(std::vector<double> &out) {
        expect('[');
        if (peek() == ']') {
            ++pos_;
            return;
        }
        while (true) {
            if (out.size() >= static_cast<std::size_t>(kRfmMaxBins)) fail("too many breakpoints");
            out.push_back(read_number());
            if (peek() == ']') {
                ++pos_;
                return;
            }
            expect(',');
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

void validate_rfm_bins(std::int64_t bins, const char *function) {
    if (bins < kRfmMinBins || bins > kRfmMaxBins)
        throw_invalid(std::string(function) + ": \"bins\" must be between " + std::to_string(kRfmMinBins) + " and " +
                      std::to_string(kRfmMaxBins) + ", not " + std::to_string(bins));
}

std::vector<std::size_t> ntile_starts(std::size_t n, int bins) {
    validate_rfm_bins(bins, "ntile_starts");
    const std::size_t b = static_cast<std::size_t>(bins);
    const std::size_t q = n / b, r = n % b;
    std::vector<std::size_t> starts(b);
    for (std::size_t k = 0; k < b; ++k) starts[k] = k * q + std::min(k, r);  // bucket k+1
    return starts;
}

std::vector<double> quantile_breakpoints(std::vector<double> &values, int bins, const Interrupt &interrupt) {
    const std::vector<std::size_t> starts = ntile_starts(values.size(), bins);
    std::sort(values.begin(), values.end());
    interrupt.check();
    std::vector<double> out;
    for (std::size_t k = 1; k < starts.size(); ++k) {
        const std::size_t pos = starts[k];
        if (pos >= values.size()) break;
        // The first value whose run of identical values starts at or after
        // the bucket start: a run spanning the start stays in the bucket where
        // it begins (one-time buyers get the lowest frequency score).
        auto first = std::lower_bound(values.begin(), values.end(), values[pos]);
        if (static_cast<std::size_t>(first - values.begin()) < pos) {
            first = std::upper_bound(values.begin(), values.end(), values[pos]);
            if (first == values.end()) break;  // the run reaches the top: no higher bucket
        }
        out.push_back(*first);
    }
    return out;
}

int score_ascending(const std::vector<double> &breakpoints, double v) {
    return 1 + static_cast<int>(std::upper_bound(breakpoints.begin(), breakpoints.end(), v) - breakpoints.begin());
}

int score_descending(const std::vector<double> &breakpoints, double v) {
    return 1 + static_cast<int>(breakpoints.end() - std::lower_bound(breakpoints.begin(), breakpoints.end(), v));
}

RfmScore RfmBreakpoints::score(double r, double f, double m) const {
    require_finite(r, "rfm_score", "recency");
    require_finite(f, "rfm_score", "frequency");
    require_finite(m, "rfm_score", "monetary");
    return {score_descending(recency, r), score_ascending(frequency, f), score_ascending(monetary, m)};
}

std::string RfmBreakpoints::to_json() const {
    std::string out = "{\"bins\":" + std::to_string(bins) + ",\"customers\":" + std::to_string(customers);
    put_array(out, "recency", recency);
    put_array(out, "frequency", frequency);
    put_array(out, "monetary", monetary);
    out += '}';
    return out;
}

RfmBreakpoints RfmBreakpoints::from_json(std::string_view text) { return BreakpointsReader(text).read(); }

// ---------------------------------------------------------------- collector

void RfmCollector::set_bins(std::int64_t bins) {
    bool known = bins_ != 0;
    same_for_every_row(
        known, "rfm_breakpoints",
        [&] {
            validate_rfm_bins(bins, "rfm_breakpoints");
            bins_ = static_cast<int>(bins);
        },
        {{"bins", bins == bins_}});
}

void RfmCollector::reserve_values(std::size_t needed) {
    if (needed <= values_.capacity()) return;
    if (needed > std::numeric_limits<std::size_t>::max() / (2 * sizeof(double)))
        throw Error(ErrorCode::ProgramLimit, "rfm_breakpoints: too many input rows");
    const std::size_t target = std::max({needed, values_.capacity() * 2, std::size_t{192}});
    const std::size_t bytes = target * sizeof(double);
    const std::size_t old_bytes = values_.capacity() * sizeof(double);
    // Old and new buffers both exist while the values move.
    budget_.charge(bytes, "rfm_breakpoints input values");
    try {
        values_.reserve(target);
    } catch (...) {
        budget_.release(bytes);
        throw;
    }
    budget_.release(old_bytes);
}

void RfmCollector::add(double r, double f, double m) {
    require_finite(r, "rfm_breakpoints", "recency");
    require_finite(f, "rfm_breakpoints", "frequency");
    require_finite(m, "rfm_breakpoints", "monetary");
    reserve_values(values_.size() + 3);
    values_.push_back(r);
    values_.push_back(f);
    values_.push_back(m);
}

void RfmCollector::merge(const RfmCollector &other) {
    if (other.bins_ != 0) set_bins(other.bins_);
    reserve_values(values_.size() + other.values_.size());
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
}

RfmBreakpoints RfmCollector::breakpoints(const Interrupt &interrupt) const {
    RfmBreakpoints out;
    out.bins = bins_ == 0 ? kRfmDefaultBins : bins_;
    const std::size_t n = size();
    out.customers = static_cast<std::int64_t>(n);
    MemoryBudget budget = budget_;  // the copies count on top of the collected values
    budget.charge(n * sizeof(double), "rfm_breakpoints quantiles");
    std::vector<double> column(n);
    for (int c = 0; c < 3; ++c) {
        const bool negate = c == 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double v = values_[3 * i + static_cast<std::size_t>(c)];
            column[i] = negate ? -v : v;
            interrupt.poll(1u << 16);
        }
        std::vector<double> b = quantile_breakpoints(column, out.bins, interrupt);
        if (negate) {
            for (double &v : b) v = -v + 0.0;  // back to the input's units; -0 becomes 0
            std::reverse(b.begin(), b.end());
        }
        (c == 0 ? out.recency : c == 1 ? out.frequency : out.monetary) = std::move(b);
    }
    return out;
}

// Layout after the header: u32 bins (0: not set yet), u64 values, then the
// values (recency, frequency, monetary per customer).
void RfmCollector::write(ByteWriter &out) const {
    out.header(byte_formats::kRfmValues);
    out.put(static_cast<std::uint32_t>(bins_));
    out.put_counted(values_);
}

RfmCollector RfmCollector::deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget) {
    return read_whole(data, size, "rfm_breakpoints", [&](ByteReader &in) {
        in.header(byte_formats::kRfmValues);
        const auto bins = in.get<std::uint32_t>();
        if (bins != 0 && (bins < static_cast<std::uint32_t>(kRfmMinBins) || bins > static_cast<std::uint32_t>(kRfmMaxBins)))
            in.corrupted("bad bins");
        const std::size_t count = in.get_count(sizeof(double));
        if (count % 3 != 0) in.corrupted("not three values per customer");
        RfmCollector c(std::move(budget));
        c.bins_ = static_cast<int>(bins);
        c.reserve_values(count);
        c.values_.resize(count);
        in.get_array(c.values_.data(), count);
        for (double v : c.values_)
            if (!std::isfinite(v)) in.corrupted("non-finite value");
        return c;
    });
}

}  // namespace personalize::customers
