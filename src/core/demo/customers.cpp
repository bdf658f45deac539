// The demo shop's customer profiles (see customers.hpp) and the customers table.
#include "core/demo/customers.hpp"

#include <algorithm>
#include <vector>

#include "core/demo/walk.hpp"

namespace personalize::demo {

namespace {

struct CountryDef {
    const char *code;
    double weight;
};

constexpr CountryDef kCountries[] = {
    {"GB", 46}, {"IE", 9}, {"FR", 8}, {"DE", 8}, {"NL", 6}, {"US", 6}, {"ES", 4},
    {"BE", 3},  {"IT", 3}, {"SE", 2}, {"DK", 1.5}, {"CH", 1.5}, {"AU", 1}, {"CA", 1},
};

// One set of parameters for every size (the sizes differ in scale only).
constexpr double kProspectShare = 0.10;     // sign up but never order (late signups add a few more)
constexpr double kEmailOptIn = 0.60;
constexpr double kSignupPower = 0.8;        // signup at start + U^0.8 * span: more recent a bit likelier
constexpr double kRateShape = 0.55;         // lambda ~ Gamma(r, alpha), per day
constexpr double kRateScaleDays = 12.5;     // alpha in days: mean lambda = r / alpha
constexpr double kMaxRatePerDay = 0.5;
constexpr double kDropA = 0.7;              // p ~ Beta(a, b)
constexpr double kDropB = 4.0;
constexpr double kSameVisitFirstOrder = 0.4;
constexpr double kFirstOrderDelayDays = 20.0;

std::vector<double> country_weights() {
    std::vector<double> weights;
    for (const CountryDef &c : kCountries) weights.push_back(c.weight);
    return weights;
}

}  // namespace

Customers::Customers(const ShopSpec &spec, const Calendar &calendar, const Catalogue &catalogue)
    : seed_(spec.seed),
      history_end_(spec.history_end),
      calendar_(calendar),
      catalogue_(catalogue),
      countries_(country_weights()) {}

const char *Customers::country_code(std::uint32_t country) { return kCountries[country].code; }

void Customers::profile(std::int64_t customer_id, Profile &p) const {
    Random rng = stream(seed_, static_cast<std::uint64_t>(customer_id), kProfile, 0);
    p.customer_id = customer_id;
    const std::int64_t days = calendar_.days();
    const double f = det_pow(uniform_positive(rng), kSignupPower);
    std::int64_t day = static_cast<std::int64_t>(f * static_cast<double>(days));
    if (day >= days) day = days - 1;
    p.signed_up_at = calendar_.moment_in_day(rng, day);
    if (p.signed_up_at >= history_end_) p.signed_up_at = history_end_ - kHour;
    p.country = countries_.sample(rng);
    p.email_opt_in = chance(rng, kEmailOptIn);
    p.prospect = chance(rng, kProspectShare);
    p.lambda = std::min(standard_gamma(rng, kRateShape) / kRateScaleDays, kMaxRatePerDay);
    p.drop = beta(rng, kDropA, kDropB);

    Taste &taste = p.taste;
    const double u = rng.uniform();
    taste.favourites = u < 0.55 ? 1 : (u < 0.88 ? 2 : 3);
    for (int i = 0; i < taste.favourites; ++i) {
        for (;;) {
            const std::uint8_t c = catalogue_.draw_category(rng);
            bool seen = false;
            for (int j = 0; j < i; ++j) seen = seen || taste.favourite[j] == c;
            if (!seen) {
                taste.favourite[i] = c;
                break;
            }
        }
    }
    taste.fav_share = 0.25 + 0.35 * rng.uniform();
    // Staples: products the customer buys again and again, from a favourite category.
    const double v = rng.uniform();
    p.staples = v < 0.4 ? 0 : (v < 0.8 ? 1 : 2);
    for (int i = 0; i < p.staples; ++i) {
        const std::uint8_t c = taste.favourite[scaled_below(rng, static_cast<std::uint64_t>(taste.favourites))];
        p.staple[i] = catalogue_.draw_in_category(rng, c);
        if (i == 1 && p.staple[1] == p.staple[0]) p.staples = 1;
    }

    // First order: 40% in the signup visit, otherwise after an exponential delay.
    if (chance(rng, kSameVisitFirstOrder)) {
        p.first_order_at = p.signed_up_at + between(rng, kMinute, 40 * kMinute);
    } else {
        const double delay = std::min(standard_exponential(rng) * kFirstOrderDelayDays, 5000.0);
        p.first_order_at = calendar_.place_in_day(
            rng, p.signed_up_at + static_cast<std::int64_t>(delay * static_cast<double>(kDay)), p.signed_up_at);
    }
}

void generate_customers(const ShopSpec &spec, const Sink<Customer> &emit, const Interrupt &interrupt) {
    Shop shop(spec);
    walk_customers(shop, interrupt, [&](const Profile &p) {
        emit(Customer{p.customer_id, p.signed_up_at, Customers::country_code(p.country), p.email_opt_in});
    });
}

}  // namespace personalize::demo
