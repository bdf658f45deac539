#include "core/customers/summary.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::customers {

namespace {

std::string describe(double value) {
    if (std::isnan(value)) return "NaN";
    return value > 0 ? "Infinity" : "-Infinity";
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

// Layout after the header: u8 has_params, i64 as_of, i32 as_of_day, f64
// unit_days, i64 orders, i64 first_at, i64 last_at, u64 days, then
// (i32 day, f64 amount) per purchase day, ascending by day.
void CustomerSummary::write(ByteWriter &out) const {
    out.header(byte_formats::kCustomerSummary);
    out.put_bool(has_params_);
    out.put(params_.as_of);
    out.put(params_.as_of_day);
    out.put(params_.unit_days);
    out.put(orders_);
    out.put(first_at_);
    out.put(last_at_);
    out.put_count(days_.size());
    for (const DayTotal &d : days_) {
        out.put(d.day);
        out.put(d.amount);
    }
}

CustomerSummary CustomerSummary::deserialize(const unsigned char *data, std::size_t size) {
    return read_whole(data, size, "customer_summary", [](ByteReader &in) {
        in.header(byte_formats::kCustomerSummary);
        CustomerSummary s;
        s.has_params_ = in.get_bool();
        s.params_.as_of = in.get<std::int64_t>();
        s.params_.as_of_day = in.get<std::int32_t>();
        s.params_.unit_days = in.get<double>();
        s.orders_ = in.get<std::int64_t>();
        s.first_at_ = in.get<std::int64_t>();
        s.last_at_ = in.get<std::int64_t>();
        if (s.has_params_ && !(s.params_.unit_days > 0.0 && std::isfinite(s.params_.unit_days)))
            in.corrupted("bad unit");
        const std::size_t n = in.get_count(sizeof(std::int32_t) + sizeof(double));
        s.days_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto day = in.get<std::int32_t>();
            const auto amount = in.get<double>();
            if (!s.days_.empty() && s.days_.back().day >= day) in.corrupted("purchase days out of order");
            s.days_.push_back({day, amount});
        }
        if (s.orders_ < static_cast<std::int64_t>(n)) in.corrupted("fewer orders than purchase days");
        return s;
    });
}

}  // namespace personalize::customers
