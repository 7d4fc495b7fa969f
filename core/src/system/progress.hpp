// The live progress line on stderr, for scans that take more than a second: percent
// done, probes per second, replies, open ports found, time left. Only on a terminal,
// and not with --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace scanfw {

class Progress {
public:
    explicit Progress(bool enabled);
    ~Progress() { finish(); }

    // From the engine: what it has done of the current technique.
    void update(std::string_view technique, std::uint64_t done, std::uint64_t total, std::uint64_t probes,
                std::uint64_t replies);
    void found_open() { ++open_; }
    void finish();  // clears the line

private:
    using Clock = std::chrono::steady_clock;
    bool enabled_;
    bool shown_ = false;
    Clock::time_point start_ = Clock::now(), last_;
    std::uint64_t open_ = 0;
};

}  // namespace scanfw
