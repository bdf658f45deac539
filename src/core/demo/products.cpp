// The demo shop's products and planted pairs tables (the catalogue is in
// catalogue.cpp).
#include <cstddef>
#include <cstdint>

#include "core/demo/walk.hpp"

namespace personalize::demo {

void generate_products(const ShopSpec &spec, const Sink<Product> &emit, const Interrupt &interrupt) {
    const Shop shop(spec);
    for (std::int64_t i = 0; i < spec.products; ++i) {
        interrupt.poll();
        const auto index = static_cast<std::size_t>(i);
        emit(Product{i + 1, shop.catalogue.name(index), shop.catalogue.category(index),
                     static_cast<double>(shop.catalogue.price(static_cast<std::uint32_t>(i))) / 100.0});
    }
}

void generate_planted_pairs(const ShopSpec &spec, const Sink<PlantedPair> &emit, const Interrupt &interrupt) {
    const Shop shop(spec);
    for (const Pair &pair : shop.catalogue.pairs()) {
        interrupt.poll();
        emit(PlantedPair{static_cast<std::int64_t>(pair.antecedent) + 1, static_cast<std::int64_t>(pair.consequent) + 1,
                         pair.attach_rate});
    }
}

}  // namespace personalize::demo
