#include "pg/offers/catalogue.hpp"

#include <cstring>

#include "pg/common/arguments.hpp"
#include "pg/common/spi_plan.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/array.h"
}

namespace personalize::pg {

const char *const kChannels[kChannelCount] = {"web", "app", "email", "sms", "push", "exit", "product_page"};

std::uint32_t channel_bit(std::string_view name) {
    for (int i = 0; i < kChannelCount; ++i)
        if (name == kChannels[i]) return 1u << i;
    return 0;
}

std::uint32_t require_channel(const char *function, std::string_view name) {
    const std::uint32_t bit = channel_bit(name);
    if (bit == 0)
        throw_invalid_argument(function, "channel", nullptr,
                               "must be one of web, app, email, sms, push, exit, product_page; got \"%.*s\"",
                               static_cast<int>(name.size()), name.data());
    return bit;
}

namespace {

constexpr const char *kColumns =
    "SELECT o.offer_key, o.description, o.rule, coalesce(o.experiment_key, o.offer_key), o.priority, "
    "o.stacking = 'stackable', o.active, o.channels::text[], o.valid_from, o.valid_until, o.cap_count, "
    "o.cap_interval, o.holdout_share, o.percent_off, o.amount_off, o.currency, o.free_shipping, o.gift_item, "
    "o.reward_item FROM personalize.offers o ";

SPIPlanPtr all_active_plan = nullptr;
SPIPlanPtr by_key_plan = nullptr;

SPIPlanPtr kept_plan(SPIPlanPtr &slot, const char *query, int nargs, Oid *types) {
    if (slot == nullptr) slot = prepare_kept_plan("the offers query", query, nargs, types);
    return slot;
}

char *text_column(HeapTuple tuple, TupleDesc desc, int column, MemoryContext context) {
    bool isnull;
    Datum d = SPI_getbinval(tuple, desc, column, &isnull);
    if (isnull) return nullptr;
    MemoryContext old = MemoryContextSwitchTo(context);
    char *s = TextDatumGetCString(d);
    MemoryContextSwitchTo(old);
    return s;
}

void read_row(HeapTuple tuple, TupleDesc desc, MemoryContext context, OfferRow &o) {
    bool isnull;
    o.key = text_column(tuple, desc, 1, context);
    o.description = text_column(tuple, desc, 2, context);
    o.rule = text_column(tuple, desc, 3, context);
    o.experiment_key = text_column(tuple, desc, 4, context);
    o.priority = DatumGetInt32(SPI_getbinval(tuple, desc, 5, &isnull));
    o.stackable = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull));
    o.active = DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull));

    o.channels = 0;
    Datum channels = SPI_getbinval(tuple, desc, 8, &isnull);
    if (!isnull) {
        Datum *items;
        bool *nulls;
        int n;
        deconstruct_array(DatumGetArrayTypeP(channels), TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
        for (int i = 0; i < n; ++i)
            if (!nulls[i]) o.channels |= channel_bit(TextDatumGetCString(items[i]));
    }

    Datum d = SPI_getbinval(tuple, desc, 9, &isnull);
    o.has_valid_from = !isnull;
    o.valid_from = isnull ? 0 : DatumGetTimestampTz(d);
    d = SPI_getbinval(tuple, desc, 10, &isnull);
    o.has_valid_until = !isnull;
    o.valid_until = isnull ? 0 : DatumGetTimestampTz(d);

    d = SPI_getbinval(tuple, desc, 11, &isnull);
    o.has_cap = !isnull;
    o.cap_count = isnull ? 0 : DatumGetInt32(d);
    d = SPI_getbinval(tuple, desc, 12, &isnull);
    if (!isnull) o.cap_interval = *DatumGetIntervalP(d);
    else std::memset(&o.cap_interval, 0, sizeof o.cap_interval);
    o.holdout_share = DatumGetFloat8(SPI_getbinval(tuple, desc, 13, &isnull));

    MemoryContext old = MemoryContextSwitchTo(context);
    d = SPI_getbinval(tuple, desc, 14, &o.percent_off_null);
    o.percent_off = o.percent_off_null ? 0 : datumCopy(d, false, -1);
    d = SPI_getbinval(tuple, desc, 15, &o.amount_off_null);
    o.amount_off = o.amount_off_null ? 0 : datumCopy(d, false, -1);
    MemoryContextSwitchTo(old);
    o.currency = text_column(tuple, desc, 16, context);
    o.free_shipping = DatumGetBool(SPI_getbinval(tuple, desc, 17, &isnull));
    d = SPI_getbinval(tuple, desc, 18, &o.gift_item_null);
    o.gift_item = o.gift_item_null ? 0 : DatumGetInt64(d);
    d = SPI_getbinval(tuple, desc, 19, &o.reward_item_null);
    o.reward_item = o.reward_item_null ? 0 : DatumGetInt64(d);
}

}  // namespace

// On a Citus worker (the connections Citus opens there are named
// "citus_internal gpid=..."), per row of a distributed table: the offers are
// this node's copy, the coordinator's only once citus_setup() made the table
// a reference table (the workers see that in their synced metadata). Before
// it the copy is empty and every answer would silently be "no offer".
static void refuse_unset_citus_worker() {
    if (application_name == nullptr || std::strncmp(application_name, "citus_internal gpid=", 20) != 0) return;
    if (SPI_execute("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL", true, 1) != SPI_OK_SELECT ||
        SPI_processed != 1)
        return;
    bool isnull = false;
    if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))) return;
    if (SPI_execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p "
                    "WHERE p.logicalrelid = 'personalize.offers'::pg_catalog.regclass)",
                    true, 1) != SPI_OK_SELECT ||
        SPI_processed != 1)
        return;
    if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))) return;
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the offers on this Citus worker are not the coordinator's: personalize.citus_setup() has not run"),
                    errdetail("eligible_offers and explain_offer ran on a worker (per row of a distributed table), "
                              "where personalize.offers is a local, empty copy."),
                    errhint("On the coordinator, run SELECT * FROM personalize.citus_setup('orders') once "
                            "(docs/distributed.md).")));
}

OfferCatalogue load_offers(MemoryContext context, const char *offer_key) {
    int ret;
    refuse_unset_citus_worker();
    if (offer_key == nullptr) {
        SPIPlanPtr plan = kept_plan(all_active_plan,
                                    psprintf("%s WHERE o.active ORDER BY o.priority, o.offer_key", kColumns), 0, nullptr);
        ret = SPI_execute_plan(plan, nullptr, nullptr, true, 0);
    } else {
        Oid text_type = TEXTOID;
        SPIPlanPtr plan = kept_plan(by_key_plan, psprintf("%s WHERE o.offer_key = $1", kColumns), 1, &text_type);
        Datum arg = CStringGetTextDatum(offer_key);
        ret = SPI_execute_plan(plan, &arg, nullptr, true, 0);
    }
    if (ret != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not read personalize.offers")));
    OfferCatalogue catalogue;
    catalogue.count = static_cast<int>(SPI_processed);
    catalogue.rows = static_cast<OfferRow *>(MemoryContextAllocZero(context, sizeof(OfferRow) * (catalogue.count + 1)));
    for (int i = 0; i < catalogue.count; ++i)
        read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, context, catalogue.rows[i]);
    return catalogue;
}

bool offer_valid_at(const OfferRow &offer, TimestampTz now) {
    return (!offer.has_valid_from || offer.valid_from <= now) && (!offer.has_valid_until || now < offer.valid_until);
}

}  // namespace personalize::pg
