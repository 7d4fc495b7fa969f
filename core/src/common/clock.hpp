// Time as the engine sees it: a steady clock, read through a TimeSource so that the
// engine's unit tests can run it on simulated time (tests/unit/engine_test.cpp).
#pragma once

#include <chrono>

namespace scanfw {

using Clock = std::chrono::steady_clock;

class TimeSource {
public:
    virtual ~TimeSource() = default;
    virtual Clock::time_point now() const = 0;
};

class RealTime final : public TimeSource {
public:
    Clock::time_point now() const override { return Clock::now(); }
};

template <class D>
constexpr double seconds(D d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace scanfw
