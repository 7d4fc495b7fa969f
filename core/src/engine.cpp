// Which engine carries which transport.
#include "scanfw/engine.hpp"

#include "raw_socket.hpp"

namespace scanfw {

void check_transport_available(Transport t, std::string_view) {
    if (t == Transport::RawTcp || t == Transport::RawUdp) require_raw_sockets();
}

void run_scan(const ScanJob& job, ResultSink& sink) {
    switch (job.plugin->info().transport) {
        case Transport::Connect: run_connect_scan(job, sink); break;
        case Transport::RawTcp:
        case Transport::RawUdp: run_raw_scan(job, sink); break;
    }
}

}  // namespace scanfw
