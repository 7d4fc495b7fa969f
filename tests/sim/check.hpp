// Runs one scenario's scan on the simulated network, everything above the sockets as
// scanfw runs it (command line, targets, discovery, the port scan, the engine, the
// results on their way to the outputs), and checks every result against the truth:
// what the scan would find on a perfect network with no ICMP limits. A result may
// differ only where the network left nothing to go by (every try or its answer lost)
// or answered later than the timing template waits (a path slower than the template's
// longest wait, a UDP service slower than its application wait): the documented
// unavoidable cases, counted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugin/plugins.hpp"
#include "sim/scenario.hpp"

namespace scanfw::sim {

struct Checked {
    std::vector<std::string> problems;  // empty: every result right
    std::uint64_t results = 0;          // port results checked
    std::uint64_t hosts = 0;            // host statuses checked
    std::uint64_t lost = 0;             // results excused: every try or answer lost
    double lost_expected = 0;           // of those not capped by --max-retries: how many loss explains
    std::uint64_t loss_unshown = 0;     // of those: on hosts whose answers never showed the engine a loss
    std::uint64_t late = 0;             // results excused: answers later than the template waits
    std::uint64_t unseen_limit = 0;       // results and hosts excused: answers held back before the host showed a limit
    double simulated = 0;               // seconds of simulated time
    std::uint64_t probes = 0, events = 0;
};

Checked run_and_check(const Scenario& sc, PluginRegistry& registry);

}  // namespace scanfw::sim
