// The state of the fitting aggregates bgnbd_fit, pareto_nbd_fit and
// gamma_gamma_fit: the model's fit state (its customers) and the penalty
// every row must agree on, with its byte form (serialfunc / deserialfunc).
#pragma once

#include <cmath>

#include "core/common/byte_formats.hpp"
#include "core/common/bytes.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::lifetime {

// Core: BgNbdFitState, ParetoNbdFitState or GammaGammaFitState.
template <typename Core>
struct PenalizedFitState {
    Core core;
    double penalty = 0.0;
    bool has_penalty = false;

    // `function` ("bgnbd_fit") prefixes the InvalidParameter message; `p`
    // is checked by the transition function when it reads the argument.
    void set_penalty(double p, const char *function) {
        same_for_every_row(has_penalty, function, [&] { penalty = p; }, {{"penalty", p == penalty}});
    }
    void merge(const PenalizedFitState &other, const char *function) {
        if (other.has_penalty) set_penalty(other.penalty, function);
        core.merge(other.core);
    }

    // Layout after the header: f64 penalty (0 when not set), u8 has_penalty,
    // then the core state (a value with its own header).
    void write(ByteWriter &out) const {
        out.header(byte_formats::kLifetimeFitState);
        out.put(penalty);
        out.put_bool(has_penalty);
        core.write(out);
    }
    // `function` (a string literal) names the value in DataCorrupted errors.
    static PenalizedFitState deserialize(const unsigned char *data, std::size_t size, const char *function) {
        return read_whole(data, size, function, [](ByteReader &in) {
            in.header(byte_formats::kLifetimeFitState);
            PenalizedFitState state;
            state.penalty = in.get<double>();
            state.has_penalty = in.get_bool();
            if (state.has_penalty ? !(state.penalty >= 0.0 && std::isfinite(state.penalty)) : state.penalty != 0.0)
                in.corrupted("bad penalty");
            state.core = Core::read(in);
            return state;
        });
    }
};

}  // namespace personalize::lifetime
