// Offers read from personalize.offers into plain rows (SPI with plans kept
// for the backend), shared by eligible_offers, explain_offer and decide_offer.
#pragma once

#include <cstdint>
#include <string_view>

#include "pg/common/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/timestamp.h"
}

namespace personalize::pg {

// The channels an offer may name (the CHECK constraint on offers.channels).
constexpr int kChannelCount = 7;
extern const char *const kChannels[kChannelCount];
// The bit of a channel name; 0 for an unknown name.
std::uint32_t channel_bit(std::string_view name);
// Throws 22023 naming `function`'s "channel" argument unless it is known
// (pg/common/arguments.hpp).
std::uint32_t require_channel(const char *function, std::string_view name);

struct OfferRow {
    char *key;
    char *description;
    char *rule;
    char *experiment_key;  // offers.experiment_key, else the offer key
    std::int32_t priority;
    bool stackable;
    bool active;
    std::uint32_t channels;  // channel bits
    bool has_valid_from, has_valid_until;
    TimestampTz valid_from, valid_until;
    bool has_cap;
    std::int32_t cap_count;
    Interval cap_interval;
    double holdout_share;
    // The reward, as SQL values (NULL flags alongside).
    Datum percent_off, amount_off;
    bool percent_off_null, amount_off_null;
    char *currency;  // nullptr when NULL
    bool free_shipping;
    std::int64_t gift_item, reward_item;
    bool gift_item_null, reward_item_null;
};

struct OfferCatalogue {
    int count = 0;
    OfferRow *rows = nullptr;  // by priority, then offer key
};

// The active offers (offer_key == nullptr) or the one offer with that key
// (active or not; count 0 if there is none), copied into `context`. Call
// between SPI_connect and SPI_finish.
OfferCatalogue load_offers(MemoryContext context, const char *offer_key);

// Valid at `now` (valid_from <= now < valid_until, open ends allowed).
bool offer_valid_at(const OfferRow &offer, TimestampTz now);

// TimestampTz <-> microseconds since the Unix epoch (the rule evaluator's clock).
inline std::int64_t unix_micros(TimestampTz t) {
    return t + static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}
inline TimestampTz from_unix_micros(std::int64_t us) {
    return us - static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

}  // namespace personalize::pg
