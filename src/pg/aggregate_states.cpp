// Every aggregate's state kind in one list, and the SQL-callable wrappers
// that run its internal-state C functions on personalize.aggregate_state
// (pg/common/aggregate_state_type.hpp). A wrapper NAME_state_ROLE wraps NAME_ROLE.
#include "core/common/byte_formats.hpp"
#include "pg/common/aggregate_state_type.hpp"

namespace bf = personalize::byte_formats;

#define PERSONALIZE_STATE_KIND(KIND, TAG, PREFIX)                                                     \
    extern "C" {                                                                                      \
    Datum PREFIX##_serialize(PG_FUNCTION_ARGS);                                                      \
    Datum PREFIX##_deserialize(PG_FUNCTION_ARGS);                                                    \
    }                                                                                                 \
    static const ::personalize::pg::StateKind &KIND##_kind =                                          \
        ::personalize::pg::register_state_kind(#KIND, bf::TAG.tag, PREFIX##_serialize, PREFIX##_deserialize);


PERSONALIZE_STATE_KIND(customer_summary, kCustomerSummary, personalize_customer_summary)
PERSONALIZE_STATE_WRAPPER(personalize_customer_summary_state_transfn, transfn, customer_summary_kind, personalize_customer_summary_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_customer_summary_state_combine, combine, customer_summary_kind, personalize_customer_summary_combine)
PERSONALIZE_STATE_WRAPPER(personalize_customer_summary_state_final, final, customer_summary_kind, personalize_customer_summary_final)

PERSONALIZE_STATE_KIND(rfm_breakpoints, kRfmValues, personalize_rfm_breakpoints)
PERSONALIZE_STATE_WRAPPER(personalize_rfm_breakpoints_state_transfn, transfn, rfm_breakpoints_kind, personalize_rfm_breakpoints_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_rfm_breakpoints_state_combine, combine, rfm_breakpoints_kind, personalize_rfm_breakpoints_combine)
PERSONALIZE_STATE_WRAPPER(personalize_rfm_breakpoints_state_final, final, rfm_breakpoints_kind, personalize_rfm_breakpoints_final)

PERSONALIZE_STATE_KIND(baskets, kBasketLines, personalize_baskets)
PERSONALIZE_STATE_WRAPPER(personalize_baskets_state_transfn, transfn, baskets_kind, personalize_baskets_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_baskets_array_state_transfn, transfn, baskets_kind, personalize_baskets_array_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_baskets_state_combine, combine, baskets_kind, personalize_baskets_combine)
PERSONALIZE_STATE_WRAPPER(personalize_baskets_state_final, final, baskets_kind, personalize_baskets_final)

PERSONALIZE_STATE_KIND(bgnbd_fit, kLifetimeFitState, personalize_bgnbd)
PERSONALIZE_STATE_WRAPPER(personalize_bgnbd_state_transfn, transfn, bgnbd_fit_kind, personalize_bgnbd_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_bgnbd_state_combine, combine, bgnbd_fit_kind, personalize_bgnbd_combine)
PERSONALIZE_STATE_WRAPPER(personalize_bgnbd_state_final, final, bgnbd_fit_kind, personalize_bgnbd_final)

PERSONALIZE_STATE_KIND(pareto_nbd_fit, kLifetimeFitState, personalize_pareto_nbd)
PERSONALIZE_STATE_WRAPPER(personalize_pareto_nbd_state_transfn, transfn, pareto_nbd_fit_kind, personalize_pareto_nbd_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_pareto_nbd_state_combine, combine, pareto_nbd_fit_kind, personalize_pareto_nbd_combine)
PERSONALIZE_STATE_WRAPPER(personalize_pareto_nbd_state_final, final, pareto_nbd_fit_kind, personalize_pareto_nbd_final)

PERSONALIZE_STATE_KIND(gamma_gamma_fit, kLifetimeFitState, personalize_gamma_gamma)
PERSONALIZE_STATE_WRAPPER(personalize_gamma_gamma_state_transfn, transfn, gamma_gamma_fit_kind, personalize_gamma_gamma_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_gamma_gamma_state_combine, combine, gamma_gamma_fit_kind, personalize_gamma_gamma_combine)
PERSONALIZE_STATE_WRAPPER(personalize_gamma_gamma_state_final, final, gamma_gamma_fit_kind, personalize_gamma_gamma_final)

PERSONALIZE_STATE_KIND(kmeans, kKMeansState, personalize_kmeans)
PERSONALIZE_STATE_WRAPPER(personalize_kmeans_state_transfn, transfn, kmeans_kind, personalize_kmeans_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_kmeans_state_combine, combine, kmeans_kind, personalize_kmeans_combine)
PERSONALIZE_STATE_WRAPPER(personalize_kmeans_state_final, final, kmeans_kind, personalize_kmeans_final)

PERSONALIZE_STATE_KIND(als_fit, kAlsFitState, personalize_als_fit)
PERSONALIZE_STATE_WRAPPER(personalize_als_fit_state_transfn, transfn, als_fit_kind, personalize_als_fit_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_als_fit_state_combine, combine, als_fit_kind, personalize_als_fit_combine)
PERSONALIZE_STATE_WRAPPER(personalize_als_fit_state_final, final, als_fit_kind, personalize_als_fit_final)

PERSONALIZE_STATE_KIND(logistic_fit, kLogisticFitState, personalize_logistic_fit)
PERSONALIZE_STATE_WRAPPER(personalize_logistic_fit_state_transfn, transfn, logistic_fit_kind, personalize_logistic_fit_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_logistic_fit_state_combine, combine, logistic_fit_kind, personalize_logistic_fit_combine)
PERSONALIZE_STATE_WRAPPER(personalize_logistic_fit_state_final, final, logistic_fit_kind, personalize_logistic_fit_final)

PERSONALIZE_STATE_KIND(auc, kAucRows, personalize_auc)
PERSONALIZE_STATE_WRAPPER(personalize_auc_state_transfn, transfn, auc_kind, personalize_auc_transfn)
PERSONALIZE_STATE_WRAPPER(personalize_auc_state_combine, combine, auc_kind, personalize_auc_combine)
PERSONALIZE_STATE_WRAPPER(personalize_auc_state_final, final, auc_kind, personalize_auc_final)
