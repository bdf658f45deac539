#include "core/mining/baskets.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"

namespace personalize::mining {

namespace {

constexpr std::size_t kPollChunk = std::size_t{1} << 16;  // elements between interrupt checks
constexpr const char *kWhat = "baskets";

template <typename T>
std::size_t capacity_bytes(const std::vector<T> &v) {
    return v.capacity() * sizeof(T);
}

unsigned bit_width(std::uint64_t range) {
    unsigned bits = 0;
    while (range != 0) {
        ++bits;
        range >>= 1;
    }
    return bits;
}

// LSD radix sort of 64-bit keys whose values fit in `bits` bits. `keys` and
// `tmp` hold n elements each; the sorted keys end up in `keys`.
void radix_sort(std::uint64_t *&keys, std::uint64_t *&tmp, std::size_t n, unsigned bits, const Interrupt &interrupt) {
    if (bits == 0 || n < 2) return;
    constexpr unsigned kMaxDigit = 11;
    const unsigned passes = (bits + kMaxDigit - 1) / kMaxDigit;
    const unsigned width = (bits + passes - 1) / passes;
    const std::size_t buckets = std::size_t{1} << width;
    const std::uint64_t mask = buckets - 1;

    std::vector<std::size_t> counts(passes * buckets, 0);
    for (std::size_t start = 0; start < n; start += kPollChunk) {
        interrupt.check();
        const std::size_t stop = std::min(n, start + kPollChunk);
        for (std::size_t i = start; i < stop; ++i) {
            const std::uint64_t k = keys[i];
            for (unsigned p = 0; p < passes; ++p) ++counts[p * buckets + ((k >> (p * width)) & mask)];
        }
    }
    for (unsigned p = 0; p < passes; ++p) {
        std::size_t *c = counts.data() + p * buckets;
        // A digit that is the same for every key does not reorder anything.
        if (*std::max_element(c, c + buckets) == n) continue;
        std::size_t sum = 0;
        for (std::size_t b = 0; b < buckets; ++b) {
            const std::size_t v = c[b];
            c[b] = sum;
            sum += v;
        }
        const unsigned shift = p * width;
        for (std::size_t start = 0; start < n; start += kPollChunk) {
            interrupt.check();
            const std::size_t stop = std::min(n, start + kPollChunk);
            for (std::size_t i = start; i < stop; ++i) {
                const std::uint64_t k = keys[i];
                tmp[c[(k >> shift) & mask]++] = k;
            }
        }
        std::swap(keys, tmp);
    }
}

// Text parsing with positions for error messages.
class TextParser {
public:
    explicit TextParser(const char *text) : text_(text), pos_(0) {}

    void skip_ws() {
        while (text_[pos_] != '\0' && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    char peek() const { return text_[pos_]; }
    void advance() { ++pos_; }
    bool at_end() const { return text_[pos_] == '\0'; }

    void expect(char c) {
        if (text_[pos_] != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    std::int64_t number(const char *what) {
        const char *start = text_ + pos_;
        const char *p = start;
        if (*p == '+') {  // from_chars takes '-' but not '+'
            ++p;
            if (!(*p >= '0' && *p <= '9')) fail(std::string("expected ") + what);
        }
        if (!(*p == '-' || (*p >= '0' && *p <= '9'))) fail(std::string("expected ") + what);
        const char *end = p;
        if (*end == '-') ++end;
        while (*end >= '0' && *end <= '9') ++end;
        std::int64_t value = 0;
        const auto result = std::from_chars(p, end, value);
        if (result.ec == std::errc::result_out_of_range) fail(std::string(what) + " is out of range for bigint");
        if (result.ec != std::errc() || result.ptr != end) fail(std::string("expected ") + what);
        pos_ += static_cast<std::size_t>(end - start);
        return value;
    }

    [[noreturn]] void fail(const std::string &what) const {
        std::string where = at_end() ? "at end of input" : "at character " + std::to_string(pos_ + 1);
        throw Error(ErrorCode::InvalidText, "baskets: invalid input " + where + ": " + what,
                    "A baskets value looks like {1:{10,20},7:{10}}: basket id, then its item ids in braces.");
    }

private:
    const char *text_;
    std::size_t pos_;
};

}  // namespace

// ---------------------------------------------------------------------------
// BasketCollection

std::size_t BasketCollection::memory_bytes() const {
    return sizeof(*this) + capacity_bytes(ids_) + capacity_bytes(offsets_) + capacity_bytes(items_);
}

void BasketCollection::append(std::int64_t id, const std::int64_t *items, std::size_t count) {
    if (count == 0) throw_invalid("baskets: a basket must hold at least one item");
    if (!ids_.empty() && id <= ids_.back()) throw_invalid("baskets: basket ids must be appended in increasing order");
    for (std::size_t i = 1; i < count; ++i)
        if (items[i - 1] >= items[i]) throw_invalid("baskets: a basket's items must be sorted and distinct");
    ids_.push_back(id);
    items_.insert(items_.end(), items, items + count);
    offsets_.push_back(items_.size());
}

BasketCollection BasketCollection::merge(const BasketCollection &a, const BasketCollection &b, MemoryBudget &budget,
                                         const Interrupt &interrupt) {
    // Sizes first, so the result is allocated (and charged) once, exactly.
    std::size_t baskets = 0, lines = 0;
    {
        std::size_t i = 0, j = 0;
        while (i < a.size() || j < b.size()) {
            interrupt.poll();
            ++baskets;
            if (j == b.size() || (i < a.size() && a.ids_[i] < b.ids_[j])) {
                lines += a.basket_size(i++);
            } else if (i == a.size() || b.ids_[j] < a.ids_[i]) {
                lines += b.basket_size(j++);
            } else {
                const std::int64_t *x = a.begin(i), *xe = a.end(i), *y = b.begin(j), *ye = b.end(j);
                while (x != xe && y != ye) {
                    if (*x < *y) {
                        ++x;
                    } else if (*y < *x) {
                        ++y;
                    } else {
                        ++x;
                        ++y;
                    }
                    ++lines;
                }
                lines += static_cast<std::size_t>((xe - x) + (ye - y));
                ++i;
                ++j;
            }
        }
    }

    BasketCollection out;
    const std::size_t bytes = baskets * sizeof(std::int64_t) + (baskets + 1) * sizeof(std::uint64_t) +
                              lines * sizeof(std::int64_t);
    budget.charge(bytes, "baskets: merge");
    try {
        out.ids_.reserve(baskets);
        out.offsets_.reserve(baskets + 1);
        out.items_.reserve(lines);
    } catch (...) {
        budget.release(bytes);
        throw;
    }
    struct ReleaseOnError {
        MemoryBudget &budget;
        std::size_t bytes;
        bool done = false;
        ~ReleaseOnError() {
            if (!done) budget.release(bytes);
        }
    } guard{budget, bytes};
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        interrupt.poll();
        if (j == b.size() || (i < a.size() && a.ids_[i] < b.ids_[j])) {
            out.ids_.push_back(a.ids_[i]);
            out.items_.insert(out.items_.end(), a.begin(i), a.end(i));
            ++i;
        } else if (i == a.size() || b.ids_[j] < a.ids_[i]) {
            out.ids_.push_back(b.ids_[j]);
            out.items_.insert(out.items_.end(), b.begin(j), b.end(j));
            ++j;
        } else {
            out.ids_.push_back(a.ids_[i]);
            std::set_union(a.begin(i), a.end(i), b.begin(j), b.end(j), std::back_inserter(out.items_));
            ++i;
            ++j;
        }
        out.offsets_.push_back(out.items_.size());
    }
    guard.done = true;
    return out;
}

// Layout after the header (version 0, the layout of 0.1.0): u64 baskets,
// u64 lines, i64 ids[baskets], u64 ends[baskets] (offsets_[1..]), i64 items[lines].
void BasketCollection::write(ByteWriter &out) const {
    out.header(byte_formats::kBaskets);
    out.put_count(ids_.size());
    out.put_count(items_.size());
    out.put_array(ids_.data(), ids_.size());
    out.put_array(offsets_.data() + 1, ids_.size());
    out.put_array(items_.data(), items_.size());
}

BasketCollection BasketCollection::deserialize(const unsigned char *data, std::size_t size, MemoryBudget &budget) {
    ByteReader in(data, size, kWhat);
    in.header(byte_formats::kBaskets);
    const std::size_t baskets = in.get_count(2 * sizeof(std::int64_t));
    const std::size_t lines = in.get_count(sizeof(std::int64_t));
    // Both counts are bounded by the bytes present, so this cannot overflow;
    // the exact size is known before anything is allocated.
    if (in.remaining() != baskets * 16 + lines * 8) in.corrupted("size mismatch");
    if (lines < baskets) in.corrupted("more baskets than items");
    if ((baskets == 0) != (lines == 0)) in.corrupted("items without baskets");

    BasketCollection c;
    const std::size_t bytes = baskets * 16 + 8 + lines * 8;
    budget.charge(bytes, "baskets");
    try {
        c.ids_.resize(baskets);
        c.offsets_.resize(baskets + 1);
        c.items_.resize(lines);
    } catch (...) {
        budget.release(bytes);
        throw;
    }
    c.offsets_[0] = 0;
    try {
        in.get_array(c.ids_.data(), baskets);
        in.get_array(c.offsets_.data() + 1, baskets);
        in.get_array(c.items_.data(), lines);
        for (std::size_t b = 0; b < baskets; ++b) {
            if (b > 0 && c.ids_[b - 1] >= c.ids_[b]) in.corrupted("basket ids are not strictly increasing");
            const std::uint64_t lo = c.offsets_[b], hi = c.offsets_[b + 1];
            if (hi <= lo || hi > lines) in.corrupted("bad basket offsets");
            for (std::uint64_t k = lo + 1; k < hi; ++k)
                if (c.items_[k - 1] >= c.items_[k]) in.corrupted("basket items are not sorted and distinct");
        }
        if (c.offsets_[baskets] != lines) in.corrupted("item count does not match the offsets");
        in.expect_end();
    } catch (...) {
        budget.release(bytes);
        throw;
    }
    return c;
}

std::string BasketCollection::to_text() const {
    std::string out;
    out.reserve(2 + ids_.size() * 6 + items_.size() * 6);
    char buf[24];
    auto put = [&](std::int64_t v) {
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    };
    out.push_back('{');
    for (std::size_t b = 0; b < ids_.size(); ++b) {
        if (b > 0) out.push_back(',');
        put(ids_[b]);
        out.append(":{");
        for (const std::int64_t *it = begin(b); it != end(b); ++it) {
            if (it != begin(b)) out.push_back(',');
            put(*it);
        }
        out.push_back('}');
    }
    out.push_back('}');
    return out;
}

BasketCollection BasketCollection::from_text(const char *text, MemoryBudget &budget) {
    if (text == nullptr) throw Error(ErrorCode::InvalidText, "baskets: invalid input: no text");
    std::vector<BasketBuilder::Line> lines;
    struct Release {
        MemoryBudget &budget;
        std::vector<BasketBuilder::Line> &lines;
        ~Release() { budget.release(capacity_bytes(lines)); }
    };
    auto push = [&](std::int64_t basket, std::int64_t item) {
        if (lines.size() == lines.capacity()) {
            const std::size_t old = lines.capacity();
            const std::size_t grown = std::max<std::size_t>(64, old * 2);
            budget.charge((grown - old) * sizeof(BasketBuilder::Line), "baskets");
            try {
                lines.reserve(grown);
            } catch (...) {
                budget.release((grown - old) * sizeof(BasketBuilder::Line));
                throw;
            }
        }
        lines.push_back({basket, item});
    };

    {
        Release guard{budget, lines};
        TextParser p(text);
        p.skip_ws();
        p.expect('{');
        p.skip_ws();
        if (p.peek() == '}') {
            p.advance();
        } else {
            for (;;) {
                const std::int64_t id = p.number("a basket id");
                p.skip_ws();
                p.expect(':');
                p.skip_ws();
                p.expect('{');
                p.skip_ws();
                for (;;) {
                    push(id, p.number("an item id"));
                    p.skip_ws();
                    if (p.peek() == ',') {
                        p.advance();
                        p.skip_ws();
                        continue;
                    }
                    if (p.peek() == '}') {
                        p.advance();
                        break;
                    }
                    p.fail("expected ',' or '}'");
                }
                p.skip_ws();
                if (p.peek() == ',') {
                    p.advance();
                    p.skip_ws();
                    continue;
                }
                if (p.peek() == '}') {
                    p.advance();
                    break;
                }
                p.fail("expected ',' or '}'");
            }
        }
        p.skip_ws();
        if (!p.at_end()) p.fail("expected end of input");
    }
    // The guard released the lines' charge; build() expects it charged.
    budget.charge(capacity_bytes(lines), "baskets");
    return BasketBuilder::build(lines, budget, Interrupt());
}

// ---------------------------------------------------------------------------
// BasketBuilder

void BasketBuilder::reserve_lines(std::size_t needed) {
    const std::size_t old = lines_.capacity();
    if (needed <= old) return;
    const std::size_t grown = std::max({needed, old * 2, std::size_t{256}});
    const std::size_t delta = (grown - old) * sizeof(Line);
    budget_.charge(delta, "baskets: collecting order lines");
    try {
        lines_.reserve(grown);
    } catch (...) {
        budget_.release(delta);
        throw;
    }
}

void BasketBuilder::add_all(std::int64_t basket_id, const std::int64_t *items, std::size_t count) {
    reserve_lines(lines_.size() + count);
    for (std::size_t i = 0; i < count; ++i) lines_.push_back({basket_id, items[i]});
}

void BasketBuilder::merge(const BasketBuilder &other) {
    if (&other == this) {
        const std::size_t n = lines_.size();
        reserve_lines(2 * n);
        for (std::size_t i = 0; i < n; ++i) lines_.push_back(lines_[i]);
        return;
    }
    reserve_lines(lines_.size() + other.lines_.size());
    lines_.insert(lines_.end(), other.lines_.begin(), other.lines_.end());
}

BasketCollection BasketBuilder::finish(const Interrupt &interrupt) {
    std::vector<Line> lines;
    lines.swap(lines_);
    BasketCollection c = build(lines, budget_, interrupt);
    // The collection leaves the builder, and so does its charge (build()
    // charged exactly these bytes).
    if (c.size() != 0) budget_.release(c.size() * 16 + 8 + c.lines() * 8);
    return c;
}

BasketCollection BasketBuilder::build(std::vector<Line> &lines, MemoryBudget &budget, const Interrupt &interrupt) {
    struct LinesGuard {
        MemoryBudget &budget;
        std::vector<Line> &lines;
        ~LinesGuard() {
            budget.release(capacity_bytes(lines));
            std::vector<Line>().swap(lines);
        }
    } guard{budget, lines};

    BasketCollection c;
    const std::size_t n = lines.size();
    if (n == 0) return c;

    std::int64_t min_b = lines[0].basket, max_b = min_b, min_i = lines[0].item, max_i = min_i;
    for (std::size_t start = 0; start < n; start += kPollChunk) {
        interrupt.check();
        const std::size_t stop = std::min(n, start + kPollChunk);
        for (std::size_t k = start; k < stop; ++k) {
            min_b = std::min(min_b, lines[k].basket);
            max_b = std::max(max_b, lines[k].basket);
            min_i = std::min(min_i, lines[k].item);
            max_i = std::max(max_i, lines[k].item);
        }
    }
    const unsigned item_bits = bit_width(static_cast<std::uint64_t>(max_i) - static_cast<std::uint64_t>(min_i));
    const unsigned basket_bits = bit_width(static_cast<std::uint64_t>(max_b) - static_cast<std::uint64_t>(min_b));

    // Fills the CSR arrays from the sorted (basket, item) sequence given by
    // `at` (duplicates adjacent); two passes so they are allocated exactly.
    auto fill = [&](auto &&at) {
        std::size_t baskets = 1, distinct = 1;
        for (std::size_t k = 1; k < n; ++k) {
            if ((k & (kPollChunk - 1)) == 0) interrupt.check();
            const auto prev = at(k - 1), cur = at(k);
            if (cur.first != prev.first) {
                ++baskets;
                ++distinct;
            } else if (cur.second != prev.second) {
                ++distinct;
            }
        }
        const std::size_t bytes = baskets * 8 + (baskets + 1) * 8 + distinct * 8;
        budget.charge(bytes, "baskets");
        try {
            c.ids_.reserve(baskets);
            c.offsets_.reserve(baskets + 1);
            c.items_.reserve(distinct);
        } catch (...) {
            budget.release(bytes);
            throw;
        }
        // c.offsets_ already holds {0}, whose capacity (one element) was
        // charged above as part of baskets + 1 entries.
        try {
            for (std::size_t k = 0; k < n; ++k) {
                if ((k & (kPollChunk - 1)) == 0) interrupt.check();
                const auto cur = at(k);
                if (k == 0 || cur.first != c.ids_.back()) {
                    if (k != 0) c.offsets_.push_back(c.items_.size());
                    c.ids_.push_back(cur.first);
                    c.items_.push_back(cur.second);
                } else if (cur.second != c.items_.back()) {
                    c.items_.push_back(cur.second);
                }
            }
        } catch (...) {
            budget.release(bytes);
            throw;
        }
        c.offsets_.push_back(c.items_.size());
    };

    if (item_bits + basket_bits <= 64) {
        // Pack each line into one 64-bit key (basket offset high, item offset
        // low) and radix sort the keys. The keys live in the lines' own
        // buffer: key k goes to the k-th 8 bytes, overwriting only lines
        // already read; the second half of the buffer is the scratch array.
        auto *words = reinterpret_cast<std::uint64_t *>(lines.data());
        const std::uint64_t base_b = static_cast<std::uint64_t>(min_b), base_i = static_cast<std::uint64_t>(min_i);
        for (std::size_t start = 0; start < n; start += kPollChunk) {
            interrupt.check();
            const std::size_t stop = std::min(n, start + kPollChunk);
            for (std::size_t k = start; k < stop; ++k) {
                const std::uint64_t b = static_cast<std::uint64_t>(lines[k].basket) - base_b;
                const std::uint64_t i = static_cast<std::uint64_t>(lines[k].item) - base_i;
                words[k] = item_bits == 64 ? i : (b << item_bits) | i;
            }
        }
        std::uint64_t *keys = words, *tmp = words + n;
        radix_sort(keys, tmp, n, item_bits + basket_bits, interrupt);
        const std::uint64_t item_mask = item_bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << item_bits) - 1;
        fill([&](std::size_t k) {
            const std::uint64_t key = keys[k];
            const std::uint64_t b = item_bits == 64 ? 0 : key >> item_bits;
            return std::pair<std::int64_t, std::int64_t>(static_cast<std::int64_t>(b + base_b),
                                                         static_cast<std::int64_t>((key & item_mask) + base_i));
        });
    } else {
        // Ids spread over more than 64 bits together: compare-sort the lines.
        std::sort(lines.begin(), lines.end(), [&](const Line &x, const Line &y) {
            interrupt.poll();
            return x.basket != y.basket ? x.basket < y.basket : x.item < y.item;
        });
        fill([&](std::size_t k) { return std::pair<std::int64_t, std::int64_t>(lines[k].basket, lines[k].item); });
    }
    return c;
}

// Layout after the header: u64 lines, then (i64 basket, i64 item) per line.
void BasketBuilder::write(ByteWriter &out) const {
    static_assert(sizeof(Line) == 16, "a line is two int64 without padding");
    out.header(byte_formats::kBasketLines);
    out.put_counted(lines_);
}

BasketBuilder BasketBuilder::deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget) {
    return read_whole(data, size, kWhat, [&](ByteReader &in) {
        in.header(byte_formats::kBasketLines);
        const std::size_t n = in.get_count(sizeof(Line));
        BasketBuilder builder(std::move(budget));
        builder.reserve_lines(n);
        builder.lines_.resize(n);
        in.get_array(builder.lines_.data(), n);
        return builder;
    });
}

}  // namespace personalize::mining
