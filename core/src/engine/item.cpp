#include "engine/item.hpp"

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
    // Rate limits on ICMP errors matter when some error would conclude otherwise than
    // silence does: asking the technique about each kind of error once tells.
    if (!job.connect) {
        for (Unreach u : {Unreach::Net, Unreach::Host, Unreach::Proto, Unreach::Port, Unreach::NetProhibited,
                          Unreach::HostProhibited, Unreach::AdminProhibited}) {
            Reply r;
            r.kind = Reply::Kind::IcmpError;
            r.unreach = u;
            r.icmp_type = 3;
            r.ip_protocol = info.protocol == Protocol::Tcp ? 6 : info.protocol == Protocol::Udp ? 17 : 0;
            const State s = job.technique->classify(r).state;
            if (s != State::Undecided && s != job.silence_state) job.icmp_matters = true;
        }
    }
    return job;
}

}  // namespace scanfw
