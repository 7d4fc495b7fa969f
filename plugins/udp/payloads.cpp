#include "payloads.hpp"

namespace scanfw {
namespace {

// DNS (RFC 1035 4.1): id 0x5346, RD, one question: ". IN NS".
constexpr std::uint8_t kDns[] = {0x53, 0x46, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x02, 0x00, 0x01};

// NTP (RFC 5905 7.3): LI 0, version 4, mode 3 (client); the rest zero. 48 bytes.
constexpr std::uint8_t kNtp[48] = {0x23};

// NetBIOS name service (RFC 1002 4.2.18): NBSTAT query for the wildcard name "*".
constexpr std::uint8_t kNetbios[] = {
    0x53, 0x46, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x20, 'C', 'K', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
    'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 0x00,
    0x00, 0x21, 0x00, 0x01};

// SNMPv1 (RFC 1157) GetRequest, community "public", for sysDescr.0 (1.3.6.1.2.1.1.1.0).
constexpr std::uint8_t kSnmp[] = {
    0x30, 0x26,                                      // Message
    0x02, 0x01, 0x00,                                // version 1 (0)
    0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',        // community
    0xa0, 0x19,                                      // GetRequest-PDU
    0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,  // request-id 1, error 0, index 0
    0x30, 0x0e, 0x30, 0x0c,                          // varbind list, varbind
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,  // OID
    0x05, 0x00};                                     // NULL

// SSDP (UPnP Device Architecture 1.1, 1.3.2): a search for all devices.
constexpr char kSsdpText[] =
    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";

template <std::size_t N>
std::span<const std::uint8_t> bytes(const std::uint8_t (&a)[N]) { return {a, N}; }

}  // namespace

std::span<const std::uint8_t> udp_payload_for(std::uint16_t port) {
    switch (port) {
        case 53: case 5353: return bytes(kDns);
        case 123: return bytes(kNtp);
        case 137: return bytes(kNetbios);
        case 161: return bytes(kSnmp);
        case 1900:
            return {reinterpret_cast<const std::uint8_t*>(kSsdpText), sizeof kSsdpText - 1};
        default: return {};
    }
}

}  // namespace scanfw
