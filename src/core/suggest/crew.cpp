#include "core/suggest/crew.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace personalize::suggest {

namespace {

struct Stopped {};  // a helper leaving because another thread failed

}  // namespace

void Crew::run(std::size_t count, const Interrupt &interrupt, const Task &task) const {
    const std::function<void()> check = [&interrupt] { interrupt.check(); };
    if (threads_ <= 1 || count <= 1) {
        for (std::size_t i = 0; i < count; ++i) {
            interrupt.check();
            task(i, check);
        }
        return;
    }
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> finished{0};  // helpers done
    const unsigned wanted = static_cast<unsigned>(std::min<std::size_t>(threads_, count));
    std::vector<std::exception_ptr> errors(wanted);
    const auto work = [&](unsigned t, const std::function<void()> &poll) {
        try {
            for (;;) {
                poll();
                const std::size_t i = next.fetch_add(1);
                if (i >= count) return;
                task(i, poll);
            }
        } catch (const Stopped &) {
        } catch (...) {
            errors[t] = std::current_exception();
            stop.store(true);
        }
    };
    const std::function<void()> helper_poll = [&stop] {
        if (stop.load(std::memory_order_relaxed)) throw Stopped{};
    };
    const auto helper = [&](unsigned t) {
        work(t, helper_poll);
        ++finished;
    };

    std::vector<std::thread> helpers;
    helpers.reserve(wanted - 1);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // inherited by the helpers
    for (unsigned t = 1; t < wanted; ++t) {
        try {
            helpers.emplace_back(helper, t);
        } catch (const std::system_error &) {
            break;  // no more threads: the ones running share the tasks
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    work(0, [&] {
        interrupt.check();
        if (stop.load(std::memory_order_relaxed)) throw Stopped{};
    });
    // Helpers still at work: keep polling, so a cancel stops them at their
    // next step instead of after their task.
    while (finished.load() < helpers.size() && !stop.load()) {
        try {
            interrupt.check();
        } catch (...) {
            errors[0] = std::current_exception();
            stop.store(true);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (std::thread &h : helpers) h.join();
    for (const std::exception_ptr &e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace personalize::suggest
