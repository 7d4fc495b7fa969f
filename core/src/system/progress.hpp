// The live progress line on stderr, for scans that take more than a second: one figure
// for the whole scan (all techniques), probes per second, answers, open ports, time
// left; once everything is sent, what is still waited for and why. Only on a terminal,
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

    // What is being done, e.g. "discovery and syn, udp".
    void set_label(std::string label) { label_ = std::move(label); }
    // Whether update() would print now (it is cheap to ask; the figures are not).
    bool due() const;
    // From the engine: items handed out of how many, probes sent, answers, items in
    // flight, of which in doubt (ICMP rate limits) and waiting for an application.
    struct Waits {
        std::size_t in_flight = 0, in_doubt = 0, waiting_app = 0;
        double doubt_left = -1;  // seconds the ports in doubt may still take, -1: unknown
        double app_left = 0;     // seconds until the last application wait ends
    };
    void update(std::uint64_t done, std::uint64_t total, std::uint64_t probes, std::uint64_t answers, const Waits& w);
    void found_open() { ++open_; }
    // A line of a phase after the engine's (service detection), when due().
    void show(std::string_view text);
    // A line for stdout during the scan ("Discovered open port ..." with -v): the
    // progress line is cleared first and drawn again at its next update.
    void announce(std::string_view text);
    void finish();  // clears the line

    // The line itself, for tests; `width`: the terminal's columns (0: not known), which
    // the line stays within (a line as wide wraps, and every update leaves a row).
    static std::string line(std::string_view label, double fraction, double elapsed, double probes_per_s,
                            std::uint64_t answers, std::uint64_t open, const Waits& w, std::size_t width = 0);

private:
    using Clock = std::chrono::steady_clock;
    bool enabled_;
    bool shown_ = false;
    std::string label_;
    Clock::time_point start_ = Clock::now(), last_;
    std::uint64_t open_ = 0;
};

}  // namespace scanfw
