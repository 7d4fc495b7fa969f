// One final answer per (host, port, technique), and where results go.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/address.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

struct Result {
    IpAddress host;
    std::uint16_t port = 0;
    Protocol protocol = Protocol::Tcp;
    std::string_view technique;  // the plugin's name
    PortState state = PortState::Undecided;
    std::string_view reason;
    std::uint8_t ttl = 0;      // of the reply; 0 when there was none
    std::uint32_t rtt_us = 0;  // 0 when unknown
};

// nmap's names: "open", "closed", "filtered", "unfiltered", "open|filtered".
std::string_view state_name(PortState s);
std::string_view protocol_name(Protocol p);

// Receives results as they are decided, from the scanning thread.
class ResultSink {
public:
    virtual ~ResultSink() = default;
    virtual void on_result(const Result& r) = 0;
};

}  // namespace scanfw
