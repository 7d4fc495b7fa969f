// An IP address of either family, as a small value type.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace scanfw {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
    Family family = Family::V4;
    std::array<std::uint8_t, 16> bytes{};  // V4 uses the first 4, network order

    static IpAddress v4(std::uint32_t host_order);
    std::uint32_t v4_host_order() const;  // family must be V4

    static std::optional<IpAddress> parse(std::string_view text);  // literal only, no DNS
    std::string str() const;

    auto operator<=>(const IpAddress&) const = default;
};

struct IpAddressHash {
    std::size_t operator()(const IpAddress& a) const noexcept;
};

}  // namespace scanfw
