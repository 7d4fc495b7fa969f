// Minimal requests that make common UDP services answer, written from their RFCs.
#pragma once

#include <cstdint>
#include <span>

namespace scanfw {

// Empty for ports with no known service.
std::span<const std::uint8_t> udp_payload_for(std::uint16_t port);

}  // namespace scanfw
