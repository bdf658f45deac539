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

// The probe of the statement running in this process, for core code that runs
// where no Interrupt is handed in: aggregate states merged, read and written
// by PostgreSQL's support functions (combine, serial, deserial). The glue
// sets it when the library is loaded; unset (core unit tests), polling an
// ambient_interrupt() does nothing.
inline Interrupt::Probe &ambient_probe() {
    static Interrupt::Probe probe = nullptr;
    return probe;
}
inline Interrupt ambient_interrupt() { return Interrupt(ambient_probe()); }

}  // namespace personalize
