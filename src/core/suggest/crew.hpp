// A few helper threads next to the calling one, for the dense algebra of
// EASE (the Cholesky factor's trailing updates, the inverse's column blocks).
// The helpers never touch PostgreSQL: they start with every signal blocked
// (the backend's signal handlers must run in its own thread), work only on
// memory handed to them, and are joined before run() returns or throws.
// Only the calling thread polls the interrupt; when it (or a task) throws, a
// shared flag stops the helpers at their next poll, and the first error is
// rethrown once they are joined.
#pragma once

#include <cstddef>
#include <functional>

#include "core/common/interrupt.hpp"

namespace personalize::suggest {

class Crew {
public:
    // threads >= 1, the calling thread included.
    explicit Crew(unsigned threads) : threads_(threads < 1 ? 1 : threads) {}

    unsigned threads() const { return threads_; }

    // Runs task(i, poll) for every i in [0, count), each once, in any order
    // and concurrently; a task calls poll() between its steps (a cancel
    // throws from there).
    using Task = std::function<void(std::size_t index, const std::function<void()> &poll)>;
    void run(std::size_t count, const Interrupt &interrupt, const Task &task) const;

private:
    unsigned threads_;
};

}  // namespace personalize::suggest
