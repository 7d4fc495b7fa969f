#include "servicescan/service_scan.hpp"

#include <poll.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "common/service_names.hpp"
#include "system/interrupt.hpp"

namespace scanfw {

namespace {

using std::chrono::milliseconds;

constexpr std::size_t kFoundKept = 65536;        // shared_: findings kept for another technique
constexpr auto kStopGrace = milliseconds(500);   // after a stop, as the engine's wait for answers
constexpr auto kStepEvery = milliseconds(10);    // the prober's turn while the engine is busy

// What the outputs get: nmap's fields, the table's name where no probe named it.
ServiceInfo service_info(const services::ServiceTarget& t, const services::ServiceResult& r) {
    ServiceInfo s;
    if (r.identified) {
        s.name = r.id.name;
    } else if (const auto name = ServiceNames::get().name(t.port, t.udp ? Protocol::Udp : Protocol::Tcp)) {
        s.name = std::string(*name);
    }
    s.product = r.id.product;
    s.version = r.id.version;
    s.extrainfo = r.id.extrainfo;
    s.hostname = r.id.hostname;
    s.ostype = r.id.ostype;
    s.devicetype = r.id.devicetype;
    s.cpe = r.id.cpe;
    s.tunnel = r.tunnel;
    s.method = r.method.empty() ? "table" : r.method;
    s.conf = r.conf;
    return s;
}

}  // namespace

services::ProbeDb load_service_db(const std::optional<std::string>& path) {
    if (!path) {
        std::error_code ec;
        if (!std::filesystem::exists(services::kDefaultProbesPath, ec))
            throw InputError(fmt::format("-sV: nmap's service probes ({}) are not installed: apt-get install nmap-common, "
                                         "or give the file with --service-db FILE",
                                         services::kDefaultProbesPath));
    }
    const auto started = Clock::now();
    services::ProbeDb db = services::ProbeDb::load(path ? *path : services::kDefaultProbesPath);
    spdlog::info("service detection: {} probes, {} match lines from {} ({:.0f} ms)", db.probes().size(),
                 db.match_count(), db.source(), seconds(Clock::now() - started) * 1000);
    return db;
}

ServiceScan::ServiceScan(const services::ServiceProber& prober, ResultSink& next, bool shared_ports)
    : stream_(prober, [this](const services::ServiceTarget& t, const services::ServiceResult& r) { done(t, r); }),
      next_(next),
      shared_(shared_ports) {}

ServiceScan::~ServiceScan() = default;

bool ServiceScan::wanted(const Result& r) {
    switch (r.protocol) {
        case Protocol::Tcp: return r.state == State::Open;
        case Protocol::Udp: return r.state == State::Open || r.state == State::OpenFiltered;
        default: return false;
    }
}

void ServiceScan::on_result(const Result& r) {
    if (!wanted(r)) {
        next_.on_result(r);
    } else {
        const Key key{r.host, r.port, r.protocol == Protocol::Udp};
        if (shared_) {
            if (const auto it = found_.find(key); it != found_.end()) return pass(r, it->second);
        }
        auto [it, first] = held_.try_emplace(key);
        it->second.push_back(r);
        if (first) {
            ++probed_;
            stream_.add({r.host, r.port, key.udp});  // may report at once (an excluded port)
        }
    }
    // The prober's turn, also while the engine has no time to wait.
    if (stream_.pending() > 0 && Clock::now() - last_step_ >= kStepEvery) step(milliseconds(0));
}

void ServiceScan::done(const services::ServiceTarget& t, const services::ServiceResult& r) {
    const Key key{t.host, t.port, t.udp};
    const auto it = held_.find(key);
    if (it == held_.end()) return;
    const std::vector<Result> results = std::move(it->second);
    held_.erase(it);
    const Found f{service_info(t, r), r.answered};
    if (r.identified) ++identified_;
    if (shared_) {
        found_.insert_or_assign(key, f);
        found_order_.push_back(key);
        while (found_order_.size() > kFoundKept) {
            found_.erase(found_order_.front());
            found_order_.pop_front();
        }
    }
    for (const Result& res : results) pass(res, f);
}

void ServiceScan::pass(Result r, const Found& f) {
    // nmap: a port that answered a probe is open, whatever the port scan could tell
    // ("Discovered open|filtered port 5300/udp ... is actually open"), with the reason
    // udp-response and no TTL.
    if (r.state == State::OpenFiltered && f.answered) {
        spdlog::info("{} port {}/{} answered a service probe: open", r.host.str(), r.port, protocol_name(r.protocol));
        r.state = State::Open;
        r.reason = r.protocol == Protocol::Udp ? "udp-response" : "tcp-response";
        r.ttl = 0;
    }
    r.service = std::make_shared<const ServiceInfo>(f.info);
    next_.on_result(r);
}

void ServiceScan::note_stop() {
    if (!stop_seen_ && stop_requested()) stop_seen_ = Clock::now();
}

void ServiceScan::step(milliseconds wait) {
    note_stop();
    last_step_ = Clock::now();
    if (stream_.pending() == 0) return;
    stream_.step(wait);
}

Waiter ServiceScan::waiter(const TimeSource& time) {
    return [this, &time, plain = poll_waiter(time)](std::span<ProbeIo* const> ios, Clock::time_point until) {
        if (stream_.pending() == 0) {
            plain(ios, until);
            note_stop();
            return;
        }
        pollfd fds[5];
        nfds_t n = 0;
        for (ProbeIo* io : ios)
            if (n < 4) fds[n++] = {io->wait_fd(), POLLIN, 0};
        fds[n++] = {stream_.fd(), POLLIN, 0};
        auto left = std::chrono::ceil<milliseconds>(until - time.now());
        const auto due = stream_.next_due();
        if (due != services::ServiceStream::Clock::time_point::max())
            left = std::min(left, std::chrono::ceil<milliseconds>(due - services::ServiceStream::Clock::now()));
        poll(fds, n, static_cast<int>(std::clamp<long long>(left.count(), 0, 1000)));
        step(milliseconds(0));
    };
}

void ServiceScan::finish(Progress& progress) {
    const std::uint64_t total = probed_;
    while (stream_.pending() > 0) {
        note_stop();
        if (hurry_requested()) break;
        if (stop_seen_ && Clock::now() - *stop_seen_ >= kStopGrace) break;
        step(milliseconds(50));
        if (progress.due())
            progress.show(fmt::format("service detection: {} of {} ports done, {} in progress", total - held_.size(),
                                      total, stream_.in_progress()));
    }
    if (held_.empty()) return;
    // Stopped: what is still being identified is not written (see the header).
    for (const auto& [key, results] : held_) dropped_ += results.size();
    spdlog::warn("interrupted: {} open port(s) were still being identified and are not written (--resume scans them "
                 "again)",
                 held_.size());
    stream_.abandon();
    held_.clear();
}

}  // namespace scanfw
