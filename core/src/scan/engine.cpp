// Which engine carries which transport.
#include "scan/engine.hpp"

namespace scanfw {

void run_scan(const ScanJob& job, ResultSink& sink) {
    switch (job.plugin->info().transport) {
        case Transport::Connect: run_connect_scan(job, sink); break;
        case Transport::RawTcp:
        case Transport::RawUdp:
            if (!job.raw_io) throw RuntimeError("internal: a raw technique without raw sockets");
            run_raw_scan(job, sink);
            break;
    }
}

}  // namespace scanfw
