#include "common/result.hpp"

#include <fmt/format.h>

namespace scanfw {

std::string_view state_name(State s) {
    switch (s) {
        case State::Open: return "open";
        case State::Closed: return "closed";
        case State::Filtered: return "filtered";
        case State::Unfiltered: return "unfiltered";
        case State::OpenFiltered: return "open|filtered";
        case State::Up: return "up";
        case State::Down: return "down";
        case State::Undecided: break;
    }
    return "unknown";
}

std::string_view protocol_name(Protocol p) {
    switch (p) {
        case Protocol::Tcp: return "tcp";
        case Protocol::Udp: return "udp";
        case Protocol::Ip: return "ip";
        case Protocol::Icmp: return "icmp";
        case Protocol::Link: return "link";
    }
    return "?";
}

std::string mac_text(const MacAddress& m) {
    return fmt::format("{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

}  // namespace scanfw
