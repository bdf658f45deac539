#include "core/customers/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::customers {

namespace {

constexpr std::uint32_t kFormatTag = 0x50435331;  // "PCS1": bumps when the layout changes

std::string describe(double value) {
    if (std::isnan(value)) return "NaN";
    return value > 0 ? "Infinity" : "-Infinity";
}

// Minimal cursor over the serialized bytes; every read is bounds-checked
// because a corrupted state must be an error, never an out-of-bounds read.
class Reader {
public:
    Reader(const unsigned char *data, std::size_t size) : data_(data), size_(size) {}
    template <typename T>
    T read() {
        if (size_ - pos_ < sizeof(T)) corrupted();
        T value;
        std::memcpy(&value, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    bool at_end() const { return pos_ == size_; }
    [[noreturn]] static void corrupted() {
        throw Error(ErrorCode::DataCorrupted, "customer_summary: serialized state is corrupted");
    }

private:
    const unsigned char *data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

template <typename T>
unsigned char *write(unsigned char *out, T value) {
    std::memcpy(out, &value, sizeof(T));
    return out + sizeof(T);
}

}  // namespace

void CustomerSummary::validate_params(const SummaryParams &params) {
    if (!(params.unit_days > 0.0) || !std::isfinite(params.unit_days))
        throw_invalid("customer_summary: \"unit\" must be a positive interval");
}

void CustomerSummary::set_params(const SummaryParams &params) {
    same_for_every_row(
        has_params_, "customer_summary",
        [&] {
            validate_params(params);
            params_ = params;
        },
        {{"as_of", params.as_of == params_.as_of && params.as_of_day == params_.as_of_day},
         {"unit", params.unit_days == params_.unit_days}});
}

void CustomerSummary::add(const SummaryParams &params, std::int64_t ordered_at, std::int32_t day, double amount) {
    set_params(params);
    if (!std::isfinite(amount))
        throw_invalid("customer_summary: \"amount\" must be a finite number, got " + describe(amount));
    if (ordered_at > params.as_of)
        throw_invalid("customer_summary: \"ordered_at\" is after \"as_of\"",
                      "Leave out orders after as_of, e.g. WHERE ordered_at <= as_of.");

    if (orders_ == 0) {
        first_at_ = last_at_ = ordered_at;
    } else {
        first_at_ = std::min(first_at_, ordered_at);
        last_at_ = std::max(last_at_, ordered_at);
    }
    ++orders_;

    // Orders usually arrive in time order, so appending is the common case.
    if (days_.empty() || days_.back().day < day) {
        days_.push_back({day, amount});
        return;
    }
    auto it = std::lower_bound(days_.begin(), days_.end(), day,
                               [](const DayTotal &d, std::int32_t key) { return d.day < key; });
    if (it != days_.end() && it->day == day)
        it->amount += amount;
    else
        days_.insert(it, {day, amount});
}

void CustomerSummary::merge(const CustomerSummary &other) {
    if (other.orders_ == 0) return;
    set_params(other.params_);
    if (orders_ == 0) {
        first_at_ = other.first_at_;
        last_at_ = other.last_at_;
    } else {
        first_at_ = std::min(first_at_, other.first_at_);
        last_at_ = std::max(last_at_, other.last_at_);
    }
    orders_ += other.orders_;

    std::vector<DayTotal> merged;
    merged.reserve(days_.size() + other.days_.size());
    auto a = days_.cbegin(), b = other.days_.cbegin();
    while (a != days_.cend() || b != other.days_.cend()) {
        if (b == other.days_.cend() || (a != days_.cend() && a->day < b->day)) {
            merged.push_back(*a++);
        } else if (a == days_.cend() || b->day < a->day) {
            merged.push_back(*b++);
        } else {
            merged.push_back({a->day, a->amount + b->amount});
            ++a;
            ++b;
        }
    }
    days_.swap(merged);
}

SummaryResult CustomerSummary::result() const {
    SummaryResult r{};
    r.orders = orders_;
    r.first_order_at = first_at_;
    r.last_order_at = last_at_;
    if (days_.empty()) return r;

    // Summed in day order so the result does not depend on the order in
    // which rows (or parallel workers' partial states) arrived.
    double repeat_total = 0.0;
    for (std::size_t i = 1; i < days_.size(); ++i) repeat_total += days_[i].amount;

    const std::int32_t first_day = days_.front().day;
    r.frequency = static_cast<std::int64_t>(days_.size()) - 1;
    r.recency = (days_.back().day - first_day) / params_.unit_days;
    r.age = (params_.as_of_day - first_day) / params_.unit_days;
    r.monetary = r.frequency > 0 ? repeat_total / static_cast<double>(r.frequency) : 0.0;
    r.total = days_.front().amount + repeat_total;
    return r;
}

std::size_t CustomerSummary::serialized_size() const {
    return sizeof(std::uint32_t) + sizeof(std::uint8_t) + sizeof(std::int64_t) + sizeof(std::int32_t) +
           sizeof(double) + 3 * sizeof(std::int64_t) + sizeof(std::uint64_t) +
           days_.size() * (sizeof(std::int32_t) + sizeof(double));
}

void CustomerSummary::serialize(unsigned char *out, std::size_t size) const {
    if (size != serialized_size()) throw Error(ErrorCode::Internal, "customer_summary: serialization buffer size");
    out = write(out, kFormatTag);
    out = write(out, static_cast<std::uint8_t>(has_params_));
    out = write(out, params_.as_of);
    out = write(out, params_.as_of_day);
    out = write(out, params_.unit_days);
    out = write(out, orders_);
    out = write(out, first_at_);
    out = write(out, last_at_);
    out = write(out, static_cast<std::uint64_t>(days_.size()));
    for (const DayTotal &d : days_) {
        out = write(out, d.day);
        out = write(out, d.amount);
    }
}

CustomerSummary CustomerSummary::deserialize(const unsigned char *data, std::size_t size) {
    Reader in(data, size);
    if (in.read<std::uint32_t>() != kFormatTag) Reader::corrupted();
    CustomerSummary s;
    s.has_params_ = in.read<std::uint8_t>() != 0;
    s.params_.as_of = in.read<std::int64_t>();
    s.params_.as_of_day = in.read<std::int32_t>();
    s.params_.unit_days = in.read<double>();
    s.orders_ = in.read<std::int64_t>();
    s.first_at_ = in.read<std::int64_t>();
    s.last_at_ = in.read<std::int64_t>();
    const auto n = in.read<std::uint64_t>();
    if (n > size / (sizeof(std::int32_t) + sizeof(double))) Reader::corrupted();
    s.days_.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto day = in.read<std::int32_t>();
        const auto amount = in.read<double>();
        if (!s.days_.empty() && s.days_.back().day >= day) Reader::corrupted();
        s.days_.push_back({day, amount});
    }
    if (!in.at_end() || s.orders_ < static_cast<std::int64_t>(n)) Reader::corrupted();
    return s;
}

}  // namespace personalize::customers
