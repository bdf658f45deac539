#include "pg/common/spi_scan.hpp"

#include <cstring>

extern "C" {
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
}

namespace personalize::pg {

namespace {

struct RowReceiver {
    DestReceiver receiver;  // first: the executor sees a DestReceiver*
    void (*row)(void *, TupleTableSlot *);
    void *arg;
};

bool receive_slot(TupleTableSlot *slot, DestReceiver *self) {
    auto *r = reinterpret_cast<RowReceiver *>(self);
    slot_getallattrs(slot);
    r->row(r->arg, slot);
    return true;
}
void startup(DestReceiver *, int, TupleDesc) {}
void shutdown(DestReceiver *) {}
void destroy(DestReceiver *) {}

}  // namespace

void scan_rows_raw(const char *query, void (*row)(void *arg, TupleTableSlot *slot), void *arg) {
    RowReceiver r;
    r.receiver.receiveSlot = receive_slot;
    r.receiver.rStartup = startup;
    r.receiver.rShutdown = shutdown;
    r.receiver.rDestroy = destroy;
    r.receiver.mydest = DestNone;  // SPI then returns SPI_OK_UTILITY and keeps no tuple table
    r.row = row;
    r.arg = arg;
    SPIExecuteOptions options;
    std::memset(&options, 0, sizeof options);
    options.read_only = true;
    options.dest = &r.receiver;
    const int rc = SPI_execute_extended(query, &options);
    if (rc < 0)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("pg_personalize: reading rows failed: %s", SPI_result_code_string(rc))));
}

}  // namespace personalize::pg
