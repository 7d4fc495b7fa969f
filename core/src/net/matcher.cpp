#include "net/matcher.hpp"

#include "scanfw/wire.hpp"

namespace scanfw {

namespace ip = wire::ip_proto;
using What = Received::What;
using RK = Reply::Kind;

namespace {
// The ICMP protocol number of a family.
std::uint8_t icmp_of(Family f) { return f == Family::V4 ? ip::ICMP : ip::ICMPV6; }
}  // namespace

bool Matcher::tcp_answers(const Received& r, const ProbeTag& tag) {
    if (r.dport != tag.fields.sport) return false;
    // RFC 9293: an ACK acknowledges our sequence number (plus one for SYN or FIN); a
    // reset without ACK carries our acknowledgement number. Anything else is a near
    // miss: a forgery, or an answer to another scan.
    if (r.tcp_flags & tcp_flag::ACK) return r.ack - tag.fields.seq <= 1;
    return (r.tcp_flags & tcp_flag::RST) && r.seq == tag.fields.ack;
}

void Matcher::match(const Received& r, std::vector<Match>& out) const {
    switch (r.what) {
        case What::Tcp:
        case What::Udp: {
            const bool tcp = r.what == What::Tcp;
            for (const auto& j : jobs_) {
                std::uint16_t port = 0;
                if (j.protocol == (tcp ? Protocol::Tcp : Protocol::Udp)) port = r.sport;
                else if (j.protocol == Protocol::Ip) port = tcp ? ip::TCP : ip::UDP;
                else continue;
                const ProbeTag t = tag(j, r.dst, r.src, port);
                const bool ok = tcp ? tcp_answers(r, t) : r.dport == t.fields.sport;
                if (ok) out.push_back({Item{r.src, port, j.id}, j.protocol == Protocol::Ip ? RK::Ip : (tcp ? RK::Tcp : RK::Udp)});
            }
            return;
        }
        case What::IcmpReply:
            for (const auto& j : jobs_) {
                if (j.protocol == Protocol::Icmp) {
                    for (std::uint16_t port : j.icmp_ports) {
                        const ProbeTag t = tag(j, r.dst, r.src, port);
                        if (r.icmp_id == t.fields.icmp_id && r.icmp_seq == t.fields.icmp_seq)
                            out.push_back({Item{r.src, port, j.id}, RK::Icmp});
                    }
                } else if (j.protocol == Protocol::Ip) {
                    const std::uint16_t port = icmp_of(r.family);
                    const ProbeTag t = tag(j, r.dst, r.src, port);
                    if (r.icmp_id == t.fields.icmp_id && r.icmp_seq == t.fields.icmp_seq)
                        out.push_back({Item{r.src, port, j.id}, RK::Ip});
                }
            }
            return;
        case What::IcmpError: match_error(r, out); return;
        case What::OtherIp:
            for (const auto& j : jobs_)
                if (j.protocol == Protocol::Ip) out.push_back({Item{r.src, r.protocol, j.id}, RK::Ip});
            return;
        case What::Arp:
        case What::Advert:
            for (const auto& j : jobs_)
                if (j.protocol == Protocol::Link && (r.about.family == Family::V4) == (r.what == What::Arp))
                    out.push_back({Item{r.about, 0, j.id}, RK::Link});
            return;
    }
}

void Matcher::match_error(const Received& r, std::vector<Match>& out) const {
    const auto& q = r.quoted;
    const IpAddress& ours = q.src;
    const IpAddress& target = q.dst;
    const std::size_t before = out.size();
    for (const auto& j : jobs_) {
        // The item the quoted probe was, by the technique's protocol.
        auto check = [&](std::uint16_t port) {
            const ProbeTag t = tag(j, ours, target, port);
            if (q.id != t.ip_id) return false;
            if (q.has_ports && (q.protocol == ip::TCP || q.protocol == ip::UDP)) {
                if (q.sport != t.fields.sport) return false;
                if (q.protocol == ip::TCP && q.seq != t.fields.seq) return false;
            }
            if (q.has_icmp && q.protocol == icmp_of(r.family) &&
                (q.icmp_id != t.fields.icmp_id || q.icmp_seq != t.fields.icmp_seq))
                return false;
            return true;
        };
        switch (j.protocol) {
            case Protocol::Tcp:
            case Protocol::Udp:
                if (q.protocol == (j.protocol == Protocol::Tcp ? ip::TCP : ip::UDP) && q.has_ports && check(q.dport))
                    out.push_back({Item{target, q.dport, j.id}, RK::IcmpError});
                break;
            case Protocol::Icmp:
                if (q.protocol == icmp_of(r.family))
                    for (std::uint16_t port : j.icmp_ports)
                        if (check(port)) out.push_back({Item{target, port, j.id}, RK::IcmpError});
                break;
            case Protocol::Ip:
                if (check(q.protocol)) out.push_back({Item{target, q.protocol, j.id}, RK::IcmpError});
                break;
            case Protocol::Link: break;
        }
    }
    // An IP protocol scan's ICMP is open on any ICMP message from the target: an error
    // that quotes one of our probes answers the ICMP item too (nmap does the same).
    if (out.size() == before || r.src != target) return;
    for (const auto& j : jobs_)
        if (j.protocol == Protocol::Ip) out.push_back({Item{target, icmp_of(r.family), j.id}, RK::Ip});
}

}  // namespace scanfw
