// A scan scenario drawn from one seed: the targets (up or down, each port's behaviour,
// slow services), each host's ICMP limiter and how spent it is when the scan starts,
// the paths (delay, jitter, loss, duplicates), the scanner's machine (stalls, a small
// capture ring), and the scan itself as a command line (techniques, discovery, timing,
// retries, rates, source pools). The same seed always gives the same scenario.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/network.hpp"

namespace scanfw::sim {

struct Scenario {
    std::uint64_t seed = 0;
    std::vector<HostSpec> hosts;
    Machine machine;
    std::vector<IpAddress> sources;  // the scanner's addresses (a pool when more than one)
    std::vector<std::string> args;   // scanfw's command line, without the program name
    int timing_level = 3;

    // One line: the seed and what matters of the draw, for a failing seed's report.
    std::string describe() const;
    // The command line as a shell would take it.
    std::string command() const;
};

Scenario draw_scenario(std::uint64_t seed);

}  // namespace scanfw::sim
