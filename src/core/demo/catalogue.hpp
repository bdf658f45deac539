// The demo shop's catalogue: product names and categories (they depend on the
// number of products only, never on the seed), prices, popularity (Zipf over
// a seeded shuffle), the complementary pairs planted on purpose, and the
// samplers that pick a product for a customer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/demo/distributions.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

constexpr int kCategoryCount = 12;
constexpr int kPairCount = 8;

struct Pair {
    std::uint32_t antecedent;  // product index (id - 1)
    std::uint32_t consequent;
    double attach_rate;
};

// What a customer likes: the share of her lines drawn from her favourite
// categories, and those.
struct Taste {
    double fav_share = 0;
    int favourites = 0;
    std::array<std::uint8_t, 3> favourite{};
};

struct Layout;

class Catalogue {
public:
    explicit Catalogue(const ShopSpec &spec);

    std::int64_t size() const { return n_; }
    // Static storage.
    const char *name(std::size_t product) const;
    const char *category(std::size_t product) const;
    std::int64_t price(std::uint32_t product) const { return price_[product]; }  // pence

    // The planted pairs by antecedent, and pair k of the definitions.
    const std::vector<Pair> &pairs() const { return pairs_; }
    const Pair &planted(int k) const { return planted_[static_cast<std::size_t>(k)]; }
    // k when `product` is the antecedent of planted pair k, else -1.
    int pair_led_by(std::uint32_t product) const { return role_[product] > 0 ? role_[product] - 1 : -1; }
    // Pair products are the antecedent or consequent of a planted pair.
    bool in_a_pair(std::uint32_t product) const { return role_[product] != 0; }

    std::uint8_t draw_category(Random &rng) const { return static_cast<std::uint8_t>(categories_.sample(rng)); }
    std::uint32_t draw_in_category(Random &rng, std::uint8_t c) const { return members_[c][by_category_[c].sample(rng)]; }
    // From a favourite category with the taste's share, else by popularity
    // (anonymous visitors: taste = nullptr).
    std::uint32_t draw_product(Random &rng, const Taste *taste) const {
        if (taste != nullptr && rng.uniform() < taste->fav_share) {
            return draw_in_category(rng, taste->favourite[scaled_below(rng, static_cast<std::uint64_t>(taste->favourites))]);
        }
        return global_.sample(rng);
    }

private:
    const Layout *layout_;
    std::int64_t n_;
    std::vector<std::int64_t> price_;
    std::vector<std::int8_t> role_;  // k+1: antecedent of pair k; -(k+1): consequent
    std::array<Pair, kPairCount> planted_{};
    std::vector<Pair> pairs_;
    AliasTable global_;
    std::array<AliasTable, kCategoryCount> by_category_;
    std::array<std::vector<std::uint32_t>, kCategoryCount> members_;
    AliasTable categories_;
};

}  // namespace personalize::demo
