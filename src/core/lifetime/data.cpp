#include "core/lifetime/data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/common/interrupt.hpp"

namespace personalize::lifetime {

namespace {

std::string describe(double value) {
    if (std::isnan(value)) return "NaN";
    return value > 0 ? "Infinity" : "-Infinity";
}

void require_finite(const char *model, const char *field, double value) {
    if (!std::isfinite(value))
        throw_invalid(std::string(model) + ": \"" + field + "\" must be a finite number, got " + describe(value));
}

std::uint64_t bits(double v) {
    v += 0.0;  // -0.0 -> +0.0, so equal keys hash alike
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
}

std::uint8_t model_code(const char *model) {
    if (std::strcmp(model, "bgnbd") == 0) return 1;
    if (std::strcmp(model, "pareto_nbd") == 0) return 2;
    return 3;
}

bool valid_row(double x, double t_x, double T, double w) {
    if (!std::isfinite(x) || !std::isfinite(t_x) || !std::isfinite(T) || !std::isfinite(w)) return false;
    if (x < 0 || t_x < 0 || T < 0 || t_x > T || std::floor(x) != x || !(w > 0)) return false;
    if ((x == 0) != (t_x == 0)) return false;
    return true;
}

// The distinct values of value(0..n-1), ascending, and each one's rank.
template <typename F>
void rank_values(std::size_t n, F value, std::vector<double> &distinct, std::vector<std::uint32_t> &rank) {
    const Interrupt interrupt = ambient_interrupt();
    WeightTable<1> ids;  // value -> first-seen id (stored in the weight)
    std::vector<std::uint32_t> id(n);
    for (std::size_t i = 0; i < n; ++i) {
        interrupt.poll();
        const double v = value(i) + 0.0;
        const std::size_t before = ids.size();
        double &slot = ids.at(&v);
        if (ids.size() != before) slot = static_cast<double>(before);
        id[i] = static_cast<std::uint32_t>(slot);
    }
    std::vector<std::uint32_t> by_value(ids.size());
    for (std::size_t k = 0; k < by_value.size(); ++k) by_value[k] = static_cast<std::uint32_t>(k);
    const auto &entries = ids.entries();
    std::sort(by_value.begin(), by_value.end(), [&](std::uint32_t a, std::uint32_t b) {
        interrupt.poll(1u << 16);
        return entries[a].key[0] < entries[b].key[0];
    });
    std::vector<std::uint32_t> rank_of_id(by_value.size());
    distinct.resize(by_value.size());
    for (std::size_t k = 0; k < by_value.size(); ++k) {
        rank_of_id[by_value[k]] = static_cast<std::uint32_t>(k);
        distinct[k] = entries[by_value[k]].key[0];
    }
    rank.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        interrupt.poll(1u << 16);
        rank[i] = rank_of_id[id[i]];
    }
}

// Sorts `order` by `keys` (stable LSD radix sort, 16 bits a pass, only as
// many passes as the largest key needs).
void radix_sort(std::vector<std::uint64_t> &keys, std::vector<std::uint32_t> &order) {
    const std::size_t n = keys.size();
    std::uint64_t max_key = 0;
    for (const std::uint64_t k : keys) max_key = std::max(max_key, k);
    std::vector<std::uint64_t> keys2(n);
    std::vector<std::uint32_t> order2(n);
    std::vector<std::size_t> count(1 << 16);
    const Interrupt interrupt = ambient_interrupt();
    for (int shift = 0; shift < 64 && (max_key >> shift) != 0; shift += 16) {
        interrupt.check();
        std::fill(count.begin(), count.end(), 0);
        for (const std::uint64_t k : keys) ++count[(k >> shift) & 0xffff];
        std::size_t sum = 0;
        for (auto &c : count) {
            const std::size_t here = c;
            c = sum;
            sum += here;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t pos = count[(keys[i] >> shift) & 0xffff]++;
            keys2[pos] = keys[i];
            order2[pos] = order[i];
        }
        keys.swap(keys2);
        order.swap(order2);
    }
}

}  // namespace

void validate_customer(const char *model, double x, double t_x, double T) {
    require_finite(model, "frequency", x);
    require_finite(model, "recency", t_x);
    require_finite(model, "age", T);
    if (x < 0) throw_invalid(std::string(model) + ": \"frequency\" must not be negative");
    if (std::floor(x) != x)
        throw_invalid(std::string(model) + ": \"frequency\" must be a whole number (the number of repeat purchases)");
    if (t_x < 0) throw_invalid(std::string(model) + ": \"recency\" must not be negative");
    if (T < 0) throw_invalid(std::string(model) + ": \"age\" must not be negative");
    if (t_x > T) throw_invalid(std::string(model) + ": \"recency\" must not exceed \"age\"");
    if (x == 0 && t_x != 0)
        throw_invalid(std::string(model) + ": \"recency\" must be 0 when \"frequency\" is 0",
                      "Recency is the time from the first to the last purchase; without a repeat purchase it is 0.");
    if (x > 0 && t_x == 0)
        throw_invalid(std::string(model) + ": \"recency\" must be positive when \"frequency\" is positive",
                      "Repeat purchases happen after the first purchase; check the unit of recency.");
}

void validate_weight(const char *model, double w) {
    require_finite(model, "weight", w);
    if (!(w > 0)) throw_invalid(std::string(model) + ": \"weight\" must be positive");
}

void validate_spend(const char *model, double x, double m) {
    require_finite(model, "frequency", x);
    require_finite(model, "monetary", m);
    if (x < 0) throw_invalid(std::string(model) + ": \"frequency\" must not be negative");
    if (std::floor(x) != x)
        throw_invalid(std::string(model) + ": \"frequency\" must be a whole number (the number of repeat purchases)");
}

// ---------------------------------------------------------------- WeightTable

template <int K>
std::size_t WeightTable<K>::hash(const double *key) {
    std::uint64_t h = 0;
    for (int i = 0; i < K; ++i) h = mix(h, bits(key[i]));
    return static_cast<std::size_t>(h);
}

template <int K>
void WeightTable<K>::reserve(std::size_t n) {
    entries_.reserve(n);
    std::size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    if (capacity > slots_.size()) rehash(capacity);
}

template <int K>
void WeightTable<K>::rehash(std::size_t capacity) {
    if (entries_.size() >= UINT32_MAX - 1)
        throw Error(ErrorCode::ProgramLimit, "lifetime model: too many distinct customers (more than 4 billion)");
    slots_.assign(capacity, 0);
    const std::size_t mask = capacity - 1;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        std::size_t pos = hash(entries_[i].key) & mask;
        while (slots_[pos] != 0) pos = (pos + 1) & mask;
        slots_[pos] = static_cast<std::uint32_t>(i + 1);
    }
}

template <int K>
double *WeightTable<K>::find(const double *key) {
    if (slots_.empty()) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t pos = hash(key) & mask;; pos = (pos + 1) & mask) {
        const std::uint32_t slot = slots_[pos];
        if (slot == 0) return nullptr;
        Entry &e = entries_[slot - 1];
        if (std::memcmp(e.key, key, sizeof e.key) == 0) return &e.w;
    }
}

template <int K>
double &WeightTable<K>::at(const double *key) {
    if (double *w = find(key)) return *w;
    if (2 * (entries_.size() + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    const std::size_t mask = slots_.size() - 1;
    std::size_t pos = hash(key) & mask;
    while (slots_[pos] != 0) pos = (pos + 1) & mask;
    Entry e;
    std::memcpy(e.key, key, sizeof e.key);
    e.w = 0.0;
    entries_.push_back(e);
    slots_[pos] = static_cast<std::uint32_t>(entries_.size());
    return entries_.back().w;
}

template class WeightTable<1>;
template class WeightTable<2>;
template class WeightTable<3>;

// ---------------------------------------------------------------- RfAccumulator

void RfAccumulator::add(double x, double t_x, double T, double w) {
    validate_customer(model_, x, t_x, T);
    validate_weight(model_, w);
    const double key[3] = {x + 0.0, t_x + 0.0, T + 0.0};
    double *slot = map_.find(key);
    const double total = (slot ? *slot : 0.0) + w;
    if (!std::isfinite(total)) throw_invalid(std::string(model_) + ": the total weight overflows");
    if (slot == nullptr) slot = &map_.at(key);
    *slot = total;
}

void RfAccumulator::merge(const RfAccumulator &other) {
    if (model_code(model_) != model_code(other.model_))
        throw Error(ErrorCode::Internal, std::string(model_) + ": cannot merge a " + other.model_ + " state");
    map_.reserve(map_.size() + other.map_.size());
    const Interrupt interrupt = ambient_interrupt();
    for (const auto &e : other.map_.entries()) {
        interrupt.poll();
        double &total = map_.at(e.key);
        total += e.w;
        if (!std::isfinite(total)) throw_invalid(std::string(model_) + ": the total weight overflows");
    }
}

double RfAccumulator::total_weight() const {
    double total = 0.0;
    for (const RfRow &row : rows()) total += row.w;
    return total;
}

RankedRfRows RfAccumulator::ranked_rows() const {
    const auto &entries = map_.entries();
    const std::size_t n = entries.size();
    RankedRfRows out;
    std::vector<std::uint32_t> rank[3];
    std::vector<double> *distinct[3] = {&out.xs, &out.t_xs, &out.Ts};
    for (int d = 0; d < 3; ++d)
        rank_values(n, [&](std::size_t i) { return entries[i].key[d]; }, *distinct[d], rank[d]);
    // One integer key per row orders the rows like (x, t_x, T) does.
    const std::uint64_t nt = out.t_xs.size(), nT = out.Ts.size();
    std::vector<std::uint32_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
    if (n > 0 && out.xs.size() <= UINT64_MAX / nt / nT) {
        std::vector<std::uint64_t> keys(n);
        for (std::size_t i = 0; i < n; ++i) keys[i] = (rank[0][i] * nt + rank[1][i]) * nT + rank[2][i];
        radix_sort(keys, order);
    } else {
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return std::lexicographical_compare(entries[a].key, entries[a].key + 3, entries[b].key, entries[b].key + 3);
        });
    }
    out.rows.reserve(n);
    out.xi.reserve(n);
    out.ti.reserve(n);
    out.Ti.reserve(n);
    const Interrupt interrupt = ambient_interrupt();
    for (const std::uint32_t i : order) {
        interrupt.poll();
        const auto &e = entries[i];
        out.rows.push_back({e.key[0], e.key[1], e.key[2], e.w});
        out.xi.push_back(rank[0][i]);
        out.ti.push_back(rank[1][i]);
        out.Ti.push_back(rank[2][i]);
    }
    return out;
}

std::size_t RfAccumulator::memory_bytes() const { return map_.memory_bytes(); }

// Layout after the header: u8 model (1 bgnbd, 2 pareto_nbd), u64 customers,
// then (x, t_x, T, w) per distinct customer, sorted by (x, t_x, T).
void RfAccumulator::write(ByteWriter &out) const {
    static_assert(sizeof(RfRow) == 4 * sizeof(double), "a row is four doubles without padding");
    out.header(byte_formats::kLifetimeCustomers);
    out.put(model_code(model_));
    out.put_count(map_.size());
    // Sorting is the costly part; a writer that measures needs only the size.
    if (out.measuring()) return out.measure_only(map_.size() * sizeof(RfRow));
    const std::vector<RfRow> sorted = rows();
    out.put_array(sorted.data(), sorted.size());
}

RfAccumulator RfAccumulator::read(ByteReader &in, const char *model) {
    in.header(byte_formats::kLifetimeCustomers);
    if (in.get<std::uint8_t>() != model_code(model)) in.corrupted(std::string("not a ") + model + " state");
    const std::size_t n = in.get_count(sizeof(RfRow));
    RfAccumulator acc(model);
    acc.map_.reserve(n);
    double prev[3] = {0, 0, 0};
    const Interrupt interrupt = ambient_interrupt();
    for (std::size_t i = 0; i < n; ++i) {
        interrupt.poll();
        RfRow row;
        in.get_array(&row, 1);
        const double key[3] = {row.x + 0.0, row.t_x + 0.0, row.T + 0.0};
        if (!valid_row(key[0], key[1], key[2], row.w)) in.corrupted("invalid customer");
        // Written sorted and distinct; anything else is not our state.
        if (i > 0 && !std::lexicographical_compare(prev, prev + 3, key, key + 3))
            in.corrupted("customers out of order");
        std::copy(key, key + 3, prev);
        acc.map_.at(key) = row.w;
    }
    return acc;
}

// ---------------------------------------------------------------- SpendAccumulator

void SpendAccumulator::add(double x, double m, double w) {
    validate_spend("gamma_gamma", x, m);
    validate_weight("gamma_gamma", w);
    if (!(x > 0 && m > 0)) {
        if (!std::isfinite(ignored_ + w)) throw_invalid("gamma_gamma: the total weight overflows");
        ignored_ += w;
        return;
    }
    const double key[2] = {x, m};
    double *slot = map_.find(key);
    const double total = (slot ? *slot : 0.0) + w;
    if (!std::isfinite(total)) throw_invalid("gamma_gamma: the total weight overflows");
    if (slot == nullptr) slot = &map_.at(key);
    *slot = total;
}

void SpendAccumulator::merge(const SpendAccumulator &other) {
    map_.reserve(map_.size() + other.map_.size());
    const Interrupt interrupt = ambient_interrupt();
    for (const auto &e : other.map_.entries()) {
        interrupt.poll();
        double &total = map_.at(e.key);
        total += e.w;
        if (!std::isfinite(total)) throw_invalid("gamma_gamma: the total weight overflows");
    }
    ignored_ += other.ignored_;
    if (!std::isfinite(ignored_)) throw_invalid("gamma_gamma: the total weight overflows");
}

double SpendAccumulator::total_weight() const {
    double total = 0.0;
    for (const SpendRow &row : rows()) total += row.w;
    return total;
}

std::vector<SpendRow> SpendAccumulator::rows() const {
    std::vector<SpendRow> out;
    out.reserve(map_.size());
    for (const auto &e : map_.entries()) out.push_back({e.key[0], e.key[1], e.w});
    std::sort(out.begin(), out.end(), [](const SpendRow &a, const SpendRow &b) {
        if (a.x != b.x) return a.x < b.x;
        return a.m < b.m;
    });
    return out;
}

std::size_t SpendAccumulator::memory_bytes() const { return map_.memory_bytes(); }

// Layout after the header: f64 ignored weight, u64 customers, then
// (x, m, w) per distinct customer, sorted by (x, m).
void SpendAccumulator::write(ByteWriter &out) const {
    static_assert(sizeof(SpendRow) == 3 * sizeof(double), "a row is three doubles without padding");
    out.header(byte_formats::kLifetimeSpend);
    out.put(ignored_);
    out.put_count(map_.size());
    if (out.measuring()) return out.measure_only(map_.size() * sizeof(SpendRow));
    const std::vector<SpendRow> sorted = rows();
    out.put_array(sorted.data(), sorted.size());
}

SpendAccumulator SpendAccumulator::read(ByteReader &in) {
    in.header(byte_formats::kLifetimeSpend);
    SpendAccumulator acc;
    acc.ignored_ = in.get<double>();
    if (!std::isfinite(acc.ignored_) || acc.ignored_ < 0) in.corrupted("bad ignored weight");
    const std::size_t n = in.get_count(sizeof(SpendRow));
    acc.map_.reserve(n);
    double prev[2] = {0, 0};
    const Interrupt interrupt = ambient_interrupt();
    for (std::size_t i = 0; i < n; ++i) {
        interrupt.poll();
        SpendRow row;
        in.get_array(&row, 1);
        const double key[2] = {row.x, row.m};
        if (!std::isfinite(key[0]) || !std::isfinite(key[1]) || !std::isfinite(row.w) || !(key[0] > 0) ||
            !(key[1] > 0) || std::floor(key[0]) != key[0] || !(row.w > 0))
            in.corrupted("invalid customer");
        if (i > 0 && !std::lexicographical_compare(prev, prev + 2, key, key + 2)) in.corrupted("customers out of order");
        std::copy(key, key + 2, prev);
        acc.map_.at(key) = row.w;
    }
    return acc;
}

}  // namespace personalize::lifetime
