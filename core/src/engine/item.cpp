#include "engine/item.hpp"

#include <cerrno>

#include "engine/answer_limits.hpp"

namespace scanfw {

Job make_job(std::shared_ptr<const TechniqueInstance> technique, std::vector<std::uint16_t> ports) {
    Job job;
    job.technique = std::move(technique);
    job.ports = std::move(ports);
    const Description& info = job.info();
    job.connect = info.carrier == Carrier::Connect;
    job.app_answers = info.answered_by_applications;
    job.silence_state = job.technique->classify(Reply{}).state;
    if (job.silence_state == State::Undecided)
        job.silence_state = info.kind == Kind::Host ? State::Down : State::Filtered;
    // Rate limits matter for the answers that conclude otherwise than silence: asking
    // the technique about each kind of ICMP error, and about a RST, once tells.
    const auto differs = [&](const Reply& r) {
        const State s = job.technique->classify(r).state;
        return s != State::Undecided && s != job.silence_state;
    };
    Reply r;
    if (job.connect) {
        r.kind = Reply::Kind::Connect;
        r.connect_errno = ECONNREFUSED;
        if (differs(r)) job.limited |= bit(Limited::Rst);
        r.connect_errno = EHOSTUNREACH;
        if (differs(r)) job.limited |= bit(Limited::IcmpError);
        return job;
    }
    for (Unreach u : {Unreach::Net, Unreach::Host, Unreach::Proto, Unreach::Port, Unreach::NetProhibited,
                      Unreach::HostProhibited, Unreach::AdminProhibited}) {
        r = Reply{};
        r.kind = Reply::Kind::IcmpError;
        r.unreach = u;
        r.icmp_type = 3;
        r.ip_protocol = info.protocol == Protocol::Tcp ? 6 : info.protocol == Protocol::Udp ? 17 : 0;
        if (differs(r)) job.limited |= bit(Limited::IcmpError);
    }
    if (info.protocol == Protocol::Tcp)
        for (std::uint8_t flags : {std::uint8_t(tcp_flag::RST | tcp_flag::ACK), tcp_flag::RST}) {
            r = Reply{};
            r.kind = Reply::Kind::Tcp;
            r.tcp_flags = flags;
            if (differs(r)) job.limited |= bit(Limited::Rst);
        }
    return job;
}

}  // namespace scanfw
