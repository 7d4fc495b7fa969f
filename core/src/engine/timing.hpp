// How fast and how patiently to scan. The engine adapts within these bounds: each
// host's measured round trip sets its timeout (between min_timeout and max_timeout;
// `timeout` until that host has a sample of its own), measured loss raises the tries
// from `retries` + 1 up to `max_retries` + 1 (when adaptive_retries), and the send
// rate backs off from `rate` when answers stop keeping up, never below `min_rate`.
#pragma once

#include <chrono>
#include <string_view>

namespace scanfw {

struct Timing {
    std::chrono::milliseconds timeout{1000};
    std::chrono::milliseconds min_timeout{10};  // a floor for fast links (see timing_template)
    std::chrono::milliseconds max_timeout{10000};
    // The longest an application may take to answer (a UDP service): silence of a probe
    // it would answer is believed only after this long since its first try.
    std::chrono::milliseconds app_wait{2000};
    int retries = 2;
    int max_retries = 10;
    bool adaptive_retries = true;
    double rate = 10000;   // probes per second, at most
    double min_rate = 0;   // probes per second, at least
    bool defeat_icmp_ratelimit = false;  // believe silence without waiting out ICMP rate limits
};

// nmap's -T0 .. -T5 as starting points; explicit flags override them.
Timing timing_template(int level);

// "paranoid", "sneaky", "polite", "normal", "aggressive", "insane" or 0-5: the level,
// or -1 when the text is neither.
int timing_level(std::string_view text);

}  // namespace scanfw
