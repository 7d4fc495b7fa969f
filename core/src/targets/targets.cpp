#include "targets/targets.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <bitset>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <variant>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/zones.hpp"

namespace scanfw {
namespace {

// The most addresses one target may expand to: an IPv4 /8, an IPv6 /104.
constexpr std::uint64_t kMaxBlockSize = std::uint64_t{1} << 24;

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

bool only_chars(std::string_view s, std::string_view allowed) {
    return s.find_first_not_of(allowed) == std::string_view::npos;
}

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kIpv4RangeChars = "0123456789.,*-";
constexpr std::string_view kHostnameChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

// Decimal digits only, at most `max`; nullopt otherwise.
std::optional<unsigned> parse_uint(std::string_view s, unsigned max) {
    if (s.empty() || !only_chars(s, kDigits)) return std::nullopt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > max) return std::nullopt;
    return value;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t pos = 0;
    while (true) {
        const auto next = s.find(sep, pos);
        if (next == std::string_view::npos) {
            parts.push_back(s.substr(pos));
            return parts;
        }
        parts.push_back(s.substr(pos, next - pos));
        pos = next + 1;
    }
}

// One octet of an nmap range: a comma list of N, N-M, -M, N-, - or *.
std::vector<std::uint8_t> parse_octet(std::string_view octet, std::string_view spec) {
    std::bitset<256> values;
    for (const auto item : split(octet, ',')) {
        if (item.empty()) throw InputError(fmt::format("empty octet item in '{}'", spec));
        unsigned lo = 0, hi = 255;
        auto number = [&](std::string_view text) {
            const auto v = parse_uint(text, 255);
            if (!v) throw InputError(fmt::format("bad octet '{}' in '{}': octets are 0-255", text, spec));
            return *v;
        };
        if (item == "*") {
            // the whole range
        } else if (const auto dash = item.find('-'); dash == std::string_view::npos) {
            lo = hi = number(item);
        } else {
            const auto left = item.substr(0, dash);
            const auto right = item.substr(dash + 1);
            if (left.find('*') != std::string_view::npos || right.find_first_of("*-") != std::string_view::npos) {
                throw InputError(fmt::format("bad octet range '{}' in '{}'", item, spec));
            }
            if (!left.empty()) lo = number(left);
            if (!right.empty()) hi = number(right);
            if (lo > hi) throw InputError(fmt::format("reversed octet range '{}' in '{}'", item, spec));
        }
        for (unsigned v = lo; v <= hi; ++v) values.set(v);
    }
    std::vector<std::uint8_t> out;
    for (unsigned v = 0; v < 256; ++v) {
        if (values[v]) out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
}

IpAddress lookup(std::string_view host, std::optional<Family> only);

// The first IPv4 address of `host`, else its first IPv6 address; or only the
// family asked for (-4, -6). Each name is looked up once a run, whatever asks again
// (counting, planning, --dry-run and the scan each read the targets): a name that
// does not resolve took five seconds a time.
IpAddress resolve(std::string_view host, std::optional<Family> only) {
    static std::mutex mutex;
    static std::map<std::pair<std::string, int>, std::variant<IpAddress, std::string>> known;
    const std::pair<std::string, int> key{std::string(host), only ? static_cast<int>(*only) : -1};
    std::lock_guard lock(mutex);
    auto it = known.find(key);
    if (it == known.end()) {
        try {
            it = known.emplace(key, lookup(host, only)).first;
        } catch (const InputError& e) {
            it = known.emplace(key, std::string(e.what())).first;
        }
    }
    if (const auto* error = std::get_if<std::string>(&it->second)) throw InputError(*error);
    return std::get<IpAddress>(it->second);
}

IpAddress lookup(std::string_view host, std::optional<Family> only) {
    const std::string name(host);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    addrinfo* list = nullptr;
    const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc != 0) throw InputError(fmt::format("cannot resolve host '{}': {}", host, gai_strerror(rc)));

    std::optional<IpAddress> v4, v6;
    for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && !v4) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
            IpAddress a;
            a.family = Family::V4;
            std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
            v4 = a;
        } else if (ai->ai_family == AF_INET6 && !v6) {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
            IpAddress a;
            a.family = Family::V6;
            std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
            v6 = a;
        }
    }
    freeaddrinfo(list);
    if (v4 && only != Family::V6) return *v4;
    if (v6 && only != Family::V4) return *v6;
    if (only) throw InputError(fmt::format("cannot resolve host '{}': no {} address", host,
                                           *only == Family::V4 ? "IPv4" : "IPv6"));
    throw InputError(fmt::format("cannot resolve host '{}': no IPv4 or IPv6 address", host));
}

// An address literal, or a hostname to resolve. Octet ranges are not addresses.
IpAddress address_of(std::string_view text, std::string_view spec, std::optional<Family> only, bool may_resolve) {
    if (const auto a = IpAddress::parse(text)) return *a;
    if (text.find(':') != std::string_view::npos) {
        throw InputError(fmt::format("bad IPv6 address '{}' in '{}'", text, spec));
    }
    if (only_chars(text, kIpv4RangeChars)) {
        throw InputError(fmt::format("bad IPv4 address '{}' in '{}'", text, spec));
    }
    if (!only_chars(text, kHostnameChars)) throw InputError(fmt::format("bad target '{}'", spec));
    if (!may_resolve) {
        throw InputError(fmt::format("host name '{}' in '{}' not resolved: name resolution is off", text, spec));
    }
    return resolve(text, only);
}

// -4 and -6 choose the family of the whole scan, as in nmap: an address of the other
// family is refused (a name resolves to the family asked for).
void check_family(const IpAddress& a, std::string_view spec, std::optional<Family> only) {
    if (!only || a.family == *only) return;
    const bool six = *only == Family::V6;
    throw InputError(fmt::format("'{}' is an {} target, and {} scans {} targets only (drop {} to scan it)", spec,
                                 six ? "IPv4" : "IPv6", six ? "-6" : "-4", six ? "IPv6" : "IPv4", six ? "-6" : "-4"));
}

// A name that does not resolve is said once a run, however often the targets are read.
void warn_unresolved(std::string_view spec, const InputError& e) {
    static std::mutex mutex;
    static std::set<std::string, std::less<>> said;
    std::lock_guard lock(mutex);
    if (said.insert(std::string(spec)).second) spdlog::warn("Failed to resolve \"{}\": {}", spec, e.what());
}

}  // namespace

std::uint64_t TargetSet::Block::size() const {
    if (kind == Kind::Count) return count;
    std::uint64_t n = 1;
    for (const auto& values : octets) n *= values.size();
    return n;
}

IpAddress TargetSet::Block::at(std::uint64_t i) const {
    if (kind == Kind::Octets) {
        std::uint32_t host_order = 0;
        std::uint64_t rest = i;
        for (int k = 3; k >= 0; --k) {
            const auto& values = octets[static_cast<std::size_t>(k)];
            host_order |= std::uint32_t{values[rest % values.size()]} << (8 * (3 - k));
            rest /= values.size();
        }
        return IpAddress::v4(host_order);
    }
    if (base.family == Family::V4) return IpAddress::v4(base.v4_host_order() + static_cast<std::uint32_t>(i));
    IpAddress a = base;  // add i to the 128-bit big-endian number
    std::uint64_t carry = i;
    for (int k = 15; k >= 0 && carry != 0; --k) {
        carry += a.bytes[static_cast<std::size_t>(k)];
        a.bytes[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(carry);
        carry >>= 8;
    }
    return a;
}

void TargetSet::push(const Block& b) {
    starts_.push_back(total_);
    blocks_.push_back(b);
    total_ += b.size();
}

IpAddress TargetSet::at(std::uint64_t index) const {
    if (index >= total_) throw std::out_of_range("TargetSet::at: index out of range");
    // The last block starting at or before index (empty blocks never get pushed).
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), index) - 1;
    const auto block = static_cast<std::size_t>(it - starts_.begin());
    return blocks_[block].at(index - *it);
}

void TargetSet::add(std::string_view raw) {
    const std::string_view spec = trim(raw);
    if (spec.empty()) throw InputError("empty target");

    // addr/N: a CIDR block or an IPv6 prefix (of a literal or of a resolved host).
    if (const auto slash = spec.find('/'); slash != std::string_view::npos) {
        const auto prefix_text = spec.substr(slash + 1);
        const auto prefix = parse_uint(prefix_text, 128);
        if (!prefix) throw InputError(fmt::format("bad prefix length '/{}' in '{}'", prefix_text, spec));
        IpAddress base = address_of(spec.substr(0, slash), spec, name_family_, resolve_);  // after checking the prefix: may resolve
        check_family(base, spec, name_family_);
        const unsigned bits = base.family == Family::V4 ? 32 : 128;
        if (*prefix > bits) {
            throw InputError(fmt::format("bad prefix length '/{}' in '{}': IPv4 prefixes are /0 to /32", *prefix, spec));
        }
        const unsigned host_bits = bits - *prefix;
        if (host_bits > 24) {
            throw InputError(fmt::format("{} prefix /{} in '{}' is too large to enumerate (at most /{})",
                                         base.family == Family::V4 ? "IPv4" : "IPv6", *prefix, spec, bits - 24));
        }
        for (unsigned bit = *prefix; bit < bits; ++bit) {  // mask the base to its network
            base.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
        }
        Block b;
        b.base = base;
        b.count = std::uint64_t{1} << host_bits;
        push(b);
        return;
    }

    if (spec.find(':') == std::string_view::npos && only_chars(spec, kIpv4RangeChars) &&
        !IpAddress::parse(spec)) {
        // nmap octet ranges: 198.18.0.1-20, 198.18.1-2.*, 10.0.0.1,3
        const auto parts = split(spec, '.');
        if (parts.size() != 4) {
            throw InputError(fmt::format("bad IPv4 address or range '{}': expected 4 dot-separated octets", spec));
        }
        check_family(IpAddress{}, spec, name_family_);  // an IPv4 range
        Block b;
        b.kind = Block::Kind::Octets;
        for (std::size_t k = 0; k < 4; ++k) {
            if (parts[k].empty()) throw InputError(fmt::format("empty octet in '{}'", spec));
            b.octets[k] = parse_octet(parts[k], spec);
        }
        if (b.size() > kMaxBlockSize) {
            throw InputError(fmt::format("IPv4 range '{}' has {} addresses, too many to enumerate (at most {})", spec,
                                         b.size(), kMaxBlockSize));
        }
        push(b);
        return;
    }

    // fe80::1%eth0: a link-local address and the interface it is reached through.
    if (const auto percent = spec.find('%'); percent != std::string_view::npos && spec.find(':') != std::string_view::npos) {
        const auto a = IpAddress::parse(spec.substr(0, percent));
        if (!a || a->family != Family::V6) throw InputError(fmt::format("bad IPv6 address '{}' in '{}'", spec.substr(0, percent), spec));
        check_family(*a, spec, name_family_);
        zones::set(*a, spec.substr(percent + 1));
        Block b;
        b.base = *a;
        push(b);
        return;
    }

    Block b;
    const bool literal = IpAddress::parse(spec).has_value();
    if (lenient_ && !literal) {
        try {
            b.base = address_of(spec, spec, name_family_, resolve_);
        } catch (const InputError& e) {
            warn_unresolved(spec, e);
            return;
        }
    } else {
        b.base = address_of(spec, spec, name_family_, resolve_);
    }
    check_family(b.base, spec, name_family_);
    if (!literal) names_.emplace_back(b.base, std::string(spec));
    push(b);
}

void TargetSet::ranges_into(AddressRanges& out) const {
    AddressRanges mine;
    for (const Block& b : blocks_)
        if (b.kind == Block::Kind::Count) mine.add(b.base, b.at(b.count - 1));
    mine.normalize();
    out.unite(mine);
}

std::string TargetSet::name_of(const IpAddress& a) const {
    for (const auto& [addr, name] : names_)
        if (addr == a) return name;
    return {};
}

void TargetSet::normalize(const AddressRanges* excluded) {
    constexpr std::uint64_t kMaxRanges = 1 << 20;
    AddressRanges ranges;
    std::vector<Block> irregular;
    for (const Block& b : blocks_) {
        if (b.kind == Block::Kind::Count) {
            ranges.add(b.base, b.at(b.count - 1));
            continue;
        }
        // An octet range: each combination of the first three octets, with the last
        // octet's values in runs.
        std::vector<std::pair<std::uint8_t, std::uint8_t>> runs;
        for (std::uint8_t v : b.octets[3]) {
            if (!runs.empty() && runs.back().second + 1 == v) runs.back().second = v;
            else runs.emplace_back(v, v);
        }
        const std::uint64_t n = b.octets[0].size() * b.octets[1].size() * b.octets[2].size() * runs.size();
        if (n > kMaxRanges) {
            irregular.push_back(b);
            continue;
        }
        for (std::uint8_t o0 : b.octets[0])
            for (std::uint8_t o1 : b.octets[1])
                for (std::uint8_t o2 : b.octets[2])
                    for (const auto& [lo, hi] : runs) {
                        const std::uint32_t base = std::uint32_t(o0) << 24 | std::uint32_t(o1) << 16 | std::uint32_t(o2) << 8;
                        ranges.add(IpAddress::v4(base | lo), IpAddress::v4(base | hi));
                    }
    }
    ranges.normalize();
    if (excluded) ranges.subtract(*excluded);
    blocks_.clear();
    starts_.clear();
    total_ = 0;
    for (const auto& [lo, hi] : ranges.ranges()) {
        // A range of more than 2^64 addresses cannot be enumerated anyway (targets are
        // at most /104 each): split at most in 2^63 pieces is never needed in practice.
        Block b;
        b.base = AddressRanges::address_of(lo);
        b.count = hi.lo - lo.lo + 1;
        if (b.count == 0) b.count = std::uint64_t{1} << 63;
        push(b);
    }
    for (const Block& b : irregular) push(b);
}

}  // namespace scanfw
