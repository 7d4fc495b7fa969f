// fuzz_ports: text -> parse_ports (-p and a profile's `ports`). Only InputError may
// escape; an accepted spec gives sorted, unique ports for each protocol (T:, U:, and P:
// for IP protocol numbers), and at least one port in all.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "targets/ports.hpp"

namespace {
[[noreturn]] void fail() { std::abort(); }

void check_sorted_unique(const std::vector<std::uint16_t>& ports) {
    for (std::size_t i = 1; i < ports.size(); ++i) {
        if (ports[i - 1] >= ports[i]) fail();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const scanfw::PortSpec spec = scanfw::parse_ports(text);
        check_sorted_unique(spec.tcp);
        check_sorted_unique(spec.udp);
        check_sorted_unique(spec.ip);  // P: (-sO), protocol numbers
        if (spec.tcp.empty() && spec.udp.empty() && spec.ip.empty()) fail();
    } catch (const scanfw::InputError&) {
    }
    return 0;
}
