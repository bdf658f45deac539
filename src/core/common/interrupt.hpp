// Cooperative cancellation for long core loops.
//
// Core code cannot call CHECK_FOR_INTERRUPTS() (that would longjmp through C++
// frames), so the glue hands in a probe that only *reads* PostgreSQL's
// pending cancel / termination flags. When set, poll() throws Canceled; the glue then
// lets PostgreSQL process the interrupt once the C++ frames are gone.
#pragma once

#include <cstdint>

#include "core/common/error.hpp"

namespace personalize {

class Interrupt {
public:
    using Probe = bool (*)();

    Interrupt() = default;
    explicit Interrupt(Probe probe) : probe_(probe) {}

    // Cheap enough for every iteration of a hot loop: the probe is called
    // only every `stride` polls.
    void poll(std::uint32_t stride = 1024) const {
        if (probe_ == nullptr) return;
        if (++counter_ % stride != 0) return;
        if (probe_()) throw Error(ErrorCode::Canceled, "canceling statement due to an interrupt");
    }

    // Checks right now, whatever the stride.
    void check() const {
        if (probe_ != nullptr && probe_()) throw Error(ErrorCode::Canceled, "canceling statement due to an interrupt");
    }

private:
    Probe probe_ = nullptr;
    mutable std::uint32_t counter_ = 0;
};

}  // namespace personalize
